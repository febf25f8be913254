// The CLI end to end on a tiny MNIST-shaped dataset written at test time: a run lands in the
// database, --json prints it, and every kind of bad input gets one clear error, a non-zero
// exit code, and no completed row.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <algorithm>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../common/learnable_mnist.hpp"
#include "data/dataset.hpp"
#include "run_binary.hpp"
#include "store/db.hpp"

namespace fs = std::filesystem;

namespace initscope {
namespace {

using testing::Result;
using testing::run;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("initscope_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    testing::write_learnable_mnist_dir(dir_);
    // The dataset cache built here, so that a run's output is exactly what the tests expect
    // (the first run's one-line notice is DatasetCacheIsBuiltOnceWithANotice's subject).
    ::testing::internal::CaptureStderr();
    load_dataset("mnist", dir_);
    ::testing::internal::GetCapturedStderr();
    db_ = (dir_ / "r.db").string();
    // Progress off: the tests read --json from stdout and stderr together.
    base_ = "train --data-dir " + dir_.string() + " --db " + db_ +
            " --width 16 --m 200 --progress none ";
  }
  void TearDown() override { fs::remove_all(dir_); }
  int completed_rows() {
    if (!fs::exists(db_)) return 0;
    Db db(db_);
    int n = 0;
    for (const auto& r : db.runs()) n += r.status == "completed";
    return n;
  }
  fs::path dir_;
  std::string db_, base_;
};

TEST_F(Cli, DatasetCacheIsBuiltOnceWithANotice) {
  fs::remove_all(dir_ / "cache");
  Result r = run(base_ + "--max-steps 0");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(
      r.out.rfind("initscope: note: building the dataset cache " +
                      (dir_ / "cache" / "mnist.f32").string() + " (once for this data directory)\n",
                  0),
      0u)
      << r.out;
  r = run(base_ + "--max-steps 0 --json --again");  // the same config again: no notice now
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["metrics"]["steps"], 0.0);  // nothing else printed
}

TEST_F(Cli, TrainStoresARunAndPrintsJson) {
  const Result r = run(base_ + "--lr 0.1 --stop 'train_error<=0' --max-epochs 200 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["stopped_by"], "train_error<=0");
  EXPECT_EQ(j["converged"], true);
  EXPECT_EQ(j["config"]["width"], 16);
  EXPECT_EQ(j["config"]["m"], 200);
  for (const char* k : {"dist_init", "train_error", "test_error", "gen_error", "fro_w1", "spec_w5",
                        "fro_z3", "spec_z2", "dist_w4", "dist_b1", "margin_median"})
    EXPECT_TRUE(j["metrics"].contains(k)) << k;
  EXPECT_EQ(completed_rows(), 1);

  const Result runs = run("runs --db " + db_);
  EXPECT_EQ(runs.code, 0);
  EXPECT_NE(runs.out.find("train_error<=0"), std::string::npos) << runs.out;
  const Result show = run("show 1 --json --trajectory --db " + db_);
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_FALSE(nlohmann::json::parse(show.out)["trajectory"].empty());
}

TEST_F(Cli, DataCheckSaysHowToGetWhatIsMissing) {
  const auto empty = dir_ / "empty";
  fs::create_directories(empty);
  const Result r = run("data check --data-dir " + empty.string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("mnist: initscope data fetch mnist --data-dir " + empty.string()),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("cifar10: cannot be fetched here"), std::string::npos) << r.out;
}

// Reliability B15: a data file that is there but damaged is BAD (not MISSING) and data check
// exits 1 naming it; a file given as the data directory is refused.
TEST_F(Cli, DataCheckExitsOneOnADamagedFile) {
  // (Missing files alone exit 0: DataCheckSaysHowToGetWhatIsMissing.)
  const fs::path labels = dir_ / "mnist" / "t10k-labels-idx1-ubyte";
  std::ofstream(labels, std::ios::binary) << "<html>not found</html>";
  Result r = run("data check --data-dir " + dir_.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("BAD      t10k-labels-idx1-ubyte"), std::string::npos) << r.out;
  // The other three MNIST files of the learnable set are BAD too: not MNIST's sums.
  EXPECT_NE(r.out.find("initscope: error: 4 data files are damaged or unreadable ("),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(labels.string()), std::string::npos) << r.out;
  std::ofstream(db_) << "x";
  r = run("data check --data-dir " + db_);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("--data-dir " + db_ + ": is not a directory"), std::string::npos) << r.out;
}

