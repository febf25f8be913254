// Sweeps: a TOML file that names many training runs, and a scheduler that runs them on every
// core, each finished run committed on its own, resumable after any interruption.
//
// The file has a [base] table of `train` options (the same names as TrainConfig's JSON keys),
// a [grid] table of axes whose Cartesian product is swept over the base, and optional [[runs]]
// entries, each the base plus its own overrides and, optionally, its own [runs.grid]:
//
//   [base]
//   dataset = "mnist"
//   loss = "ce"
//   stop = ["margin:10:0.99"]
//   [grid]
//   width = [64, 128, 256]
//   m = [512, 1024]
//   seed = [1, 2]
//   [[runs]]            # the noise sweep at one m
//   m = 1024
//   [runs.grid]
//   noise = [0.1, 0.2]
//   width = [64, 128, 256]
//
// Configurations with the same config_hash are run once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "run/run.hpp"
#include "train/config.hpp"

namespace initscope {

struct Sweep {
  std::filesystem::path file;
  std::vector<TrainConfig> runs;  // in file order, duplicates removed
  std::string description;        // the file's `description`, or ""
  std::string id;  // 16 hex digits of the file's bytes (FNV-1a): one per version of the file
};

/// Runs a sweep may expand to unless the user allows more (--max-runs N). Three lines of TOML
/// can name 10^7 runs, which no scheduler should hold in memory or start by accident
/// (reliability B7); 10^5 runs of a minute each are already 70 CPU-days.
inline constexpr uint64_t k_sweep_max_runs = 100000;

/// One part of a sweep file, not yet expanded: a base (options with the lines they stand on)
/// and the grid axes swept over it. [base] with [grid] is one block; each [[runs]] entry, with
/// its [runs.grid], is another.
struct SweepBlock {
  struct Axis {
    std::string key;
    std::vector<nlohmann::json> values;
    int64_t line = 0;
  };
  nlohmann::json base = nlohmann::json::object();
  nlohmann::json under = nlohmann::json::object();  // [base]'s values an entry's keys override
  std::map<std::string, int64_t> lines;             // the line of each key of `base`
  std::vector<Axis> axes;
  int64_t line = 0;  // the [grid] table's or the [[runs]] entry's
  /// The number of configurations (the product of the axes' lengths), saturating at 2^64 − 1.
  uint64_t size() const;
};

/// A sweep file parsed and its options checked one by one, before expansion.
struct SweepPlan {
  std::filesystem::path file;
  std::vector<SweepBlock> blocks;
  std::string description;  // the file's `description`, or ""
  std::string id;           // as Sweep::id
  /// Configurations before duplicates are removed: what expansion would cost, known up front.
  uint64_t size() const;
};

/// Parses a sweep file and checks each option's own value. Syntax errors, unknown keys and bad
/// values throw Error naming the file and line. Nothing is expanded.
SweepPlan sweep_parse(const std::filesystem::path& file);

/// Expands `plan` one configuration at a time, in file order (in a grid, the first axis varies
/// fastest), validates each whole (the options against each other: reliability B13, a valid
/// combination spread over two axes) and calls `each` with every configuration not seen before.
/// Memory: one configuration, plus 8 bytes per distinct one to recognise duplicates. An invalid
/// configuration throws Error naming the line to blame and its axis values.
void sweep_expand(const SweepPlan& plan, const std::function<void(const TrainConfig&)>& each);

/// Parses and expands a sweep file. Throws Error naming the file and line for bad input, and
/// for a sweep of more than `max_runs` configurations (before any is expanded).
Sweep sweep_load(const std::filesystem::path& file, uint64_t max_runs = k_sweep_max_runs);

/// Keys whose values differ between the sweep's runs (to label runs compactly).
std::vector<std::string> sweep_axes(const Sweep& sweep);
/// The same from the plan, without expanding it: the grid axes with more than one value and
/// the options on which the blocks' first configurations differ.
std::vector<std::string> sweep_axes(const SweepPlan& plan);

/// "width=256 m=1024 seed=2" for the given keys.
std::string describe(const TrainConfig& c, const std::vector<std::string>& keys);

/// How a sweep fills the cores (placement.hpp).
///  automatic: from the machine's calibration (measured once when a sweep is long enough to
///             repay it, stored in the data directory): each run whose `threads` is 1 gets the
///             thread count of the highest throughput at its width, and runs start while their
///             threads fit in the cores. Without a calibration, one single-threaded run per core.
///  fixed:     `jobs` runs at once (0: one per core), each with its config's `threads`.
enum class Placement { automatic, fixed };

struct SweepOptions {
  std::filesystem::path db;
  RunOptions run;                              // data_dir; claim is always set by the scheduler
  int jobs = 0;                                // concurrent runs; 0 = one per core
  Placement placement = Placement::automatic;  // automatic needs jobs = 0
  // automatic: a sweep whose runs the cost model gives fewer single-threaded seconds than this
  // is not worth calibrating for (about 5 s) when no calibration is stored.
  double calibrate_above_seconds = 120.0;
  bool retry_failed = false;  // run configs whose only rows are `failed` again
  // How progress shows on stderr: bar (a line redrawn in place: a terminal), lines (a status
  // line every progress_every seconds and one line per finished run: logs), none (failures
  // only).
  ProgressMode progress = ProgressMode::bar;
  double progress_every = 30.0;
};

struct SweepSummary {
  int total = 0;      // runs in the sweep
  int skipped = 0;    // already done (completed, diverged, or failed unless retry_failed) before or
                      // during this call
  int completed = 0;  // of which converged below
  int converged = 0;
  int diverged = 0;
  int failed = 0;
  int interrupted = 0;    // stale `running` rows of earlier, killed sweeps marked `interrupted`
  int stopped_runs = 0;   // runs in flight when the sweep was stopped, stored `interrupted`
  std::string placement;  // what the scheduler chose, in one line (printed unless progress none)
  bool stopped = false;   // Ctrl-C or SIGTERM stopped the sweep early
  int signal = 0;         // the signal that stopped it
  double seconds = 0.0;
};

/// The cost model, shared by the scheduler's longest-first order, shards and Slurm time limits.
/// run_cost: multiply-adds of one epoch's forward pass (m × the network's weights); it orders
/// runs and needs no calibration. estimated_epochs: epochs until the stopping criterion, from
/// the criterion and the label noise, capped by max_epochs and max_steps (a rough guess
/// calibrated on the quick Figure-1 sweep and the paper-scale runs in the experiment files'
/// notes; it can be off by 2× either way). estimated_run_seconds: one single-threaded run on
/// one core: training (6 FLOPs per multiply-add of the forward: forward and backward), the
/// stopping checks, the final measures and a fixed start-up, at the rate of the reference
/// machine's AVX-512 cores (100 GFLOP/s with everything around the step); AVX2-only cores
/// take about twice as long.
double run_cost(const TrainConfig& c);
double estimated_epochs(const TrainConfig& c);
double estimated_run_seconds(const TrainConfig& c);

/// Runs every run of `sweep` not yet done in the database, `jobs` at a time, each in its own
/// process with one BLAS thread. Returns when all are done or the sweep is stopped (SIGINT or
/// SIGTERM: the runs in flight are stored `interrupted`, and run again by the next sweep). A run
/// whose process dies without a result (an abort) is recorded `failed`.
SweepSummary sweep_run(const Sweep& sweep, const SweepOptions& options);

}  // namespace initscope
