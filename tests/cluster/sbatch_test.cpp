// The sbatch script writer (src/cluster/sbatch.hpp): the per-task estimates add up to the
// sweep's total, --time auto covers the slowest task with a margin, a too-short --time and
// bad options are refused, and the script holds the lines Slurm needs.
#include "cluster/sbatch.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "common/error.hpp"

namespace initscope {
namespace {

Sweep quickish() {
  Sweep s;
  s.file = "/work/x/fig1.toml";
  for (const int width : {64, 256, 1024})
    for (const int64_t m : {1024, 4096})
      for (const uint64_t seed : {1, 2}) {
        TrainConfig c;
        c.width = width;
        c.m = m;
        c.seed = seed;
        c.stop = {"margin:10:0.99"};
        s.runs.push_back(c);
      }
  return s;
}

SbatchOptions options(int shards) {
  SbatchOptions o;
  o.shards = shards;
  o.binary = "/opt/initscope/build/initscope";
  o.data_dir = "/data/initscope";
  o.workdir = "/home/u/exp";
  o.db = "/home/u/exp/results/shard-%i.db";
  return o;
}

TEST(Sbatch, TaskEstimatesAddUpToTheTotal) {
  const Sweep s = quickish();
  const SbatchPlan p = make_sbatch(s, options(5));
  double total = 0.0;
  for (const auto& c : s.runs) total += estimated_run_seconds(c);
  EXPECT_NEAR(std::accumulate(p.task_cpu_seconds.begin(), p.task_cpu_seconds.end(), 0.0), total,
              1e-6 * total);
  EXPECT_NEAR(p.total_cpu_seconds, total, 1e-6 * total);
  EXPECT_EQ(std::accumulate(p.task_runs.begin(), p.task_runs.end(), size_t{0}), s.runs.size());
}

TEST(Sbatch, ScriptHasTheArrayTimeAndCommand) {
  SbatchOptions o = options(4);
  o.partition = "cpu";
  o.account = "lab";
  o.mem = "4G";
  o.cpus_per_task = 2;
  o.extra = {"--qos=long", "#SBATCH --mail-type=END"};
  const SbatchPlan p = make_sbatch(quickish(), o);
  for (const std::string line :
       {"#SBATCH --array=0-3\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --partition=cpu\n",
        "#SBATCH --account=lab\n", "#SBATCH --mem=4G\n", "#SBATCH --qos=long\n",
        "#SBATCH --mail-type=END\n", "#SBATCH --output=/home/u/exp/results/slurm-%A_%a.out\n",
        "export INITSCOPE_DATA='/data/initscope'\n",
        "exec '/opt/initscope/build/initscope' sweep '/work/x/fig1.toml' --shard auto/4 "
        "--db '/home/u/exp/results/shard-%i.db' --jobs \"${SLURM_CPUS_PER_TASK:-2}\"\n"})
    EXPECT_NE(p.script.find(line), std::string::npos) << line << "\n" << p.script;
  EXPECT_NE(p.script.find("#SBATCH --time=" + p.time_limit + "\n"), std::string::npos);
  EXPECT_EQ(p.time_limit, format_slurm_time(time_with_margin(p.longest_task_seconds)));
  EXPECT_EQ(p.script.rfind("#!/bin/bash\n", 0), 0u);
}

TEST(Sbatch, TooShortTimeIsRefused) {
  SbatchOptions o = options(2);
  o.time = "00:01:00";
  try {
    make_sbatch(quickish(), o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--time 00:01:00: shorter than"), std::string::npos)
        << e.what();
  }
  o.time = "30-00:00:00";
  EXPECT_EQ(make_sbatch(quickish(), o).time_limit, "30-00:00:00");
}

TEST(Sbatch, BadOptionsAreRefused) {
  SbatchOptions o = options(0);
  EXPECT_THROW(make_sbatch(quickish(), o), Error);
  o = options(4);
  o.db = "/r/shared.db";  // four tasks cannot share one SQLite file on a cluster
  EXPECT_THROW(make_sbatch(quickish(), o), Error);
  o = options(4);
  o.time = "soon";
  EXPECT_THROW(make_sbatch(quickish(), o), Error);
  o = options(4);
  o.extra = {"--a\n--b"};
  EXPECT_THROW(make_sbatch(quickish(), o), Error);
}

TEST(SlurmTime, FormatsAndParses) {
  EXPECT_EQ(format_slurm_time(59), "00:01:00");
  EXPECT_EQ(format_slurm_time(3600), "01:00:00");
  EXPECT_EQ(format_slurm_time(3601), "01:01:00");
  EXPECT_EQ(format_slurm_time(26 * 3600), "1-02:00:00");
  EXPECT_EQ(parse_slurm_time("01:30:00"), 5400);
  EXPECT_EQ(parse_slurm_time("30:00"), 1800);
  EXPECT_EQ(parse_slurm_time("2-01:00:00"), 176400);
  for (const char* bad : {"", "1", "1:2:3:4", "00:61:00", "x:00", "1-30", "00:00:00"})
    EXPECT_THROW(parse_slurm_time(bad), Error) << bad;
}

TEST(ShellQuote, QuotesQuotes) {
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

}  // namespace
}  // namespace initscope
