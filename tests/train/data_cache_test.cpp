// Runs are bit-for-bit the same whether their data come from the shared dataset cache (mapped
// views, data/cache.hpp) or from the source files converted in memory: the same weights, the
// same trajectory and the same metrics, through every transform prepare_data applies (subsets,
// classes, label noise, random ±1 labels, standardization, an encoding).
#include <gtest/gtest.h>

#include <cblas.h>

#include <cmath>
#include <cstring>
#include <string>

#include "../common/learnable_mnist.hpp"
#include "../data/fixtures.hpp"
#include "data/cache.hpp"
#include "train/trainer.hpp"

namespace initscope {
namespace {

TrainConfig small_config() {
  TrainConfig c;
  c.dataset = "mnist";
  c.width = 16;
  c.depth = 2;
  c.m = 128;
  c.batch = 32;
  c.lr = 0.1;
  c.momentum = 0.9;
  c.max_epochs = 3;
  c.seed = 7;
  return c;
}

void expect_same_run(const TrainConfig& c, const TrainTest& in_memory, const TrainTest& cached) {
  const PreparedData a_data = prepare_data(c, in_memory), b_data = prepare_data(c, cached);
  Trainer a(c, a_data), b(c, b_data);
  const RunOutcome oa = a.run(), ob = b.run();
  ASSERT_EQ(a.params().size(), b.params().size());
  EXPECT_EQ(0,
            std::memcmp(a.params().data(), b.params().data(), a.params().size() * sizeof(float)));
  ASSERT_EQ(oa.trajectory.size(), ob.trajectory.size());
  for (size_t i = 0; i < oa.trajectory.size(); ++i)
    EXPECT_EQ(oa.trajectory[i].value, ob.trajectory[i].value) << oa.trajectory[i].name;
  for (const auto& [name, value] : oa.metrics) {
    if (name.find("seconds") != std::string::npos || name.find("per_second") != std::string::npos)
      continue;  // timings
    ASSERT_TRUE(ob.metrics.count(name)) << name;
    if (std::isnan(value))
      EXPECT_TRUE(std::isnan(ob.metrics.at(name))) << name;
    else
      EXPECT_EQ(value, ob.metrics.at(name)) << name;
  }
  EXPECT_EQ(a_data.corrupted, b_data.corrupted);
}

TEST(DataCache, RunsAreBitForBitWithAndWithoutTheCache) {
  openblas_set_num_threads(1);
  test::TempDir tmp;
  testing::write_learnable_mnist_dir(tmp.path(), 400, 100);
  const TrainTest in_memory = load_dataset_in_memory("mnist", tmp.path());
  load_dataset("mnist", tmp.path());  // builds the cache
  const TrainTest cached = load_dataset("mnist", tmp.path());
  ASSERT_TRUE(cached.train.x.is_view());
  ASSERT_FALSE(in_memory.train.x.is_view());

  TrainConfig c = small_config();
  expect_same_run(c, in_memory, cached);
  c.m = 0;  // the whole training set: the run trains on the view itself
  expect_same_run(c, in_memory, cached);
  c = small_config();
  c.classes = {1, 2, 3};
  c.noise = 0.2;
  expect_same_run(c, in_memory, cached);
  c = small_config();
  c.standardize = true;
  c.subset = SubsetMode::stratified;
  expect_same_run(c, in_memory, cached);
  c = small_config();
  c.labels = LabelMode::random_pm1;
  c.loss = Loss::logistic;
  expect_same_run(c, in_memory, cached);
  // Nothing the runs did wrote into the mapping.
  EXPECT_TRUE(cached.train.x == in_memory.train.x);
  EXPECT_TRUE(cached.test.x == in_memory.test.x);
}

}  // namespace
}  // namespace initscope
