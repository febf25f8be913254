// The CIFAR-10 experiment files (nk17-expB.toml, the CIFAR-10 half of the Figure 5 files) on
// generated CIFAR-format files: CIFAR-10 cannot be fetched here, so this is what checks that
// their configurations load the dataset, build the task they describe (10 outputs for
// Experiment B, one output with ±1 labels for Figure 5) and train. Each distinct experiment of
// the files runs once, shrunk to m = 40, H = 16 and 3 steps.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "sweep/sweep.hpp"
#include "train/trainer.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

// n records of label i mod 10 and pixels (seed + i + j) mod 256.
void write_cifar(const fs::path& file, int n, int seed) {
  std::ofstream f(file, std::ios::binary);
  for (int i = 0; i < n; ++i) {
    f.put(static_cast<char>(i % 10));
    for (int j = 0; j < 3072; ++j) f.put(static_cast<char>((seed + i + j) % 256));
  }
}

TEST(CifarExperiments, EveryCifarExperimentLoadsBuildsItsTaskAndTrains) {
  std::string tmpl = (fs::temp_directory_path() / "initscope_cifar_XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  fs::create_directories(dir / "cifar-10-batches-bin");
  for (int b = 1; b <= 5; ++b)
    write_cifar(dir / "cifar-10-batches-bin" / ("data_batch_" + std::to_string(b) + ".bin"), 40, b);
  write_cifar(dir / "cifar-10-batches-bin" / "test_batch.bin", 30, 7);
  const fs::path experiments = fs::path(INITSCOPE_TEST_DIR) / ".." / ".." / "experiments";
  int ran = 0;
  for (const char* file : {"nk17-expB.toml", "nk17-fig5-random-pm1.toml", "nk17-fig5.toml"}) {
    std::set<std::string> seen;
    for (TrainConfig c : sweep_load(experiments / file).runs) {
      if (c.dataset != "cifar10") continue;
      c.m = 40;
      c.width = 16;
      c.seed = 1;
      if (!seen.insert(config_hash(c)).second) continue;
      c.max_steps = 3;
      const TrainTest raw = load_dataset("cifar10", dir);
      ASSERT_EQ(raw.train.n, 200) << file;
      const PreparedData data = prepare_data(c, raw);
      EXPECT_EQ(data.train.dim, 3072) << file;
      EXPECT_EQ(data.outputs, is_binary_task(c) ? 1 : 10) << file;
      if (c.labels == LabelMode::random_pm1) {
        EXPECT_EQ(data.train.n, 40) << file;  // images of every class
        EXPECT_EQ(data.test.n, 30) << file;
      }
      Trainer t(c, data);
      const RunOutcome out = t.run();
      EXPECT_EQ(out.status, RunStatus::completed) << file;
      EXPECT_EQ(out.metrics.at("steps"), 3) << file;
      ++ran;
    }
  }
  EXPECT_EQ(ran, 3);  // Experiment B, Figure 5 (random ±1), Figure 5 (two classes)
  fs::remove_all(dir);
}

}  // namespace
}  // namespace initscope