TEST_F(Cli, SavedWeightsReloadWithInitFrom) {
  const fs::path w = dir_ / "w";
  Result r = run(base_ + "--max-epochs 2 --save-weights " + w.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(w / "init.safetensors"));
  EXPECT_TRUE(fs::exists(w / "final.safetensors"));
  r = run(base_ + "--max-steps 0 --json --init-from " + (w / "final.safetensors").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["metrics"]["dist_init"], 0.0);
  r = run(base_ + "--width 32 --init-from " + (w / "final.safetensors").string());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("layers.0.weight"), std::string::npos) << r.out;
}

TEST_F(Cli, BadInputGetsOneClearErrorAndNoCompletedRow) {
  struct Case {
    std::string args, expect;
  };
  std::ofstream(dir_ / "junk.safetensors") << "not a safetensors file";
  const std::vector<Case> cases = {
      {"--width -5", "--width"},
      {"--stop margin:abc", "--stop"},
      {"--frobnicate 3", "frobnicate"},
      {"--m 100000", "--m"},
      {"--noise 2", "--noise"},
      {"--lr abc", "--lr"},
      {"--dataset imagenet", "imagenet"},
      {"--init-from " + (dir_ / "junk.safetensors").string(), "junk.safetensors"},
      {"--init-from " + (dir_ / "absent.safetensors").string(), "absent.safetensors"},
      // Reliability B11: a width that cannot fit is refused before anything is allocated,
      // naming the flags and the estimate, not with std::bad_alloc.
      {"--width 65536", "--width 65536 --depth 5 --m 200: this run needs about"},
      // The option table never narrows: a seed of -1 is not 2^64 − 1.
      {"--seed -1", "--seed -1: expected a whole number from 0 to 2^64"},
      {"--depth 4294967301", "--depth 4294967301: expected 1 to 64 weight layers"},
  };
  for (const auto& c : cases) {
    const Result r = run(base_ + c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.args << " → " << r.out;
  }
  // Data files: missing, truncated, wrong magic.
  fs::remove(dir_ / "mnist" / "t10k-labels-idx1-ubyte");
  Result r = run(base_);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("t10k-labels-idx1-ubyte"), std::string::npos) << r.out;
  testing::write_mnist_like(dir_ / "mnist", "t10k", 100, 2);
  fs::resize_file(dir_ / "mnist" / "train-images-idx3-ubyte", 1000);
  r = run(base_);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("train-images-idx3-ubyte"), std::string::npos) << r.out;
  EXPECT_EQ(completed_rows(), 0);
}

