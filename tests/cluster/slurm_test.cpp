// A real one-node Slurm 22.05 (scripts/slurm-local.sh) runs the quick Figure-1 sweep as an
// array of four shards. One task is cancelled mid-run (scancel JOB_TASK); the shards are merged;
// the array is submitted again, resumes only what the cancelled task lost, and is merged again.
// The merged database must then hold exactly the runs of a local sweep of the same file, each
// config once with the same dist_init, a third merge must copy nothing, and the report of the
// merged database must equal the local one's (claim lines and every figure's data file).
// Skipped only when Slurm cannot be installed (slurm-local.sh exits 77: not root, no apt-get,
// no package). 12 minutes on 2 shared cores (706 s): the sweep runs twice, on Slurm and locally.
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cluster/shard.hpp"
#include "store/db.hpp"
#include "sweep/sweep.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr
};

Result sh(const std::string& cmd) {
  Result r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const std::string k_bin = INITSCOPE_BIN;
const fs::path k_src = INITSCOPE_SOURCE_DIR;
const fs::path k_sweep = k_src / "experiments" / "nk17-fig1-quick.toml";

std::string cluster(const char* action) {
  return fmt::format("'{}' {}", (k_src / "scripts" / "slurm-local.sh").string(), action);
}

// Array tasks of `job` still queued or running.
int tasks_left(const std::string& job) {
  const Result r = sh(fmt::format("squeue -h -r -j {} -o %i", job));
  if (r.code != 0) return 0;  // squeue forgets finished jobs: "Invalid job id"
  return static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n'));
}

bool wait_for(const std::string& job, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (tasks_left(job) > 0) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2s);
  }
  return true;
}

// Finished runs of a database: config_hash → dist_init, and how many rows each hash has.
struct Finished {
  std::map<std::string, double> dist_init;
  std::map<std::string, int> rows;
  size_t size() const { return rows.size(); }
};

Finished finished(const fs::path& db_file) {
  Finished f;
  if (!fs::exists(db_file)) return f;
  Db db(db_file);
  for (const auto& r : db.runs()) {
    if (r.status != k_status_completed && r.status != k_status_diverged) continue;
    ++f.rows[r.config_hash];
    const auto it = r.metrics.find("dist_init");
    f.dist_init[r.config_hash] = it == r.metrics.end() ? -1.0 : it->second;
  }
  return f;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Equal token by token, numbers to 1e-9 relative: the report sums seed groups in row order,
// and the rows of a merged database are in shard order, a local sweep's in completion order
// (which differs between two local sweeps too), so means may differ in the last digit.
// A data file without its '#' comment lines: they label blocks with run ids, which a merged
// database numbers differently from a local one (the learning curves' "run 55 (seed 1)").
std::string without_comments(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (line.empty() || line[0] != '#') out += line + "\n";
  return out;
}

bool same_numbers(const std::string& a_text, const std::string& b_text) {
  const std::string a = without_comments(a_text), b = without_comments(b_text);
  std::istringstream sa(a), sb(b);
  std::string ta, tb;
  while (true) {
    const bool more_a = static_cast<bool>(sa >> ta), more_b = static_cast<bool>(sb >> tb);
    if (more_a != more_b) return false;
    if (!more_a) return true;
    if (ta == tb) continue;
    char *ea = nullptr, *eb = nullptr;
    const double x = std::strtod(ta.c_str(), &ea), y = std::strtod(tb.c_str(), &eb);
    if (*ea != '\0' || *eb != '\0') return false;
    if (std::abs(x - y) > 1e-9 * std::max(std::abs(x), std::abs(y))) return false;
  }
}

// Claim lines without their bootstrap intervals ("[0.259, 0.309]"): the bootstrap resamples
// seed means in row order, so its interval moves in the third digit with the order of rows.
std::string without_intervals(const std::string& line) {
  return std::regex_replace(line, std::regex(R"( \[[-0-9.e]+, [-0-9.e]+\])"), "");
}

// Claim lines (stdout without the `report:` line) and each figure's data file.
std::map<std::string, std::string> report_of(const fs::path& db, const fs::path& out) {
  const Result r =
      sh(fmt::format("{} report --db '{}' --out '{}'", k_bin, db.string(), out.string()));
  EXPECT_EQ(r.code, 0) << r.out;
  std::map<std::string, std::string> files;
  std::istringstream lines(r.out);
  std::string claims, line;
  while (std::getline(lines, line))
    if (line.rfind("report:", 0) != 0) claims += without_intervals(line) + "\n";
  files["claims"] = claims;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.path().extension() == ".dat")
      files[fs::relative(e.path(), out).string()] = slurp(e.path());
  return files;
}

