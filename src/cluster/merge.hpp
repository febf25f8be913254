// Merge: the shards' databases (or any initscope databases) brought into one, so that report
// and export read a cluster sweep as they read a local one. SQLite on a network filesystem is
// not safe to share between nodes; each shard writes its own file and this joins them.
// What is copied: every finished run (completed, diverged, failed) with its row as it was
// (created, seed, config, hash, version, host, pid), metrics, trajectory and artifacts, plus a
// `merged_from` artifact: the list of {file, run_id} it was copied from. Skipped: a run whose
// (config_hash, seed, status) the output already holds, so merging again, or merging a
// resubmitted shard, adds only what is new; if such a completed run's results differ (any
// metric but the *_seconds timings), that is a conflict: reported, and the output keeps its
// run. Runs still `running` or `interrupted` carry no results and are counted, not copied.
// All sources are checked before the output is opened: a missing, foreign or other-schema file
// stops the merge with one message and nothing written; the copy itself is one transaction.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace initscope {

struct MergeSourceSummary {
  std::filesystem::path file;
  int copied = 0;      // new runs written to the output
  int present = 0;     // already there with the same results
  int conflicts = 0;   // already there, completed, with different results (not copied)
  int unfinished = 0;  // running or interrupted rows (not copied)
};

struct MergeSummary {
  std::vector<MergeSourceSummary> sources;
  std::vector<std::string> conflicts;  // one line each
  int copied = 0, present = 0, conflict_count = 0, unfinished = 0;
};

/// Merges `sources` into `out` (created if missing). Each source's run identities, and the
/// output's, are first brought to today's config schema (upgrade_run_identities), so runs
/// stored by different initscope versions compare by what they ran. Throws Error naming the
/// file for a missing, foreign or other-schema source, for an output that is one of the
/// sources, and on any database error; then the output is as it was (removed if it was new).
MergeSummary merge_databases(const std::filesystem::path& out,
                             const std::vector<std::filesystem::path>& sources);

}  // namespace initscope
