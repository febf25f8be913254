// Reading the runs, running the studies and writing the page (see report.hpp).
#include "report/report.hpp"

#include <algorithm>
#include <fstream>
#include <system_error>
#include <utility>

#include <fmt/core.h>

#include "common/error.hpp"
#include "report/aggregate.hpp"
#include "report/curves.hpp"
#include "report/page.hpp"
#include "train/config.hpp"

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

// Runs by configuration, then seed, then id: the order in which sums and bootstrap resamples see
// them, so that a report depends on which runs a database holds, not on the order they were
// written in (a merged database holds them in shard order, a local sweep in completion order;
// in row order the bootstrap intervals and the last digits of means differed between the two).
void canonical_order(std::vector<const RunRecord*>& runs) {
  std::vector<std::pair<std::string, const RunRecord*>> keyed;
  keyed.reserve(runs.size());
  for (const RunRecord* r : runs) {
    nlohmann::json c = normalized_config(r->config);
    c.erase("seed");
    keyed.emplace_back(c.dump(), r);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    if (a.second->seed != b.second->seed) return a.second->seed < b.second->seed;
    return a.second->id < b.second->id;
  });
  for (size_t i = 0; i < runs.size(); ++i) runs[i] = keyed[i].second;
}

}  // namespace

ReportResult write_report(const ReportOptions& options) {
  if (!fs::exists(options.db))
    throw Error(
        fmt::format("--db {}: no such database file (pass the results database to report on)",
                    options.db.string()));
  Db db(options.db, DbMode::read_only);
  // The studies are about runs initscope trained; weights it only measured (initscope measure)
  // have no training to report, and `rank` is where they are compared.
  std::vector<RunRecord> runs = db.runs();
  std::erase_if(runs, [](const RunRecord& r) { return r.kind == k_kind_measured; });
  return write_report(
      runs, options, registered_studies(), [&db](int64_t id) { return db.trajectory(id); },
      [&db](int64_t id) { return db.artifacts(id); });
}

ReportResult write_report(const std::vector<RunRecord>& runs, const ReportOptions& options,
                          const TrajectorySource& trajectory) {
  return write_report(runs, options, registered_studies(), trajectory);
}

ReportResult write_report(const std::vector<RunRecord>& runs, const ReportOptions& options,
                          const std::vector<StudyFactory>& studies,
                          const TrajectorySource& trajectory, const ArtifactSource& artifacts) {
  if (runs.empty())
    throw Error(fmt::format("--db {}: the database holds no runs; train or sweep into it first",
                            options.db.string()));
  prepare_folder(options.out);
  // Each configuration and seed once: the studies see the kept repeats only.
  std::vector<const RunRecord*> all;
  all.reserve(runs.size());
  for (const auto& r : runs) all.push_back(&r);
  const Repeats repeats = drop_repeats(all);
  std::vector<RunRecord> kept;
  kept.reserve(repeats.kept.size());
  for (const RunRecord* r : repeats.kept) kept.push_back(*r);

  Page page(options.db, options.out, runs, options.include_capped);
  page.set_repeats(repeats.superseded);
  for (const StudyFactory make : studies) {
    const auto study = make();
    auto selected = study->select(kept);
    if (selected.empty()) continue;
    StudyContext context{options.resamples, options.seed, options.include_capped, {},
                         trajectory,        artifacts};
    // Excluded runs are counted beside the claims and listed by the page, never in a figure or
    // a statistic.
    for (const RunRecord* r : selected)
      if (classify(*r, options.include_capped) == RunUse::excluded) context.excluded.push_back(r);
    std::erase_if(selected, [&](const RunRecord* r) {
      return classify(*r, options.include_capped) == RunUse::excluded;
    });
    canonical_order(selected);
    canonical_order(context.excluded);
    page.add_claims(study->build(selected, context, page));
    if (trajectory) learning_curves(page, selected, trajectory, study->name());
  }
  ReportResult result;
  result.index = page.write();
  result.claims = page.claims();
  result.plots = page.plots();
  result.warnings = page.warnings_text();
  return result;
}

}  // namespace initscope::report
