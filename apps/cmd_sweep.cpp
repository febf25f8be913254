// `initscope sweep FILE.toml`: run every configuration of a sweep file into the database.
#include <set>

#include <fmt/core.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "data/dataset.hpp"
#include "store/db.hpp"
#include "sweep/sweep.hpp"

namespace initscope::cli {

void add_sweep(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand("sweep", "Run every configuration of a sweep file (resumable)");
  auto file = std::make_shared<std::string>();
  auto jobs = std::make_shared<int>(0);
  auto dry = std::make_shared<bool>(false);
  cmd->add_option("file", *file, "sweep file (TOML with [base], [grid] and [[runs]])")->required();
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_option("--data-dir", common.data_dir,
                  "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  cmd->add_option("--jobs", *jobs, "runs at once (default: one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--dry-run", *dry, "print the number of runs and list them; run nothing");
  cmd->callback([=, &common] {
    const Sweep sweep = sweep_load(*file);
    if (*dry) {
      const auto axes = sweep_axes(sweep);
      std::set<std::string> done;
      if (std::filesystem::exists(common.db)) {
        Db db(common.db);
        for (const auto& r : db.runs())
          // Today's identity of each stored run, without upgrading the file: a dry run writes
          // nothing.
          if (r.status == k_status_completed) done.insert(config_hash_of_stored(r.config));
      }
      fmt::print("{} runs\n", sweep.runs.size());
      size_t i = 0;
      for (const auto& c : sweep.runs) {
        const std::string h = config_hash(c);
        fmt::print("{:>5}  {}  {}{}\n", ++i, h, describe(c, axes),
                   done.count(h) ? "  [completed]" : "");
      }
      return;
    }
    SweepOptions o;
    o.db = common.db;
    o.run.data_dir = data_dir(common.data_dir);
    o.jobs = *jobs;
    const SweepSummary s = sweep_run(sweep, o);
    fmt::print(
        "sweep {}: {} runs: {} already done, {} completed ({} converged, {} stopped by a cap), "
        "{} diverged, {} failed in {:.0f}s{}\n",
        *file, s.total, s.skipped, s.completed, s.converged, s.completed - s.converged, s.diverged,
        s.failed, s.seconds,
        s.interrupted
            ? fmt::format("; {} interrupted runs of an earlier sweep found", s.interrupted)
            : "");
    if (s.stopped)
      throw Error("sweep stopped before it finished; run the same command again to resume");
    if (s.failed)
      throw Error(fmt::format(
          "{} runs failed; their errors are above and in the database (initscope runs)", s.failed));
  });
}

}  // namespace initscope::cli
