// SIGINT and SIGTERM sent to a real `initscope train` and `initscope sweep` process: the run in
// flight is stored `interrupted` with its trajectory so far (one transaction: never a row that is
// half written or left `running`), the command exits 130 or 143, and a resumed sweep runs the
// interrupted configs again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "../common/learnable_mnist.hpp"
#include "store/db.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace initscope {
namespace {

using Clock = std::chrono::steady_clock;

class Signals : public ::testing::Test {
 public:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("initscope_signals_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    testing::write_learnable_mnist_dir(dir_);
    db_ = (dir_ / "r.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Starts `initscope args...` with stdout and stderr into dir_/out.txt; returns its pid.
  pid_t start(std::vector<std::string> args) {
    args.insert(args.begin(), INITSCOPE_BIN);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string out = (dir_ / "out.txt").string();
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    // SIGINT and SIGTERM at their defaults in the child, whatever ctest's are.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, INITSCOPE_BIN, &fa, &attr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return pid;
  }
  std::string output() const {
    std::ifstream f(dir_ / "out.txt");
    return {std::istreambuf_iterator<char>(f), {}};
  }
  // Rows by status (0 if the database does not exist yet).
  std::map<std::string, int> statuses() {
    std::map<std::string, int> n;
    if (!fs::exists(db_)) return n;
    Db db(db_);
    for (const auto& r : db.runs()) ++n[r.status];
    return n;
  }
  // Waits until `count` rows are running, then `settle_ms` more (into training), or fails.
  void wait_running(int count, int settle_ms) {
    const auto t0 = Clock::now();
    while (statuses()["running"] < count) {
      ASSERT_LT(Clock::now() - t0, std::chrono::seconds(60)) << output();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
  }
  // Sends `sig` and returns the exit code (−1 if the process was killed by a signal instead).
  int stop(pid_t pid, int sig) {
    EXPECT_EQ(::kill(pid, sig), 0);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Every interrupted row is whole: stopped_by names the signal, its counts and trajectory landed.
  void expect_interrupted_rows_whole(const std::string& signal) {
    Db db(db_);
    int interrupted = 0;
    for (const auto& r : db.runs()) {
      EXPECT_NE(r.status, "running") << r.id;
      if (r.status != "interrupted") continue;
      ++interrupted;
      EXPECT_EQ(r.stopped_by, signal) << r.id;
      EXPECT_NE(r.error.find("stopped by " + signal), std::string::npos) << r.error;
      for (const char* k : {"epochs", "steps", "wall_seconds", "initial_loss"})
        EXPECT_TRUE(r.metrics.count(k)) << r.id << " " << k;
      EXPECT_EQ(r.metrics.count("dist_init"), 0u) << "no final measures for a stopped run";
      EXPECT_FALSE(db.trajectory(r.id).empty()) << r.id;
      EXPECT_TRUE(db.artifact(r.id, "engine").has_value()) << r.id;
    }
    EXPECT_GE(interrupted, 1);
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(Signals, TrainStoresInterruptedOnSigintAndExits130) {
  const pid_t pid = start({"train", "--data-dir", dir_.string(), "--db", db_, "--width", "16",
                           "--m", "200", "--max-epochs", "100000000", "--measure-every", "50"});
  wait_running(1, 300);
  EXPECT_EQ(stop(pid, SIGINT), 130) << output();
  EXPECT_EQ(statuses(), (std::map<std::string, int>{{"interrupted", 1}}));
  expect_interrupted_rows_whole("SIGINT");
  Db db(db_);
  const auto r = db.runs().at(0);
  EXPECT_GT(r.metrics.at("epochs"), 0.0);
  // The trajectory holds every complete epoch's running loss, up to the last one counted.
  int epochs = 0;
  for (const auto& p : db.trajectory(r.id)) epochs += p.name == "epoch_loss";
  EXPECT_EQ(epochs, static_cast<int>(r.metrics.at("epochs")));
  const std::string out = output();
  EXPECT_NE(out.find("run 1 interrupted: stopped by SIGINT"), std::string::npos) << out;
  EXPECT_NE(out.find("initscope: run 1 stopped by SIGINT and stored as interrupted"),
            std::string::npos)
      << out;
}

TEST_F(Signals, TrainStoresInterruptedOnSigtermAndExits143) {
  const pid_t pid = start({"train", "--data-dir", dir_.string(), "--db", db_, "--width", "16",
                           "--m", "200", "--max-epochs", "100000000", "--json"});
  wait_running(1, 300);
  EXPECT_EQ(stop(pid, SIGTERM), 143) << output();
  EXPECT_EQ(statuses(), (std::map<std::string, int>{{"interrupted", 1}}));
  expect_interrupted_rows_whole("SIGTERM");
  EXPECT_NE(output().find(R"("status":"interrupted")"), std::string::npos) << output();
}

// A run killed outright leaves `running`; the next `train` on the database marks it interrupted.
TEST_F(Signals, KilledTrainIsMarkedInterruptedByTheNextCommand) {
  const pid_t pid = start({"train", "--data-dir", dir_.string(), "--db", db_, "--width", "16",
                           "--m", "200", "--max-epochs", "100000000"});
  wait_running(1, 300);
  EXPECT_EQ(stop(pid, SIGKILL), -1);
  EXPECT_EQ(statuses(), (std::map<std::string, int>{{"running", 1}}));
  const pid_t again = start({"train", "--data-dir", dir_.string(), "--db", db_, "--width", "16",
                             "--m", "200", "--max-epochs", "2"});
  int status = 0;
  ASSERT_EQ(::waitpid(again, &status, 0), again);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output();
  EXPECT_EQ(statuses(), (std::map<std::string, int>{{"completed", 1}, {"interrupted", 1}}));
}

// A sweep stopped by SIGTERM or SIGINT stores its runs in flight as interrupted and exits
// 128 + signal; run again, it runs exactly those configs (and the ones it never started).
void sweep_stop_and_resume(Signals& t, const fs::path& dir, const std::string& db, int sig,
                           int code) {
  const std::string file = (dir / "s.toml").string();
  // H = 256 at depth 5 makes a step take milliseconds, so each run lasts 2–3 seconds.
  std::ofstream(file) << "[base]\nwidth = 256\nm = 400\nlr = 0.05\nmax_epochs = 200\n"
                         "[grid]\nseed = [1, 2, 3, 4]\n";
  const std::vector<std::string> args = {"sweep",      file,         "--db",   db,
                                         "--data-dir", dir.string(), "--jobs", "2"};
  pid_t pid = t.start(args);
  // At once: the signal must find the runs in flight, not between two runs.
  const auto t0 = Clock::now();
  t.wait_running(2, 0);
  const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_EQ(t.stop(pid, sig), code) << t.output();
  const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  EXPECT_NE(t.output().find("initscope: sweep stopped by " + name), std::string::npos)
      << t.output();
  auto n = t.statuses();
  EXPECT_EQ(n["running"], 0);
  EXPECT_GE(n["interrupted"], 1) << "signal after " << waited << " s; " << n["completed"]
                                 << " completed, " << n["failed"] << " failed\n"
                                 << t.output();
  t.expect_interrupted_rows_whole(name);
  std::map<std::string, bool> was_interrupted;
  {
    Db d(db);
    for (const auto& r : d.runs())
      if (r.status == "interrupted") was_interrupted[r.config_hash] = true;
  }
  pid = t.start(args);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << t.output();
  // Each of the 4 configs completed exactly once; the interrupted rows stay as a record.
  Db d(db);
  std::map<std::string, int> completed;
  for (const auto& r : d.runs()) {
    EXPECT_TRUE(r.status == "completed" || r.status == "interrupted") << r.status;
    if (r.status == "completed") ++completed[r.config_hash];
  }
  EXPECT_EQ(completed.size(), 4u);
  for (const auto& [h, k] : completed) EXPECT_EQ(k, 1) << h;
  for (const auto& [h, yes] : was_interrupted) EXPECT_EQ(completed.count(h), 1u) << h;
}

TEST_F(Signals, SweepStoppedBySigtermResumes) {
  sweep_stop_and_resume(*this, dir_, db_, SIGTERM, 143);
}

TEST_F(Signals, SweepStoppedBySigintResumes) {
  sweep_stop_and_resume(*this, dir_, db_, SIGINT, 130);
}

}  // namespace
}  // namespace initscope
