// Shards (src/cluster/shard.hpp): --shard parsing with and without an array task's
// environment, the LPT partition (deterministic, every run exactly once, balanced), and the
// database templates.
#include "cluster/shard.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "common/error.hpp"

namespace initscope {
namespace {

EnvFn env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

std::string error_of(const std::string& text, const EnvFn& env) {
  try {
    parse_shard(text, env);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ParseShard, IndexOverCount) {
  const auto s = parse_shard("3/4", env_of({}));
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(parse_shard("0/1", env_of({})).count, 1);
}

TEST(ParseShard, BadInputNamesTheFlag) {
  for (const char* bad : {"5/4", "4/4", "0/0", "1", "a/4", "1/b", "-1/4", "1/4/2", ""}) {
    const std::string e = error_of(bad, env_of({}));
    EXPECT_NE(e.find("--shard"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_NE(error_of("5/4", env_of({})).find("numbered 0 to 3"), std::string::npos);
  EXPECT_NE(error_of("0/0", env_of({})).find("at least 1"), std::string::npos);
}

TEST(ParseShard, AutoFromASlurmArrayTask) {
  const auto s =
      parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 4);
  // A resubmitted single task (--array=2) has SLURM_ARRAY_TASK_COUNT=1: auto/N keeps N.
  const auto r = parse_shard(
      "auto/4", env_of({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "1"}}));
  EXPECT_EQ(r.index, 2);
  EXPECT_EQ(r.count, 4);
}

TEST(ParseShard, AutoFromAKubernetesIndexedJob) {
  const auto s = parse_shard("auto/8", env_of({{"JOB_COMPLETION_INDEX", "7"}}));
  EXPECT_EQ(s.index, 7);
  EXPECT_EQ(s.count, 8);
  EXPECT_NE(error_of("auto", env_of({{"JOB_COMPLETION_INDEX", "7"}})).find("auto/N"),
            std::string::npos);
}

TEST(ParseShard, AutoOutsideAnArrayIsAnError) {
  const std::string e = error_of("auto", env_of({}));
  EXPECT_NE(e.find("SLURM_ARRAY_TASK_ID"), std::string::npos) << e;
  EXPECT_NE(e.find("give i/N"), std::string::npos) << e;
  EXPECT_NE(
      error_of("auto", env_of({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}))
          .find("--array=0-3"),
      std::string::npos);
}

std::vector<TrainConfig> grid() {
  std::vector<TrainConfig> runs;
  for (const int width : {64, 128, 256, 512, 1024})
    for (const int64_t m : {1024, 4096, 8192})
      for (const uint64_t seed : {1, 2, 3}) {
        TrainConfig c;
        c.width = width;
        c.m = m;
        c.seed = seed;
        c.stop = {"margin:10:0.9"};
        runs.push_back(c);
      }
  return runs;
}

TEST(Partition, EveryRunInExactlyOneShardInFileOrder) {
  const auto runs = grid();
  for (const int n : {1, 2, 4, 7, 45, 60}) {
    const auto parts = partition_runs(runs, n);
    ASSERT_EQ(parts.size(), static_cast<size_t>(n));
    std::vector<size_t> all;
    for (const auto& p : parts) {
      EXPECT_TRUE(std::is_sorted(p.begin(), p.end()));
      all.insert(all.end(), p.begin(), p.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<size_t> expect(runs.size());
    std::iota(expect.begin(), expect.end(), size_t{0});
    EXPECT_EQ(all, expect) << n << " shards";
  }
}

TEST(Partition, DeterministicAndBalanced) {
  const auto runs = grid();
  EXPECT_EQ(partition_runs(runs, 4), partition_runs(runs, 4));
  const auto parts = partition_runs(runs, 4);
  const auto secs = shard_seconds(runs, parts);
  const double total = std::accumulate(secs.begin(), secs.end(), 0.0);
  double longest_run = 0.0;
  for (const auto& c : runs) longest_run = std::max(longest_run, estimated_run_seconds(c));
  // LPT's bound: no shard exceeds the mean by more than the longest run.
  for (const double s : secs) EXPECT_LE(s, total / 4 + longest_run);
  // The most expensive runs (H = 1024, m = 8192) go to different shards.
  std::vector<int> where;
  for (size_t k = 0; k < parts.size(); ++k)
    for (const size_t i : parts[k])
      if (runs[i].width == 1024 && runs[i].m == 8192) where.push_back(static_cast<int>(k));
  std::sort(where.begin(), where.end());
  EXPECT_EQ(where, (std::vector<int>{0, 1, 2}));
}

TEST(Partition, MoreShardsThanRunsLeavesSomeEmpty) {
  auto runs = grid();
  runs.resize(3);
  const auto parts = partition_runs(runs, 5);
  EXPECT_EQ(parts[3].size() + parts[4].size(), 0u);
}

TEST(ShardTemplate, ExpandsIndexCountAndPercent) {
  EXPECT_EQ(expand_shard_template("results/shard-%i.db", {3, 4}), "results/shard-3.db");
  EXPECT_EQ(expand_shard_template("r/%i-of-%n-100%%.db", {0, 8}), "r/0-of-8-100%.db");
  EXPECT_EQ(expand_shard_template("plain.db", {1, 2}), "plain.db");
  EXPECT_THROW(expand_shard_template("shard-%d.db", {1, 2}), Error);
  EXPECT_TRUE(has_shard_placeholder("a/%i.db"));
  EXPECT_FALSE(has_shard_placeholder("a/%%i.db"));
  EXPECT_FALSE(has_shard_placeholder("a/%n.db"));
}

}  // namespace
}  // namespace initscope