class SlurmArray : public ::testing::Test {
 protected:
  void SetUp() override {
    const Result was = sh(cluster("status"));
    started_ = was.code != 0;
    const Result start = sh(cluster("start"));
    if (start.code == 77) GTEST_SKIP() << "Slurm cannot be installed here:\n" << start.out;
    ASSERT_EQ(start.code, 0) << start.out;
    const Result env = sh(cluster("env"));
    const std::string prefix = "export SLURM_CONF=";
    ASSERT_EQ(env.out.rfind(prefix, 0), 0u) << env.out;
    ::setenv("SLURM_CONF",
             env.out.substr(prefix.size(), env.out.find('\n') - prefix.size()).c_str(), 1);
    const Result data = sh(fmt::format("{} data check", k_bin));
    if (data.out.find("\nmnist: initscope data fetch") != std::string::npos) {
      const Result fetch = sh(fmt::format("{} data fetch mnist", k_bin));
      ASSERT_EQ(fetch.code, 0) << fetch.out;
    }
    std::string tmpl = (fs::temp_directory_path() / "initscope_slurm_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (started_) sh(cluster("stop"));
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }
  bool started_ = false;
  fs::path dir_;
};

TEST_F(SlurmArray, ShardsCancelledResubmittedAndMergedEqualALocalSweep) {
  const auto t0 = std::chrono::steady_clock::now();
  const Sweep sweep = sweep_load(k_sweep);
  const int n = 4;
  const fs::path script = dir_ / "fig1.sbatch", merged = dir_ / "merged.db";
  const std::string shards = (dir_ / "shards" / "shard-%i.db").string();
  const auto shard_db = [&](int i) { return expand_shard_template(shards, {i, n}); };
  std::string all_shards;
  for (int i = 0; i < n; ++i) all_shards += fmt::format(" '{}'", shard_db(i));

  // Submit the array; cancel task 1 once it has finished a run and is on the next one.
  // --time: the auto limit assumes an idle machine; this one may be shared with other builds.
  const Result sub = sh(fmt::format(
      "cd '{}' && {} slurm '{}' --shards 4 --time 01:00:00 --db '{}' --out '{}' --submit",
      dir_.string(), k_bin, k_sweep.string(), shards, script.string()));
  ASSERT_EQ(sub.code, 0) << sub.out;
  const auto at = sub.out.find("submitted job ");
  ASSERT_NE(at, std::string::npos) << sub.out;
  const std::string job = sub.out.substr(at + 14, sub.out.find('\n', at) - at - 14);
  const size_t shard1_runs = shard_sweep(sweep, {1, n}).runs.size();
  bool cancelled = false;
  for (int i = 0; i < 600 && !cancelled; ++i) {
    std::this_thread::sleep_for(1s);
    const size_t done = finished(shard_db(1)).size();
    if (done >= 1 && done + 1 < shard1_runs) {
      ASSERT_EQ(sh(fmt::format("scancel {}_1", job)).code, 0);
      cancelled = true;
    }
  }
  ASSERT_TRUE(cancelled) << "task 1 never had a run finished and more to go";
  ASSERT_TRUE(wait_for(job, 20min)) << sh("squeue").out;
  const size_t lost = shard1_runs - finished(shard_db(1)).size();
  EXPECT_GT(lost, 0u) << "task 1 finished before it was cancelled";

  // The first merge: everything but what task 1 lost, each config once.
  const std::string merge = fmt::format("{} merge '{}'{}", k_bin, merged.string(), all_shards);
  Result m = sh(merge);
  ASSERT_EQ(m.code, 0) << m.out;
  Finished f = finished(merged);
  EXPECT_EQ(f.size(), sweep.runs.size() - lost) << m.out;
  for (const auto& [hash, rows] : f.rows) EXPECT_EQ(rows, 1) << hash;

  // Resubmit the same script: finished shards find nothing to do, task 1 resumes.
  const Result again = sh(fmt::format("sbatch --parsable '{}'", script.string()));
  ASSERT_EQ(again.code, 0) << again.out;
  ASSERT_TRUE(wait_for(again.out.substr(0, again.out.find_first_of(";\n")), 20min));
  m = sh(merge);
  ASSERT_EQ(m.code, 0) << m.out;
  EXPECT_NE(m.out.find(fmt::format("{} runs copied", lost)), std::string::npos) << m.out;
  const double slurm_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The local sweep of the same file.
  const fs::path local = dir_ / "local.db";
  const Result loc =
      sh(fmt::format("{} sweep '{}' --db '{}' --jobs 2", k_bin, k_sweep.string(), local.string()));
  ASSERT_EQ(loc.code, 0) << loc.out;
  const Finished want = finished(local);
  f = finished(merged);
  EXPECT_EQ(want.size(), sweep.runs.size());
  EXPECT_EQ(f.size(), want.size());
  for (const auto& [hash, rows] : f.rows) EXPECT_EQ(rows, 1) << hash << " is duplicated";
  EXPECT_EQ(f.dist_init, want.dist_init);  // same configs, same dist_init to the last bit

  // Merging once more copies nothing.
  m = sh(merge);
  EXPECT_NE(m.out.find(fmt::format("0 runs copied, {}", sweep.runs.size())), std::string::npos)
      << m.out;

  // The same report: claim lines and every figure's data.
  const auto rep_merged = report_of(merged, dir_ / "report-merged");
  const auto rep_local = report_of(local, dir_ / "report-local");
  EXPECT_GT(rep_local.size(), 1u);
  for (const auto& [name, text] : rep_local) {
    ASSERT_TRUE(rep_merged.count(name)) << name << " is missing from the merged report";
    EXPECT_TRUE(same_numbers(rep_merged.at(name), text)) << name << ":\nmerged:\n"
                                                         << rep_merged.at(name) << "\nlocal:\n"
                                                         << text;
  }
  EXPECT_EQ(rep_merged.size(), rep_local.size());
  std::printf("slurm part %.0fs, whole test %.0fs, %zu runs, %zu lost by the cancelled task\n",
              slurm_seconds,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
              sweep.runs.size(), lost);
}

}  // namespace
}  // namespace initscope
