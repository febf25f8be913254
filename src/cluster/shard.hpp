// Shards: a sweep cut into N parts that run on different machines (Slurm array tasks,
// Kubernetes indexed Jobs), each into its own database, merged afterwards (merge.hpp).
// The partition is longest-processing-time-first over the cost model (estimated_run_seconds):
// runs in decreasing estimated time, each to the shard with the least estimated time so far
// (ties: the lower shard index, and the earlier run in the file). It depends only on the sweep
// file, never on a database, so every task of an array computes the same shards, and a
// resubmitted task gets back exactly the runs it had. Left out: work stealing between shards
// (a shard that finishes early idles; the cost model keeps that short).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sweep/sweep.hpp"

namespace initscope {

/// Shard `index` of `count`, 0 ≤ index < count.
struct ShardSpec {
  int index = 0;
  int count = 1;
};

/// Reads an environment variable (std::getenv in the CLI; a map in the tests).
using EnvFn = std::function<const char*(const char*)>;

/// Parses `--shard`: "i/N" with 0 ≤ i < N; "auto" takes i from SLURM_ARRAY_TASK_ID and N from
/// SLURM_ARRAY_TASK_COUNT (a Slurm array submitted as --array=0-(N-1)); "auto/N" takes only i
/// from the environment: SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX (a Kubernetes indexed
/// Job, which has no count variable). Throws Error naming --shard for anything else, and for
/// "auto" outside an array task.
ShardSpec parse_shard(const std::string& text, const EnvFn& env);

/// The LPT partition: for each of `count` shards, the indices into `runs` it holds, in file
/// order.
std::vector<std::vector<size_t>> partition_runs(const std::vector<TrainConfig>& runs, int count);

/// The runs of one shard, as a sweep of its own (same file, its runs in file order).
Sweep shard_sweep(const Sweep& sweep, ShardSpec shard);

/// Estimated single-core seconds of each shard (the sum of its runs' estimated_run_seconds).
std::vector<double> shard_seconds(const std::vector<TrainConfig>& runs,
                                  const std::vector<std::vector<size_t>>& parts);

/// A database path for one shard: `%i` becomes the shard index, `%n` the shard count and `%%`
/// a percent sign ("results/shard-%i.db" → "results/shard-3.db"). Throws Error naming `flag`
/// for another `%` sequence.
std::string expand_shard_template(const std::string& pattern, ShardSpec shard,
                                  const std::string& flag = "--db");

/// True if `pattern` contains `%i`.
bool has_shard_placeholder(const std::string& pattern);

}  // namespace initscope
