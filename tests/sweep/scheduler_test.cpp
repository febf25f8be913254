// The scheduler end to end on a tiny generated dataset: every run lands once, a second call
// resumes with nothing to do, and a sweep killed with SIGKILL resumes to exactly N completed
// runs with no duplicate config_hash.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "../common/learnable_mnist.hpp"
#include "store/db.hpp"
#include "sweep/sweep.hpp"

namespace initscope {
namespace {

class Scheduler : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("initscope_sched_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    testing::write_learnable_mnist_dir(dir_, 400, 100);
    opt_.db = dir_ / "s.db";
    opt_.run.data_dir = dir_;
    opt_.jobs = 2;
    opt_.progress = ProgressMode::none;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Sweep make(const std::string& text) {
    std::ofstream(dir_ / "s.toml") << text;
    return sweep_load(dir_ / "s.toml");
  }
  // Completed runs and whether each config_hash appears once among them.
  std::pair<int, bool> completed() {
    Db db(opt_.db);
    std::multiset<std::string> hashes;
    for (const auto& r : db.runs())
      if (r.status == "completed") hashes.insert(r.config_hash);
    bool unique = true;
    for (const auto& h : hashes) unique = unique && hashes.count(h) == 1;
    return {static_cast<int>(hashes.size()), unique};
  }
  std::filesystem::path dir_;
  SweepOptions opt_;
};

TEST_F(Scheduler, RunsEveryConfigOnceAndResumesWithNothingToDo) {
  const Sweep s = make(
      "[base]\nwidth = 8\nlr = 0.1\nmax_epochs = 5\n[grid]\nseed = [1, 2, 3]\nm = [100, 200]\n");
  SweepSummary sum = sweep_run(s, opt_);
  EXPECT_EQ(sum.total, 6);
  EXPECT_EQ(sum.completed, 6);
  EXPECT_EQ(sum.failed, 0);
  EXPECT_EQ(completed(), std::make_pair(6, true));
  sum = sweep_run(s, opt_);
  EXPECT_EQ(sum.skipped, 6);
  EXPECT_EQ(sum.completed, 0);
  EXPECT_EQ(completed(), std::make_pair(6, true));
}

TEST_F(Scheduler, AFailedRunIsRecordedAndTheSweepCarriesOn) {
  // m = 5000 is larger than the 400 training examples: that run fails, the others complete.
  const Sweep s = make("[base]\nwidth = 8\nmax_epochs = 2\n[grid]\nm = [100, 5000, 200]\n");
  const SweepSummary sum = sweep_run(s, opt_);
  EXPECT_EQ(sum.completed, 2);
  EXPECT_EQ(sum.failed, 1);
}

TEST_F(Scheduler, KilledSweepResumesToExactlyNRuns) {
  // Runs of a few hundred milliseconds each; the kill comes as soon as the first one lands,
  // with others in flight.
  const Sweep s = make(
      "[base]\nwidth = 128\nm = 400\nmax_epochs = 300\n[grid]\nseed = [1, 2, 3, 4, 5, 6, 7, 8]\n");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sweep_run(s, opt_);
    _exit(0);
  }
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::filesystem::exists(opt_.db) && completed().first >= 1) break;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let PDEATHSIG reach the children
  const int before = completed().first;
  EXPECT_LT(before, 8) << "the sweep finished before the kill; make its runs longer";
  const SweepSummary sum = sweep_run(s, opt_);
  EXPECT_EQ(sum.skipped, before);
  EXPECT_EQ(completed(), std::make_pair(8, true));
  Db db(opt_.db);
  for (const auto& r : db.runs()) EXPECT_NE(r.status, "running") << "run " << r.id;
}

}  // namespace
}  // namespace initscope
