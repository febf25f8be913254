// Placement (sweep/placement.hpp): the calibration file's round trip and the cases where it is not
// trusted, the choice of threads per run, a real (tiny) calibration, and the scheduler with a
// planted calibration: runs get the threads it says, never more slots than cores, and every
// stored number is the one a fixed placement stores.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "../common/learnable_mnist.hpp"
#include "model/kernels.hpp"
#include "store/db.hpp"
#include "sweep/placement.hpp"
#include "sweep/sweep.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

// A calibration of this machine with made-up rates: at H = 8 one thread per run is faster, at
// H = 64 two threads per run.
Calibration planted() {
  Calibration cal;
  cal.machine = this_machine();
  cal.widths = {8, 64};
  cal.threads = {1, 2};
  cal.rate = {{200.0, 100.0}, {50.0, 80.0}};
  cal.measured_at = "2026-11-30T00:00:00Z";
  cal.seconds = 1.0;
  return cal;
}

class Placement_ : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("initscope_place_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Placement_, CalibrationRoundTripsThroughItsFile) {
  const Calibration cal = planted();
  const fs::path f = calibration_path(dir_);
  EXPECT_EQ(save_calibration(cal, f), "");
  std::string why = "x";
  const auto back = load_calibration(f, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->machine, cal.machine);
  EXPECT_EQ(back->widths, cal.widths);
  EXPECT_EQ(back->threads, cal.threads);
  EXPECT_EQ(back->rate, cal.rate);
  EXPECT_EQ(back->measured_at, cal.measured_at);
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(Placement_, ACalibrationThatCannotBeTrustedIsNotUsed) {
  const fs::path f = calibration_path(dir_);
  std::string why;
  EXPECT_FALSE(load_calibration(f, &why));
  EXPECT_EQ(why, "") << "no file is not an error";

  std::ofstream(f) << "{\"format\": 1, \"machine\": ";  // truncated
  EXPECT_FALSE(load_calibration(f, &why));
  EXPECT_NE(why.find("not JSON"), std::string::npos) << why;

  Calibration other = planted();
  other.machine.cpu = "Some Other CPU";
  ASSERT_EQ(save_calibration(other, f), "");
  EXPECT_FALSE(load_calibration(f, &why));
  EXPECT_NE(why.find("another machine"), std::string::npos) << why;

  Calibration newer = planted();
  newer.machine.version = "0.0.0-other";
  ASSERT_EQ(save_calibration(newer, f), "");
  EXPECT_FALSE(load_calibration(f, &why));

  Calibration ragged = planted();
  ragged.rate[1].pop_back();
  ASSERT_EQ(save_calibration(ragged, f), "");
  EXPECT_FALSE(load_calibration(f, &why));
  EXPECT_NE(why.find("do not match"), std::string::npos) << why;

  Calibration zero = planted();
  zero.rate[0][0] = 0.0;
  ASSERT_EQ(save_calibration(zero, f), "");
  EXPECT_FALSE(load_calibration(f, &why));

  std::ofstream(f) << "{\"format\": 7}";
  EXPECT_FALSE(load_calibration(f, &why));
  EXPECT_NE(why.find("format 7"), std::string::npos) << why;
}

TEST(Placement, ThreadsComeFromTheNearestCalibratedWidthInLogScale) {
  const Calibration cal = planted();
  TrainConfig c;
  c.depth = 5;
  for (const auto& [width, threads] :
       std::map<int64_t, int>{{1, 1}, {8, 1}, {22, 1}, {23, 2}, {64, 2}, {4096, 2}}) {
    c.width = width;
    EXPECT_EQ(placement_threads(cal, c), threads) << "H = " << width;
  }
  c.depth = 1;  // a linear model has no width to go by
  c.width = 64;
  EXPECT_EQ(placement_threads(cal, c), 1);
}

// The last run of a sweep takes idle cores only where one process runs faster with them.
TEST(Placement, TheLastRunTakesIdleCoresWhereThatIsFaster) {
  Calibration cal = planted();
  cal.machine.cores = 2;
  // H = 8: 2 processes × 1 thread give 200 steps/s (100 each); 1 × 2 threads, 100: no gain.
  // H = 64: 50 (25 each) against 80.
  cal.rate = {{200.0, 90.0}, {50.0, 80.0}};
  TrainConfig c;
  c.depth = 5;
  c.width = 8;
  EXPECT_EQ(last_run_threads(cal, c, 2), 1);
  c.width = 64;
  EXPECT_EQ(last_run_threads(cal, c, 2), 2);
  EXPECT_EQ(last_run_threads(cal, c, 1), 2) << "never fewer than placement_threads";
  cal.rate = {{200.0, 90.0}, {100.0, 80.0}};  // H = 64 now shares best: 1 thread, 50 < 80 alone
  EXPECT_EQ(placement_threads(cal, c), 1);
  EXPECT_EQ(last_run_threads(cal, c, 2), 2);
  EXPECT_EQ(last_run_threads(cal, c, 1), 1) << "only the cores that are free";
}

TEST(Placement, DescribesWhatItChose) {
  Calibration cal = planted();
  cal.machine.cores = 2;
  std::vector<TrainConfig> runs(4);
  runs[0].width = 8;
  runs[1].width = 16;
  runs[2].width = 64;
  runs[2].threads = 2;
  runs[3].width = 128;
  runs[3].threads = 2;
  EXPECT_EQ(describe_placement(cal, runs),
            "H 8–16: 1 thread per run, 2 at once; H 64–128: 2 threads per run, one at a time");
}

// A real calibration, kept tiny: every (width, threads) point is measured, by processes of its
// own, and is a positive rate.
TEST(Placement, CalibrateMeasuresEveryPoint) {
  const Calibration cal = calibrate({8, 16}, 0.02);
  EXPECT_EQ(cal.machine, this_machine());
  ASSERT_EQ(cal.rate.size(), 2u);
  ASSERT_FALSE(cal.threads.empty());
  EXPECT_EQ(cal.threads.front(), 1);
  for (const auto& row : cal.rate) {
    ASSERT_EQ(row.size(), cal.threads.size());
    for (const double v : row) EXPECT_GT(v, 0.0);
  }
  EXPECT_FALSE(cal.measured_at.empty());
}

class PlacementSweep : public Placement_ {
 protected:
  void SetUp() override {
    Placement_::SetUp();
    testing::write_learnable_mnist_dir(dir_, 400, 100);
    std::ofstream(dir_ / "s.toml")
        << "[base]\nlr = 0.1\nm = 200\nmax_epochs = 3\n[grid]\nwidth = [8, 64]\nseed = [1, "
           "2]\n";
  }
  // Each stored run's config (with its threads) and metrics, by config hash.
  std::map<std::string, RunRecord> runs(const fs::path& db) {
    std::map<std::string, RunRecord> out;
    for (auto& r : Db(db).runs()) out[r.config_hash] = r;
    return out;
  }
};

// The scheduler gives the H = 64 runs two threads (the planted calibration), and the H = 8 runs
// one; the runs store exactly the numbers of a fixed placement, since threads change no result.
TEST_F(PlacementSweep, ThreadsChosenByTheCalibrationChangeNoStoredNumber) {
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs two cores";
  ASSERT_EQ(save_calibration(planted(), calibration_path(dir_)), "");
  // Split even these small layers between threads, so that two threads really share the work
  // (the forked runs inherit this).
  const int64_t old = set_parallel_min_weights(0);
  const Sweep s = sweep_load(dir_ / "s.toml");
  SweepOptions o;
  o.run.data_dir = dir_;
  o.progress = ProgressMode::none;
  o.db = dir_ / "auto.db";
  const SweepSummary a = sweep_run(s, o);
  o.db = dir_ / "fixed.db";
  o.placement = Placement::fixed;
  const SweepSummary f = sweep_run(s, o);
  set_parallel_min_weights(old);
  EXPECT_EQ(a.completed, 4);
  EXPECT_EQ(f.completed, 4);
  EXPECT_NE(a.placement.find("2 threads per run"), std::string::npos) << a.placement;
  EXPECT_NE(f.placement.find("1 thread each"), std::string::npos) << f.placement;

  const auto ra = runs(dir_ / "auto.db"), rf = runs(dir_ / "fixed.db");
  ASSERT_EQ(ra.size(), 4u);
  ASSERT_EQ(rf.size(), 4u);
  for (const auto& [hash, r] : ra) {
    ASSERT_TRUE(rf.count(hash)) << "the same identities";
    const RunRecord& g = rf.at(hash);
    const int64_t width = r.config.at("width").get<int64_t>();
    EXPECT_EQ(r.config.at("threads").get<int>(), width == 64 ? 2 : 1) << "H = " << width;
    EXPECT_EQ(g.config.at("threads").get<int>(), 1);
    ASSERT_EQ(r.metrics.size(), g.metrics.size());
    int compared = 0;
    for (const auto& [name, v] : r.metrics) {
      if (name.find("seconds") != std::string::npos || name.find("per_second") != std::string::npos)
        continue;  // time, not a result
      ASSERT_TRUE(g.metrics.count(name)) << name;
      EXPECT_EQ(v, g.metrics.at(name)) << name << " at H = " << width;
      ++compared;
    }
    EXPECT_GT(compared, 20);
  }
}

// Without a stored calibration, a sweep too short to repay measuring one runs one
// single-threaded run per core and writes no file.
TEST_F(PlacementSweep, AShortSweepWithoutACalibrationRunsOnePerCore) {
  const Sweep s = sweep_load(dir_ / "s.toml");
  SweepOptions o;
  o.run.data_dir = dir_;
  o.progress = ProgressMode::none;
  o.db = dir_ / "a.db";
  const SweepSummary sum = sweep_run(s, o);
  EXPECT_EQ(sum.completed, 4);
  EXPECT_FALSE(fs::exists(calibration_path(dir_)));
  EXPECT_NE(sum.placement.find("1 thread each"), std::string::npos) << sum.placement;
  for (const auto& [hash, r] : runs(o.db)) EXPECT_EQ(r.config.at("threads").get<int>(), 1);

  // A calibration of another machine is not used, and the placement line says why.
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) return;
  Calibration other = planted();
  other.machine.cpu = "Some Other CPU";
  ASSERT_EQ(save_calibration(other, calibration_path(dir_)), "");
  o.db = dir_ / "b.db";
  const SweepSummary again = sweep_run(s, o);
  EXPECT_EQ(again.completed, 4);
  EXPECT_NE(again.placement.find("not used"), std::string::npos) << again.placement;
  EXPECT_NE(again.placement.find("another machine"), std::string::npos) << again.placement;
  for (const auto& [hash, r] : runs(o.db)) EXPECT_EQ(r.config.at("threads").get<int>(), 1);
}

}  // namespace
}  // namespace initscope