// The option table's CLI: every flag parses by its kind, and the run's stored config is what
// the flags said.
TEST_F(Cli, FlagsFromTheOptionTable) {
  const Result r =
      run(base_ +
          "--classes 0,1 --loss logistic --shuffle off --standardize --stop "
          "'loss<=0.5' --stop 'train_error<=0' --max-epochs 1 --init he_normal --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["config"]["classes"], nlohmann::json::array({0, 1}));
  EXPECT_EQ(j["config"]["shuffle"], false);
  EXPECT_EQ(j["config"]["standardize"], true);
  EXPECT_EQ(j["config"]["stop"], nlohmann::json::array({"loss<=0.5", "train_error<=0"}));
  EXPECT_EQ(j["config"]["init"], "he_normal");
  const Result opts = run("options");
  EXPECT_EQ(opts.code, 0);
  EXPECT_NE(opts.out.find("--train-eval"), std::string::npos) << opts.out;
}

// A database written before the option table is resumed by `sweep` without re-running anything.
TEST_F(Cli, SweepResumesADatabaseOfSchemaOne) {
  const fs::path fixtures = fs::path(INITSCOPE_TEST_DIR) / ".." / "run" / "fixtures";
  fs::copy_file(fixtures / "schema1.db", db_);
  const Result r = run("sweep " + (fixtures / "schema1.toml").string() + " --db " + db_ +
                       " --data-dir " + dir_.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("4 runs: 4 already done"), std::string::npos) << r.out;
  EXPECT_EQ(completed_rows(), 4);
}

// Progress in a log (stderr not a terminal, as under nohup): plain lines, by default the first
// epoch's and then one per 30 s, every epoch with --progress-every 0; none with --progress none.
// Progress changes no stored number.
TEST_F(Cli, ProgressPrintsLinesInALogAndChangesNothing) {
  const std::string run_args = "--lr 0.1 --stop margin:1:0.9 --max-epochs 4 ";
  Result r = run(base_ + run_args + "--progress lines --progress-every 0 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("epoch 0/4  loss "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("margin ≥ 1 on "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(stop at ≥ 90%)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("epoch 1/4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cap in "), std::string::npos) << r.out;
  const auto with = nlohmann::json::parse(r.out.substr(r.out.find("{\"")));
  const std::string other = (dir_ / "other.db").string();
  r = run("train --data-dir " + dir_.string() + " --db " + other + " --width 16 --m 200 " +
          run_args + "--progress none --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("epoch 0/"), std::string::npos) << r.out;
  const auto without = nlohmann::json::parse(r.out);
  EXPECT_EQ(with["metrics"]["dist_init"], without["metrics"]["dist_init"]);
  EXPECT_EQ(with["metrics"]["train_loss"], without["metrics"]["train_loss"]);
  EXPECT_EQ(with["config_hash"], without["config_hash"]);
  // auto in a log is lines: the first epoch's line at least.
  r = run(base_ + "--max-epochs 1 --seed 9 --progress auto");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("epoch 0/1"), std::string::npos) << r.out;
  r = run(base_ + "--progress sometimes");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--progress sometimes: unknown mode (expected auto, bar, lines or none)"),
            std::string::npos)
      << r.out;
}

// A completed config and seed is not trained twice by accident: --again trains it anyway, and
// another seed is another run.
TEST_F(Cli, TrainRefusesACompletedRunUnlessAgain) {
  const std::string args = base_ + "--max-epochs 2 --progress none ";
  ASSERT_EQ(run(args).code, 0);
  Result r = run(args);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("initscope: error: train: run 1 in " + db_ +
                       " already completed this "
                       "config with seed 1"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("--again"), std::string::npos) << r.out;
  EXPECT_EQ(completed_rows(), 1);
  r = run(args + "--again");
  EXPECT_EQ(r.code, 0) << r.out;
  r = run(args + "--seed 2");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(completed_rows(), 3);
}

// A train that fails before its run is stored leaves no database file behind; an existing
// database stays.
TEST_F(Cli, FailedTrainLeavesNoEmptyDatabase) {
  const auto empty = dir_ / "nodata";
  fs::create_directories(empty);
  const std::string fresh = (dir_ / "fresh.db").string();
  Result r = run("train --data-dir " + empty.string() + " --db " + fresh + " --m 100");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_FALSE(fs::exists(fresh)) << r.out;
  EXPECT_FALSE(fs::exists(fresh + "-wal"));
  ASSERT_EQ(run(base_ + "--max-epochs 1").code, 0);
  r = run("train --data-dir " + empty.string() + " --db " + db_ + " --m 100");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(completed_rows(), 1);
}

// runs: the columns that tell runs apart, --where (config keys, metrics, fields; repeatable),
// --sort, --limit and --columns; a key no run has is an error.
TEST_F(Cli, RunsFiltersSortsAndChoosesColumns) {
  for (const char* extra : {"--lr 0.1 --seed 1", "--lr 0.05 --seed 2", "--lr 0.1 --seed 3"})
    ASSERT_EQ(run(base_ + "--max-epochs 2 --progress none " + extra).code, 0);
  Result r = run("runs --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* col : {"lr", "loss", "optimizer", "stop", "converged", "epochs"})
    EXPECT_NE(r.out.find(col), std::string::npos) << col << "\n" << r.out;
  r = run("runs --db " + db_ + " --where lr=0.1 --columns id,seed,lr");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "id  seed   lr\n 1     1  0.1\n 3     3  0.1\n");
  r = run("runs --db " + db_ + " --where lr=0.1 --where 'seed>1' --columns id");
  EXPECT_EQ(r.out, "id\n 3\n");
  r = run("runs --db " + db_ + " --sort -seed --limit 2 --columns id,seed,epochs");
  EXPECT_EQ(r.out, "id  seed  epochs\n 3     3       2\n 2     2       2\n");
  r = run("runs --db " + db_ + " --where metric.epochs=2 --where status=completed --columns id");
  EXPECT_EQ(r.out, "id\n 1\n 2\n 3\n");
  r = run("runs --db " + db_ + " --where lrr=0.1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--where lrr=0.1: no run in " + db_ + " has a config key or metric 'lrr'"),
            std::string::npos)
      << r.out;
  r = run("runs --db " + db_ + " --where lr");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--where lr: expected KEY=VALUE"), std::string::npos) << r.out;
}

