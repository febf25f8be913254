// Reading the runs, running the studies and writing the page (see report.hpp).
#include "report/report.hpp"

#include <fstream>
#include <system_error>

#include <fmt/core.h>

#include "common/error.hpp"
#include "report/aggregate.hpp"
#include "report/page.hpp"

namespace initscope::report {

namespace fs = std::filesystem;

namespace {

// Creates the report folder and makes sure files can be written in it, before any work, naming
// the flag rather than a file in it.
void prepare_folder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error(fmt::format("--out {}: cannot create the report folder ({})", dir.string(),
                            ec ? ec.message() : "a file of that name exists"));
  const fs::path probe = dir / ".initscope_write_test";
  const bool writable = static_cast<bool>(std::ofstream(probe));
  fs::remove(probe, ec);
  if (!writable)
    throw Error(fmt::format("--out {}: cannot write files in that folder", dir.string()));
}

}  // namespace

ReportResult write_report(const ReportOptions& options) {
  if (!fs::exists(options.db))
    throw Error(
        fmt::format("--db {}: no such database file (pass the results database to report on)",
                    options.db.string()));
  Db db(options.db);
  return write_report(db.runs(), options);
}

ReportResult write_report(const std::vector<RunRecord>& runs, const ReportOptions& options) {
  return write_report(runs, options, registered_studies());
}

ReportResult write_report(const std::vector<RunRecord>& runs, const ReportOptions& options,
                          const std::vector<StudyFactory>& studies) {
  if (runs.empty())
    throw Error(fmt::format("--db {}: the database holds no runs; train or sweep into it first",
                            options.db.string()));
  prepare_folder(options.out);
  Page page(options.db, options.out, runs);
  const StudyContext context{options.resamples, options.seed};
  for (const StudyFactory make : studies) {
    const auto study = make();
    auto selected = study->select(runs);
    if (selected.empty()) continue;
    // Excluded runs are listed by the page and never reach a study's figures or claims.
    std::erase_if(selected, [](const RunRecord* r) { return classify(*r) == RunUse::excluded; });
    page.add_claims(study->build(selected, context, page));
  }
  ReportResult result;
  result.index = page.write();
  result.claims = page.claims();
  result.plots = page.plots();
  return result;
}

}  // namespace initscope::report
