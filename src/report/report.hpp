// `initscope report`: read every run of a results database, hand each registered study
// (study.hpp) the runs it selects, let it check its paper's claims and draw its figures with
// gnuplot, and write one self-contained page DIR/index.html (page.hpp; plus its PNGs and the
// .gp/.dat files that re-draw them).
// Deliberately left out: printing (the CLI prints the claim lines) and any network access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "report/claims.hpp"
#include "report/study.hpp"
#include "store/db.hpp"

namespace initscope::report {

struct ReportOptions {
  std::filesystem::path db;     // --db, shown on the page
  std::filesystem::path out;    // --out: the report folder, created if missing
  int resamples = 2000;         // bootstrap resamples per power-law fit
  uint64_t seed = 1;            // seeds the bootstrap
  bool include_capped = false;  // --include-capped: runs a cap ended count, marked as such
};

struct ReportResult {
  std::vector<Claim> claims;    // each study's claims, studies in registered order
  std::filesystem::path index;  // DIR/index.html
  int plots = 0;                // PNGs drawn
  /// What the page warns about at its top (many runs excluded, capped runs left out or
  /// included, repeats counted once), as plain text for the terminal.
  std::vector<std::string> warnings;
};

/// Opens options.db and writes the report. Throws Error naming --db if the file is missing,
/// not a database, or holds no runs, and naming --out if the folder cannot be written.
ReportResult write_report(const ReportOptions& options);

/// Reads a run's trajectory (Db::trajectory), for the learning curves.
using TrajectorySource = std::function<std::vector<TrajectoryPoint>(int64_t id)>;
using ArtifactSource = std::function<std::map<std::string, nlohmann::json>(int64_t id)>;

/// Writes the report for these runs (options.db is only shown on the page; without
/// `trajectory` the page has no learning curves). Throws Error naming --db if `runs` is empty
/// and --out if the folder cannot be written.
ReportResult write_report(const std::vector<RunRecord>& runs, const ReportOptions& options,
                          const TrajectorySource& trajectory = {});

/// The same with these studies in place of registered_studies() (tests pass their own).
ReportResult write_report(const std::vector<RunRecord>& runs, const ReportOptions& options,
                          const std::vector<StudyFactory>& studies,
                          const TrajectorySource& trajectory = {},
                          const ArtifactSource& artifacts = {});

}  // namespace initscope::report
