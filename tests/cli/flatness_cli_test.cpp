// The flatness measures and `initscope rank` end to end on a tiny MNIST-shaped dataset: opt-in
// (a run without --flatness stores none of them), reproducible bit for bit, the same on saved
// weights measured again with --init-from and --max-steps 0, and ranked by `initscope rank`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "../common/learnable_mnist.hpp"
#include "data/dataset.hpp"
#include "run_binary.hpp"

namespace fs = std::filesystem;

namespace initscope {
namespace {

using testing::Result;
using testing::run;

class FlatnessCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("initscope_flat_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    testing::write_learnable_mnist_dir(dir_);
    // The dataset cache built first, so that --json's output is the record alone.
    ::testing::internal::CaptureStderr();
    load_dataset("mnist", dir_);
    ::testing::internal::GetCapturedStderr();
    db_ = (dir_ / "r.db").string();
    base_ = "train --data-dir " + dir_.string() + " --width 16 --m 200 --lr 0.1 --progress none ";
  }
  void TearDown() override { fs::remove_all(dir_); }
  nlohmann::json train(const std::string& args, const std::string& db) {
    const Result r = run(base_ + "--db " + db + " --json " + args);
    EXPECT_EQ(r.code, 0) << r.out;
    return nlohmann::json::parse(r.out)["metrics"];
  }
  fs::path dir_;
  std::string db_, base_;
};

TEST_F(FlatnessCli, OptInReproducibleAndTheSameOnSavedWeights) {
  const std::string flat = "--flatness lambda_max,trace,sharpness,pacbayes --flatness-rows 100 ";
  const fs::path w = dir_ / "w";
  const auto m = train("--max-epochs 20 " + flat + "--save-weights " + w.string(), db_);
  for (const char* k :
       {"hessian_lambda_max", "hessian_lambda_min", "hessian_trace", "hessian_trace_se",
        "hessian_probes", "sharpness_alpha", "sharpness_mag_alpha", "sharpness_eps",
        "pacbayes_sigma", "pacbayes_sigma_lo", "pacbayes_sigma_hi", "pacbayes_mag_sigma",
        "pacbayes_init", "pacbayes_origin", "flatness_rows"})
    EXPECT_TRUE(m.contains(k)) << k;
  EXPECT_EQ(m["flatness_rows"], 100.0);
  EXPECT_GT(m["hessian_lambda_max"].get<double>(), 0.0);
  EXPECT_GE(m["hessian_lambda_max"].get<double>(), m["hessian_lambda_min"].get<double>());
  // The same run again: every number the same, bit for bit.
  const auto again = train("--max-epochs 20 " + flat, (dir_ / "again.db").string());
  for (const char* k : {"hessian_lambda_max", "hessian_trace", "sharpness_alpha", "pacbayes_sigma",
                        "pacbayes_mag_sigma", "sharpness_eps"})
    EXPECT_EQ(again[k], m[k]) << k;
  // Saved weights measured again: the same subset and streams give the same curvature.
  const auto saved = train(
      "--max-steps 0 --flatness lambda_max,trace --flatness-rows 100 "
      "--init-from " +
          (w / "final.safetensors").string(),
      (dir_ / "saved.db").string());
  EXPECT_EQ(saved["hessian_lambda_max"], m["hessian_lambda_max"]);
  EXPECT_EQ(saved["hessian_trace"], m["hessian_trace"]);
  // Without --flatness: none of them.
  const auto plain = train("--max-epochs 20", (dir_ / "plain.db").string());
  EXPECT_EQ(plain["dist_init"], m["dist_init"]);
  for (const char* k : {"hessian_lambda_max", "pacbayes_sigma", "flatness_rows"})
    EXPECT_FALSE(plain.contains(k)) << k;
}

// `initscope measure` on a trained run's saved weights gives the run's own numbers (the same
// data, subset and streams), stores a run of kind `measured`, and refuses a wrong --width with
// one line and no row.
TEST_F(FlatnessCli, MeasureReproducesTheTrainedRunFromItsWeights) {
  const fs::path w = dir_ / "w";
  const auto m = train(
      "--max-epochs 20 --flatness lambda_max,trace --flatness-rows 100 "
      "--save-weights " +
          w.string(),
      db_);
  const std::string mdb = (dir_ / "measured.db").string();
  const std::string measure = "measure --data-dir " + dir_.string() + " --db " + mdb +
                              " --m 200 --weights " + (w / "final.safetensors").string() + " ";
  Result r = run(measure + "--init " + (w / "init.safetensors").string() +
                 " --measures errors,weights,norms,lambda_max,trace --flatness-rows 100 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "measured");
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["config"]["width"], 16);  // from the tensors
  const auto& got = j["metrics"];
  for (const char* k : {"test_error", "train_error", "dist_init", "spec_w2", "margin_p10",
                        "hessian_lambda_max", "hessian_trace"})
    EXPECT_EQ(got[k], m[k]) << k;
  for (const char* k : {"path_norm", "log_prod_spec_over_margin", "log_spec_init_main"})
    EXPECT_TRUE(got.contains(k)) << k;
  // Without --init: nothing relative to an initialization is stored.
  r = run(measure + "--json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto plain = nlohmann::json::parse(r.out)["metrics"];
  EXPECT_EQ(plain["test_error"], m["test_error"]);
  for (const char* k : {"dist_init", "dist_w1", "fro_z1", "init_norm", "prop62_bound"})
    EXPECT_FALSE(plain.contains(k)) << k;
  // A width the tensors contradict: one line naming the flag, exit 1, no new row.
  r = run(measure + "--width 32");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("initscope: error: --width 32:"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_EQ(run("show 2 --db " + mdb).code, 0);
  EXPECT_EQ(run("show 3 --db " + mdb).code, 1);  // runs 1 and 2 only
}

TEST_F(FlatnessCli, RankPrintsTauAndNamesBadFlags) {
  for (const char* width : {"8", "16", "32"})
    train(std::string("--max-epochs 30 --flatness trace --flatness-rows 50 --width ") + width, db_);
  Result r = run("rank --db " + db_ + " --all-runs --measures dist_init,hessian_trace --by width" +
                 " --bootstrap 50 --csv " + (dir_ / "rank.csv").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("hessian_trace"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "rank.csv"));
  r = run("rank --db " + db_ + " --measures nope");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--measures nope"), std::string::npos) << r.out;
  r = run("rank --db " + db_ + " --measures dist_init --tau c");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--tau c: expected a or b"), std::string::npos) << r.out;
}

// A diverged run keeps its record; its non-finite weights get no flatness numbers.
TEST_F(FlatnessCli, DivergedRunStoresNoFlatness) {
  const Result r = run(base_ + "--db " + db_ +
                       " --json --loss mse --lr 10000 --stop 'loss<=0.0001' "
                       "--flatness lambda_max,trace,sharpness,pacbayes --flatness-rows 50");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_FALSE(j["metrics"].contains("hessian_lambda_max"));
}

}  // namespace
}  // namespace initscope
