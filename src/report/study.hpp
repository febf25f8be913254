// A study: one paper's part of the report. It says which runs it reads, adds its sections,
// figures and tables to the page, and states and computes its claims. write_report() hands each
// registered study its runs and puts what it adds on one page (page.hpp).
//
// Adding a study: a new file pair under src/report/studies/, one line in
// registered_studies() (studies/registry.cpp), the .cpp in src/report/CMakeLists.txt, and a
// test under tests/report/studies/ (see CONTRIBUTING.md, "Recipe: add a study").
// Deliberately left out: the page's generic parts (run counts, claims table, excluded runs),
// which no study draws itself.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "report/claims.hpp"
#include "report/page.hpp"
#include "store/db.hpp"

namespace initscope::report {

/// What a study may use besides its runs.
struct StudyContext {
  int resamples = 2000;  // bootstrap resamples per fit
  uint64_t seed = 1;     // seeds every bootstrap (derive_seed per fit)
  /// Runs a cap ended count as trained (report --include-capped); classify() with it.
  bool include_capped = false;
  /// The selected runs the report leaves out (capped unless included, diverged, collapsed,
  /// failed, unfinished), canonically ordered: never in a statistic, counted beside the claims.
  std::vector<const RunRecord*> excluded = {};
  /// A run's stored trajectory, for learning curves; empty when the runs came without a
  /// database (tests that pass RunRecords).
  std::function<std::vector<TrajectoryPoint>(int64_t id)> trajectory = {};
  /// A run's stored artifacts (spectra, images) by name; empty when the runs came without a
  /// database: the figures that need them are then left out.
  std::function<std::map<std::string, nlohmann::json>(int64_t id)> artifacts = {};
};

class Study {
 public:
  virtual ~Study() = default;

  /// Short name ("nk17").
  virtual std::string name() const = 0;

  /// The runs this study is about, out of every run in the database (oldest first). If none,
  /// the study is left off the page.
  virtual std::vector<const RunRecord*> select(const std::vector<RunRecord>& all) const = 0;

  /// Adds the study's sections to `page` and returns its claims, in the order they are listed.
  /// `runs` is the selection without repeats (drop_repeats) and without the runs the report
  /// excludes (classify(): capped, diverged, collapsed, failed, unfinished), which the page
  /// lists and `context.excluded` holds; it may be empty.
  virtual std::vector<Claim> build(const std::vector<const RunRecord*>& runs,
                                   const StudyContext& context, Page& page) const = 0;
};

using StudyFactory = std::unique_ptr<Study> (*)();

/// Every study the report knows, in the order their sections and claims appear.
const std::vector<StudyFactory>& registered_studies();

}  // namespace initscope::report
