// The Slurm array script for a sharded sweep: one array task per shard, each running
// `initscope sweep FILE --shard auto/N --db TEMPLATE` with its time limit from the cost model.
// The script is plain text for the user to read, edit and submit; this file never talks to
// Slurm (`initscope slurm --submit` runs sbatch on it). Left out: job dependencies (a merge
// job after the array; the merge is one command run where the databases are).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sweep/sweep.hpp"

namespace initscope {

struct SbatchOptions {
  int shards = 1;
  std::string time = "auto";  // "auto" or a Slurm time limit (MM:SS, HH:MM:SS, D-HH:MM:SS)
  int cpus_per_task = 1;      // runs at once in a task (`sweep --jobs`)
  std::string partition, account, mem, job_name;
  std::vector<std::string> extra;          // more #SBATCH lines ("--qos=long")
  std::string db = "results/shard-%i.db";  // each task's database (shard.hpp's templates)
  std::filesystem::path binary;            // absolute paths, resolved by the caller
  std::filesystem::path data_dir;
  std::filesystem::path workdir;
  uint64_t max_runs = 0;  // `sweep --max-runs` for the tasks, for a sweep above its limit; 0: none
};

struct SbatchPlan {
  std::string script;
  std::vector<size_t> task_runs;         // runs per task
  std::vector<double> task_cpu_seconds;  // estimated single-core seconds per task
  double total_cpu_seconds = 0.0;        // the sweep's estimate: the sum of the tasks'
  double longest_task_seconds = 0.0;     // the slowest task's estimated wall time
  std::string time_limit;                // as written in the script
};

/// The margin `--time auto` adds to the slowest task's estimate: ×1.5 plus 10 minutes.
double time_with_margin(double seconds);

/// Slurm's time format: "HH:MM:SS", or "D-HH:MM:SS" from a day on (rounded up to a minute).
std::string format_slurm_time(double seconds);
/// Seconds of a Slurm time limit "MM:SS", "HH:MM:SS" or "D-HH:MM:SS"; throws Error naming
/// `flag` otherwise.
double parse_slurm_time(const std::string& text, const std::string& flag = "--time");

/// The script for `sweep` (its file must be an absolute path). Throws Error for options Slurm
/// would refuse, and for a --time shorter than the slowest task's estimate.
SbatchPlan make_sbatch(const Sweep& sweep, const SbatchOptions& options);

/// `text` single-quoted for the shell.
std::string shell_quote(const std::string& text);

}  // namespace initscope