// Learning curves: show --trajectory as a table (one row per epoch), CSV and JSON Lines;
// export --trajectory, one row per run and epoch.
TEST_F(Cli, TrajectoryAsTableCsvJsonlAndExport) {
  ASSERT_EQ(run(base_ + "--max-epochs 3 --progress none --train-eval full").code, 0);
  ASSERT_EQ(run(base_ + "--max-epochs 2 --progress none --train-eval full --seed 5").code, 0);
  Result r = run("show 1 --trajectory --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind(" epoch     step  train_loss  train_error  epoch_loss", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5) << r.out;  // header + epochs 0..3
  r = run("show 1 --trajectory --format csv --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("epoch,step,train_loss,train_error,epoch_loss,epoch_error", 0), 0u)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5) << r.out;
  r = run("show 1 --trajectory --format jsonl --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto last = nlohmann::json::parse(r.out.substr(r.out.rfind("{\"epoch\"")));
  EXPECT_EQ(last["epoch"], 3);
  EXPECT_TRUE(last.contains("train_loss") && last.contains("epoch_loss")) << r.out;
  r = run("show 1 --trajectory --format xml --db " + db_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--format xml"), std::string::npos) << r.out;
  r = run("export --trajectory --format csv --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("run_id,epoch,step,train_loss", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1 + 4 + 3) << r.out;
  EXPECT_NE(r.out.find("\r\n2,2,"), std::string::npos) << r.out;
  r = run("export --trajectory --format jsonl --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4 + 3) << r.out;
}

// show --toml prints the config as a sweep file's [base]: that file, swept, is the same run.
TEST_F(Cli, ShowTomlRoundTripsThroughASweepFile) {
  ASSERT_EQ(run(base_ + "--max-epochs 2 --progress none --lr 0.07 --stop 'loss<=0.1'").code, 0);
  const Result r = run("show 1 --toml --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("[base]\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lr = 0.07\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stop = [\"loss<=0.1\"]\n"), std::string::npos) << r.out;
  const std::string file = (dir_ / "again.toml").string();
  std::ofstream(file) << r.out;
  const Result dry = run("sweep " + file + " --dry-run --db " + db_);
  ASSERT_EQ(dry.code, 0) << dry.out;
  EXPECT_NE(dry.out.find("1 runs"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("[completed]"), std::string::npos) << dry.out;
  Db db(db_);
  EXPECT_NE(dry.out.find(db.runs().at(0).config_hash), std::string::npos) << dry.out;
}

// A database written by the version before labels (no run_labels table): every reader works
// on it read-only, a sweep resumes it without running anything, and new runs add their names,
// tags and sweep labels to it; compare, rerun and train --from-run read its runs.
TEST_F(Cli, DatabaseOfTheVersionBeforeLabelsOpensAndResumes) {
  const fs::path fixtures = fs::path(INITSCOPE_TEST_DIR) / ".." / "run" / "fixtures";
  fs::copy_file(fixtures / "before-labels.db", db_);
  Result r = run("runs --db " + db_ + " --columns id,seed,loss,status");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out,
            "id  seed  loss  status\n 1     1  ce    completed\n 2     2  mse   completed\n");
  r = run("compare 1 2 --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("loss          ce          mse\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seed          1           2\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\nwidth "), std::string::npos) << r.out;  // the same in both
  EXPECT_NE(r.out.find("dist_init"), std::string::npos) << r.out;
  r = run("sweep " + (fixtures / "before-labels.toml").string() + " --db " + db_ + " --data-dir " +
          dir_.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("2 runs: 2 already done"), std::string::npos) << r.out;
  // The same config again through --from-run: refused without --again.
  r = run("train --from-run 1 --progress none --db " + db_ + " --data-dir " + dir_.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("already completed this config with seed 1"), std::string::npos) << r.out;
  r = run("train --from-run 2 --seed 7 --name probe --tag a --tag b --progress none --json --db " +
          db_ + " --data-dir " + dir_.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["config"]["loss"], "mse");
  EXPECT_EQ(j["config"]["seed"], 7);
  EXPECT_EQ(j["name"], "probe");
  EXPECT_EQ(j["tags"], nlohmann::json::array({"a", "b"}));
  // Name and tags are not the run's identity: the same config under another name is refused.
  r = run("train --from-run 3 --name other --progress none --db " + db_ + " --data-dir " +
          dir_.string());
  EXPECT_EQ(r.code, 1) << r.out;
  r = run("rerun 1 --seed 4 --progress none --db " + db_ + " --data-dir " + dir_.string());
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("runs --db " + db_ + " --where tag=b --columns id,name,tags,seed");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "id  name   tags  seed\n 3  probe  a,b      7\n");
  r = run("runs --db " + db_ + " --sort -id --limit 1 --columns id,seed,loss");
  EXPECT_EQ(r.out, "id  seed  loss\n 4     4  ce\n");
}

// A sweep's runs carry its file, description and id.
TEST_F(Cli, SweepRunsCarryTheSweepsLabels) {
  const std::string file = (dir_ / "labelled.toml").string();
  std::ofstream(file) << "description = \"two seeds\"\n[base]\nwidth = 8\nm = 100\n"
                         "max_epochs = 1\n[grid]\nseed = [1, 2]\n";
  ASSERT_EQ(run("sweep " + file + " --jobs 1 --progress none --db " + db_ + " --data-dir " +
                dir_.string())
                .code,
            0);
  Result r = run("show 2 --json --db " + db_);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sweep_file"], file);
  EXPECT_EQ(j["sweep_description"], "two seeds");
  EXPECT_EQ(j["sweep_id"].get<std::string>().size(), 16u);
  r = run("runs --db " + db_ + " --where sweep_id=" + j["sweep_id"].get<std::string>() +
          " --columns id");
  EXPECT_EQ(r.out, "id\n 1\n 2\n");
  r = run("show 1 --db " + db_);
  EXPECT_NE(r.out.find("sweep " + file + " (id "), std::string::npos) << r.out;
}

TEST_F(Cli, VersionNamesTheCommit) {
  const Result r = run("version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("initscope 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" (commit "), std::string::npos) << r.out;
  EXPECT_EQ(run("--version").out, r.out);
}

TEST_F(Cli, DivergedRunIsRecordedNotCrashed) {
  const Result r = run(base_ + "--loss mse --lr 10000 --stop 'loss<=0.0001' --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_EQ(completed_rows(), 0);
}

}  // namespace
}  // namespace initscope

namespace initscope {
namespace {

// A sweep in two shards, each into its own database, merged: every run once. Then each bad
// input of the cluster commands: one line of error, exit 1, nothing written.
class ClusterCli : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    sweep_ = (dir_ / "s.toml").string();
    std::ofstream(sweep_) << "[base]\nwidth = 8\nlr = 0.1\nmax_epochs = 3\n"
                             "[grid]\nseed = [1, 2, 3]\nm = [100, 200]\n";
    common_ = " --data-dir " + dir_.string() + " ";
  }
  static bool one_error_line(const Result& r) {
    return r.code == 1 && r.out.rfind("initscope: error: ", 0) == 0 &&
           std::count(r.out.begin(), r.out.end(), '\n') == 1;
  }
  std::string sweep_, common_;
};

TEST_F(ClusterCli, ShardsMergeToEveryRunOnce) {
  const std::string shards = (dir_ / "shard-%i.db").string();
  const Result dry = run("sweep " + sweep_ + " --dry-run --shard 1/2 --db " + shards + common_);
  ASSERT_EQ(dry.code, 0) << dry.out;
  EXPECT_NE(dry.out.find("6 runs in 2 shards"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("3 runs"), std::string::npos) << dry.out;
  EXPECT_FALSE(fs::exists(dir_ / "shard-1.db"));  // a dry run writes nothing
  for (const char* s : {"0/2", "1/2"}) {
    const Result r =
        run("sweep " + sweep_ + " --shard " + s + " --jobs 1 --db " + shards + common_);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find(": 3 runs:"), std::string::npos) << r.out;
  }
  const std::string all = (dir_ / "all.db").string();
  const std::string merge =
      "merge " + all + " " + (dir_ / "shard-0.db").string() + " " + (dir_ / "shard-1.db").string();
  Result m = run(merge);
  ASSERT_EQ(m.code, 0) << m.out;
  EXPECT_NE(m.out.find("6 runs copied, 0 already present"), std::string::npos) << m.out;
  m = run(merge);
  EXPECT_NE(m.out.find("0 runs copied, 6 already present"), std::string::npos) << m.out;
  db_ = all;
  EXPECT_EQ(completed_rows(), 6);
  const Result report = run("export --format csv --db " + all);
  EXPECT_EQ(report.code, 0) << report.out;
}

// A sweep's progress in a log: a status line (runs done of all, failures, the ETA from the cost
// model, calibrated once runs finish) at the start and every --progress-every seconds, and one
// line per finished run.
TEST_F(ClusterCli, SweepProgressLinesInALog) {
  const Result r = run("sweep " + sweep_ + " --jobs 1 --progress lines --progress-every 0 --db " +
                       db_ + common_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("sweep: 0/6 runs done  0 failed  0 diverged  1 running"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(cost model, not yet calibrated)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sweep: 6/6 runs done  0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from 5 runs)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[6/6] "), std::string::npos) << r.out;
  const Result none = run("sweep " + sweep_ + " --progress none --db " + db_ + common_);
  ASSERT_EQ(none.code, 0) << none.out;
  EXPECT_EQ(none.out.find("sweep: "), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("6 already done"), std::string::npos) << none.out;
}

TEST_F(ClusterCli, BadInputGetsOneClearErrorAndWritesNothing) {
  const std::string out = (dir_ / "out.db").string();
  for (const auto& [args, what] : std::vector<std::pair<std::string, std::string>>{
           {"sweep " + sweep_ + " --shard 5/4 --db " + out, "--shard 5/4"},
           {"sweep " + sweep_ + " --shard 0/0 --db " + out, "--shard 0/0"},
           {"sweep " + sweep_ + " --db " + (dir_ / "s-%i.db").string(), "no --shard"},
           {"slurm " + sweep_ + " --shards 2 --time 00:00:01 --db " + (dir_ / "s-%i.db").string(),
            "--time 00:00:01: shorter than"}}) {
    const Result r = run(args + common_);
    EXPECT_TRUE(one_error_line(r)) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(what), std::string::npos) << args << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(dir_ / "s-0.db"));
  // --shard auto outside an array task (run() cannot unset variables, so popen here).
  const std::string no_env = "env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX ";
  FILE* p = popen(
      (no_env + INITSCOPE_BIN + " sweep " + sweep_ + " --shard auto" + common_ + " 2>&1").c_str(),
      "r");
  std::string text;
  char buf[1024];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  const int status = pclose(p);
  EXPECT_TRUE(one_error_line({WIFEXITED(status) ? WEXITSTATUS(status) : -1, text})) << text;
  EXPECT_NE(text.find("SLURM_ARRAY_TASK_ID"), std::string::npos) << text;

  std::ofstream(dir_ / "notes.txt") << "these are notes, not a database of any kind at all\n";
  Result r = run("merge " + out + " " + (dir_ / "notes.txt").string());
  EXPECT_TRUE(one_error_line(r)) << r.out;
  EXPECT_NE(r.out.find("notes.txt: not an initscope results database"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));

  // A database of another schema version, next to a good one: nothing lands in OUT.db.
  const fs::path good = dir_ / "good.db", newer = dir_ / "newer.db";
  { Db g(good), w(newer); }
  {
    Db w(newer);
    ASSERT_EQ(sqlite3_exec(w.handle(), "UPDATE meta SET value='99' WHERE key='schema_version'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  r = run("merge " + out + " " + good.string() + " " + newer.string());
  EXPECT_TRUE(one_error_line(r)) << r.out;
  EXPECT_NE(r.out.find("newer.db: results database schema version 99"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

// Reliability B12: a parse error of CLI11 (unknown flag, missing value, a number that is not one)
// keeps the README's contract: one line with the `initscope: error:` prefix naming the flag, and
// exit code 1 (they exited 104–114 without the prefix); --help still exits 0.
TEST_F(ClusterCli, ParseErrorsAreOneLineNamingTheFlagAndExitOne) {
  for (const auto& [args, what] : std::vector<std::pair<std::string, std::string>>{
           {"train --frobnicate 3", "--frobnicate"},
           {"train --lr", "--lr"},
           {"sweep " + sweep_ + " --jobs abc", "--jobs"},
           {"sweep " + sweep_ + " --jobs -1", "--jobs"},
           {"sweep " + sweep_ + " --jobs 5000", "--jobs"},
           {"sweep", "file"},
           {"show abc --db " + db_, "show abc: expected a run id"},
           // Clamped to 2^63 − 1 by CLI11 before: parsed strictly now.
           {"show 99999999999999999999 --db " + db_,
            "show 99999999999999999999: expected a run id"},
           {"show", "id"},
           {"frobnicate", "unknown command frobnicate; commands are: train, "},
           {"help", "unknown command help; commands are: "},
           {"trian", "(did you mean train?)"},
           {"train --lrr 0.1", "did you mean --lr (not --lrr)?"},
           {"runs --sortt id", "did you mean --sort"}}) {
    const Result r = run(args);
    EXPECT_TRUE(one_error_line(r)) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(what), std::string::npos) << args << "\n" << r.out;
  }
  const Result help = run("train --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--width"), std::string::npos);
}

// Reliability B10: runs, show, export, report and sweep --dry-run open the database read-only:
// a foreign SQLite file gets one error and no initscope tables (they used to be added), and a
// results database is read without a byte changing.
TEST_F(ClusterCli, ReadOnlyCommandsNeverWriteTheDatabase) {
  const fs::path foreign = dir_ / "foreign.db";
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(foreign.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES('hi');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(h);
  }
  const auto tables = [](const fs::path& f) {
    sqlite3* h = nullptr;
    sqlite3_open_v2(f.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h, "SELECT group_concat(name) FROM sqlite_master WHERE type='table'", -1,
                       &st, nullptr);
    std::string names;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      names = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return names;
  };
  const std::vector<std::string> readers = {"runs --db ", "show 1 --db ",
                                            "export --format csv --db ",
                                            "report --out " + (dir_ / "report").string() + " --db ",
                                            "sweep " + sweep_ + " --dry-run --db "};
  for (const auto& cmd : readers) {
    const Result r = run(cmd + foreign.string());
    EXPECT_TRUE(one_error_line(r)) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("foreign.db: not an initscope results database"), std::string::npos)
        << cmd << "\n"
        << r.out;
    EXPECT_EQ(tables(foreign), "notes") << cmd;
  }
  // A real results database: every reader works and leaves the file as it was.
  ASSERT_EQ(run("sweep " + sweep_ + " --db " + db_ + common_).code, 0);
  const auto bytes = [](const std::string& f) {
    std::ifstream in(f, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string before = bytes(db_);
  for (const auto& cmd : readers) {
    const Result r = run(cmd + db_);
    EXPECT_EQ(r.code, 0) << cmd << "\n" << r.out;
  }
  EXPECT_EQ(bytes(db_), before);  // (a read-only connection may still create an empty -wal file)
}

}  // namespace
}  // namespace initscope
