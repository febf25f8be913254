// Tests for the data transforms: subsets, class selection, label noise, random ±1 labels and
// standardization,
// on small synthetic datasets whose answers can be worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/dataset.hpp"
#include "error_matchers.hpp"

namespace initscope {
namespace {

using test::expect_error_with;

/// n examples with labels i mod classes and features (i, 2i + j, j) for feature j.
Dataset make_dataset(int64_t n, int classes, int64_t dim = 3) {
  Dataset d;
  d.n = n;
  d.dim = dim;
  d.num_classes = classes;
  for (int64_t i = 0; i < n; ++i) {
    d.y.push_back(static_cast<int32_t>(i % classes));
    for (int64_t j = 0; j < dim; ++j)
      d.x.push_back(static_cast<float>(j == 0 ? i : j == 1 ? 2 * i + j : j));
  }
  return d;
}

bool sorted_unique(const std::vector<int64_t>& v) {
  return std::is_sorted(v.begin(), v.end()) && std::adjacent_find(v.begin(), v.end()) == v.end();
}

std::vector<int64_t> class_counts(const Dataset& d, const std::vector<int64_t>& rows) {
  std::vector<int64_t> counts(static_cast<size_t>(d.num_classes), 0);
  for (int64_t r : rows) ++counts[static_cast<size_t>(d.y[static_cast<size_t>(r)])];
  return counts;
}

TEST(ChooseSubset, RandomSizeOrderAndDeterminism) {
  const Dataset d = make_dataset(1000, 10);
  const auto a = choose_subset(d, 100, SubsetMode::random, 42);
  ASSERT_EQ(a.size(), 100u);
  EXPECT_TRUE(sorted_unique(a));
  EXPECT_GE(a.front(), 0);
  EXPECT_LT(a.back(), 1000);
  EXPECT_EQ(choose_subset(d, 100, SubsetMode::random, 42), a);
  EXPECT_NE(choose_subset(d, 100, SubsetMode::random, 43), a);
  EXPECT_EQ(choose_subset(d, 1000, SubsetMode::random, 42).size(), 1000u);
}

TEST(ChooseSubset, First) {
  const Dataset d = make_dataset(20, 2);
  EXPECT_EQ(choose_subset(d, 4, SubsetMode::first, 7), (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(ChooseSubset, StratifiedBalancesClasses) {
  const Dataset d = make_dataset(1000, 10);
  const auto s = choose_subset(d, 53, SubsetMode::stratified, 5);
  ASSERT_EQ(s.size(), 53u);
  EXPECT_TRUE(sorted_unique(s));
  const auto counts = class_counts(d, s);
  for (int64_t c : counts) EXPECT_TRUE(c == 5 || c == 6) << c;
  EXPECT_EQ(std::count(counts.begin(), counts.end(), 6), 3);
  EXPECT_EQ(choose_subset(d, 53, SubsetMode::stratified, 5), s);
  EXPECT_NE(choose_subset(d, 53, SubsetMode::stratified, 6), s);
}

TEST(ChooseSubset, StratifiedGivesShortfallToOtherClasses) {
  // Class 0 has 2 examples, classes 1 and 2 have 20 each; 30 = 2 + 14 + 14.
  Dataset d = make_dataset(42, 3);
  for (int64_t i = 0; i < 42; ++i) d.y[static_cast<size_t>(i)] = i < 2 ? 0 : (i % 2 ? 1 : 2);
  const auto s = choose_subset(d, 30, SubsetMode::stratified, 1);
  EXPECT_EQ(class_counts(d, s), (std::vector<int64_t>{2, 14, 14}));
  EXPECT_EQ(choose_subset(d, 42, SubsetMode::stratified, 1).size(), 42u);
}

TEST(ChooseSubset, SizeErrorsNameTheFlag) {
  const Dataset d = make_dataset(60, 10);
  expect_error_with([&] { choose_subset(d, 70, SubsetMode::random, 1); }, {"--m 70", "60"});
  expect_error_with([&] { choose_subset(d, 0, SubsetMode::first, 1); }, {"--m 0", "positive"});
}

TEST(TakeRows, CopiesRowsInGivenOrder) {
  const Dataset d = make_dataset(5, 3);
  const Dataset t = take_rows(d, {4, 1, 1});
  EXPECT_EQ(t.n, 3);
  EXPECT_EQ(t.dim, 3);
  EXPECT_EQ(t.y, (std::vector<int32_t>{1, 1, 1}));
  EXPECT_FLOAT_EQ(t.row(0)[0], 4.0f);
  EXPECT_FLOAT_EQ(t.row(1)[1], 3.0f);
}

TEST(SelectClasses, RelabelsInListOrder) {
  const Dataset d = make_dataset(30, 10);
  const Dataset b = select_classes(d, {7, 2});
  EXPECT_EQ(b.num_classes, 2);
  EXPECT_EQ(b.n, 6);
  EXPECT_EQ(b.y, (std::vector<int32_t>{1, 0, 1, 0, 1, 0}));  // rows 2, 7, 12, 17, 22, 27
  EXPECT_FLOAT_EQ(b.row(1)[0], 7.0f);
}

TEST(SelectClasses, ErrorsNameTheFlag) {
  const Dataset d = make_dataset(30, 10);
  expect_error_with([&] { select_classes(d, {3}); }, {"--classes", "at least 2"});
  expect_error_with([&] { select_classes(d, {3, 10}); }, {"--classes", "class 10", "0..9"});
  expect_error_with([&] { select_classes(d, {3, -1}); }, {"--classes", "class -1"});
  expect_error_with([&] { select_classes(d, {3, 4, 3}); }, {"--classes", "twice"});
}

TEST(LabelNoise, CountIsRoundedFractionAndIndicesSorted) {
  Dataset d = make_dataset(1001, 10);
  const auto chosen = apply_label_noise(d, 0.25, 9);
  EXPECT_EQ(static_cast<int64_t>(chosen.size()), std::llround(0.25 * 1001));
  EXPECT_TRUE(sorted_unique(chosen));
  // Only chosen examples may change.
  const Dataset clean = make_dataset(1001, 10);
  const std::set<int64_t> in(chosen.begin(), chosen.end());
  int changed = 0;
  for (int64_t i = 0; i < d.n; ++i) {
    const auto k = static_cast<size_t>(i);
    if (!in.count(i)) {
      EXPECT_EQ(d.y[k], clean.y[k]);
    }
    changed += d.y[k] != clean.y[k];
    EXPECT_GE(d.y[k], 0);
    EXPECT_LT(d.y[k], 10);
  }
  EXPECT_GT(changed, 150);  // about 90% of 250 get a different label
}

TEST(LabelNoise, DeterministicBySeed) {
  Dataset a = make_dataset(500, 10), b = make_dataset(500, 10), c = make_dataset(500, 10);
  EXPECT_EQ(apply_label_noise(a, 0.3, 1), apply_label_noise(b, 0.3, 1));
  EXPECT_EQ(a.y, b.y);
  EXPECT_NE(apply_label_noise(c, 0.3, 2), apply_label_noise(a = make_dataset(500, 10), 0.3, 1));
  // The noisy examples are the random subset of the same size and seed.
  Dataset e = make_dataset(500, 10);
  EXPECT_EQ(apply_label_noise(e, 0.3, 4), choose_subset(e, 150, SubsetMode::random, 4));
}

TEST(LabelNoise, ZeroAndOne) {
  Dataset d = make_dataset(100, 10);
  EXPECT_TRUE(apply_label_noise(d, 0.0, 3).empty());
  EXPECT_EQ(d.y, make_dataset(100, 10).y);
  const auto all = apply_label_noise(d, 1.0, 3);
  ASSERT_EQ(all.size(), 100u);
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(all[static_cast<size_t>(i)], i);
}

TEST(LabelNoise, OutOfRangeNamesTheFlag) {
  Dataset d = make_dataset(10, 2);
  expect_error_with([&] { apply_label_noise(d, 1.5, 1); }, {"--noise 1.5", "[0, 1]"});
  expect_error_with([&] { apply_label_noise(d, -0.1, 1); }, {"--noise"});
  expect_error_with([&] { apply_label_noise(d, std::nan(""), 1); }, {"--noise"});
}

TEST(RandomBinaryLabels, FairCoinsWhateverTheClassSeeded) {
  Dataset d = make_dataset(4000, 10);
  assign_random_binary_labels(d, 11);
  EXPECT_EQ(d.num_classes, 2);
  int64_t ones = 0;
  std::vector<int64_t> ones_per_class(10, 0);
  for (int64_t i = 0; i < d.n; ++i) {
    const int32_t y = d.y[static_cast<size_t>(i)];
    ASSERT_TRUE(y == 0 || y == 1);
    ones += y;
    ones_per_class[static_cast<size_t>(i % 10)] += y;
  }
  // Binomial(4000, 1/2): sd 31.6, so ±150 is beyond 4.7 sd; per class (400 each) sd 10.
  EXPECT_NEAR(static_cast<double>(ones), 2000.0, 150.0);
  for (int64_t n : ones_per_class) EXPECT_NEAR(static_cast<double>(n), 200.0, 60.0);
  // The labels carry no information about the class, and are the seed's.
  Dataset again = make_dataset(4000, 10), other = make_dataset(4000, 10);
  assign_random_binary_labels(again, 11);
  assign_random_binary_labels(other, 12);
  EXPECT_EQ(again.y, d.y);
  EXPECT_NE(other.y, d.y);
  EXPECT_EQ(again.x, make_dataset(4000, 10).x);  // images untouched
}

TEST(Standardize, TrainGetsZeroMeanUnitStd) {
  Dataset train = make_dataset(50, 2, 4), test = make_dataset(7, 2, 4);
  standardize(train, test);
  for (int64_t j = 0; j < train.dim; ++j) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < train.n; ++i) sum += train.row(i)[j];
    const double mean = sum / static_cast<double>(train.n);
    for (int64_t i = 0; i < train.n; ++i) sq += std::pow(train.row(i)[j] - mean, 2);
    const double sd = std::sqrt(sq / static_cast<double>(train.n));
    EXPECT_NEAR(mean, 0.0, 1e-5);
    if (j < 2) {
      EXPECT_NEAR(sd, 1.0, 1e-5);
    } else {
      EXPECT_NEAR(sd, 0.0, 1e-6);  // constant feature: centred, not scaled
    }
  }
  // Test uses the training statistics: feature 0 of train is 0..49 (mean 24.5, std ~14.43).
  const double train_sd = std::sqrt((50.0 * 50.0 - 1.0) / 12.0);
  EXPECT_NEAR(test.row(3)[0], (3.0 - 24.5) / train_sd, 1e-5);
  EXPECT_FLOAT_EQ(test.row(3)[2], 0.0f);
}

}  // namespace
}  // namespace initscope
