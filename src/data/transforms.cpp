// The transforms a run applies to its data before training: subsets of the training set,
// class selection (including the binary tasks), label noise, random ±1 labels and
// standardization.
// All randomness comes from an Rng seeded by the caller, so a run's seed fixes its data; the
// algorithms are spelled out (partial Fisher–Yates, then sort) so the indices are the same on
// every platform. Augmentation is deliberately left out.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "data/dataset.hpp"

namespace initscope {
namespace {

/// m distinct values of `pool`, chosen uniformly by a partial Fisher–Yates shuffle, sorted.
/// Reorders `pool`.
std::vector<int64_t> sample_without_replacement(std::vector<int64_t>& pool, int64_t m, Rng& rng) {
  const auto n = static_cast<int64_t>(pool.size());
  IS_CHECK(m >= 0 && m <= n);
  for (int64_t i = 0; i < m; ++i) {
    const auto j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)));
    std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(j)]);
  }
  std::vector<int64_t> chosen(pool.begin(), pool.begin() + m);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

std::vector<int64_t> iota_indices(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

/// Per-class example counts for a stratified subset of size m: an equal share per class, the
/// remainder going one each to classes in a seeded random order; a class with too few examples
/// gives all it has and the shortfall is spread over the others the same way.
std::vector<int64_t> stratified_quotas(const std::vector<int64_t>& available, int64_t m, Rng& rng) {
  const size_t classes = available.size();
  std::vector<int64_t> order = iota_indices(static_cast<int64_t>(classes));
  rng.shuffle(std::span<int64_t>(order));
  std::vector<int64_t> quota(classes, 0);
  int64_t remaining = m;
  while (remaining > 0) {
    std::vector<int64_t> open;  // classes that can still give more, in the seeded order
    for (int64_t c : order)
      if (quota[static_cast<size_t>(c)] < available[static_cast<size_t>(c)]) open.push_back(c);
    IS_CHECK(!open.empty(), "m was checked against n");
    const auto count = static_cast<int64_t>(open.size());
    const int64_t share = remaining / count;
    const int64_t extra = remaining % count;
    // Each round either places everything or fills at least one class, so it terminates.
    for (int64_t i = 0; i < count; ++i) {
      const auto c = static_cast<size_t>(open[static_cast<size_t>(i)]);
      const int64_t want = share + (i < extra ? 1 : 0);
      const int64_t give = std::min(want, available[c] - quota[c]);
      quota[c] += give;
      remaining -= give;
    }
  }
  return quota;
}

}  // namespace

std::vector<int64_t> choose_subset(const Dataset& d, int64_t m, SubsetMode mode, uint64_t seed) {
  if (m <= 0)
    throw Error(fmt::format("--m {} must be positive (the training set has {} examples)", m, d.n));
  if (m > d.n)
    throw Error(
        fmt::format("--m {} is larger than the {} training examples of the dataset; "
                    "expected 1..{}",
                    m, d.n, d.n));
  switch (mode) {
    case SubsetMode::first:
      return iota_indices(m);
    case SubsetMode::random: {
      Rng rng(seed);
      std::vector<int64_t> pool = iota_indices(d.n);
      return sample_without_replacement(pool, m, rng);
    }
    case SubsetMode::stratified: {
      Rng rng(seed);
      std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(d.num_classes));
      for (int64_t i = 0; i < d.n; ++i) {
        const int32_t label = d.y[static_cast<size_t>(i)];
        IS_CHECK(label >= 0 && label < d.num_classes);
        by_class[static_cast<size_t>(label)].push_back(i);
      }
      std::vector<int64_t> available;
      for (const auto& members : by_class)
        available.push_back(static_cast<int64_t>(members.size()));
      const std::vector<int64_t> quota = stratified_quotas(available, m, rng);
      std::vector<int64_t> chosen;
      chosen.reserve(static_cast<size_t>(m));
      for (size_t c = 0; c < by_class.size(); ++c) {
        const std::vector<int64_t> part = sample_without_replacement(by_class[c], quota[c], rng);
        chosen.insert(chosen.end(), part.begin(), part.end());
      }
      std::sort(chosen.begin(), chosen.end());
      return chosen;
    }
  }
  IS_CHECK(false, "unknown SubsetMode");
  return {};
}

Dataset take_rows(const Dataset& d, const std::vector<int64_t>& rows) {
  Dataset out;
  out.n = static_cast<int64_t>(rows.size());
  out.dim = d.dim;
  out.num_classes = d.num_classes;
  out.target_dim = d.target_dim;
  out.psnr_range = d.psnr_range;
  out.x.resize(rows.size() * static_cast<size_t>(d.dim));
  out.y.resize(rows.size());
  out.targets.resize(rows.size() * static_cast<size_t>(d.target_dim));
  for (size_t k = 0; k < rows.size(); ++k) {
    const int64_t r = rows[k];
    IS_CHECK(r >= 0 && r < d.n, "row index out of range");
    std::copy_n(d.row(r), d.dim, out.x.begin() + static_cast<std::ptrdiff_t>(k) * d.dim);
    out.y[k] = d.y[static_cast<size_t>(r)];
    if (d.regression())
      std::copy_n(d.target(r), d.target_dim,
                  out.targets.begin() + static_cast<std::ptrdiff_t>(k) * d.target_dim);
  }
  return out;
}

Dataset select_classes(const Dataset& d, const std::vector<int>& classes) {
  const std::string listed = fmt::format("{}", fmt::join(classes, ","));
  if (classes.size() < 2)
    throw Error(fmt::format("--classes '{}' lists {} class(es), expected at least 2", listed,
                            classes.size()));
  std::vector<int32_t> new_label(static_cast<size_t>(d.num_classes), -1);
  for (size_t k = 0; k < classes.size(); ++k) {
    const int c = classes[k];
    if (c < 0 || c >= d.num_classes)
      throw Error(fmt::format("--classes '{}': class {} does not exist, expected classes 0..{}",
                              listed, c, d.num_classes - 1));
    if (new_label[static_cast<size_t>(c)] != -1)
      throw Error(
          fmt::format("--classes '{}': class {} is listed twice, expected distinct "
                      "classes",
                      listed, c));
    new_label[static_cast<size_t>(c)] = static_cast<int32_t>(k);
  }
  std::vector<int64_t> rows;
  std::vector<int64_t> per_class(classes.size(), 0);
  for (int64_t i = 0; i < d.n; ++i) {
    const int32_t label = new_label[static_cast<size_t>(d.y[static_cast<size_t>(i)])];
    if (label < 0) continue;
    rows.push_back(i);
    ++per_class[static_cast<size_t>(label)];
  }
  for (size_t k = 0; k < classes.size(); ++k)
    if (per_class[k] == 0)
      throw Error(
          fmt::format("--classes '{}': class {} has no examples in this data", listed, classes[k]));
  Dataset out = take_rows(d, rows);
  out.num_classes = static_cast<int>(classes.size());
  for (auto& y : out.y) y = new_label[static_cast<size_t>(y)];
  return out;
}

std::vector<int64_t> apply_label_noise(Dataset& d, double p, uint64_t seed) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(fmt::format("--noise {} is not a fraction, expected a value in [0, 1]", p));
  const int64_t count = std::llround(p * static_cast<double>(d.n));
  // Same choice as a random subset of that size, so the noisy examples are reproducible.
  Rng pick_rng(seed);
  std::vector<int64_t> pool = iota_indices(d.n);
  std::vector<int64_t> chosen = sample_without_replacement(pool, count, pick_rng);
  Rng label_rng(derive_seed(seed, "labels"));
  for (int64_t i : chosen)
    d.y[static_cast<size_t>(i)] =
        static_cast<int32_t>(label_rng.below(static_cast<uint64_t>(d.num_classes)));
  return chosen;
}

void assign_random_binary_labels(Dataset& d, uint64_t seed) {
  Rng rng(seed);
  for (auto& y : d.y) y = static_cast<int32_t>(rng.below(2));
  d.num_classes = 2;
}

void standardize(Dataset& train, Dataset& test) {
  IS_CHECK(train.dim == test.dim, "train and test must have the same features");
  IS_CHECK(train.n > 0);
  const auto dim = static_cast<size_t>(train.dim);
  // Accumulate in double: 60000 float additions lose digits a float sum cannot afford.
  std::vector<double> mean(dim, 0.0), var(dim, 0.0);
  for (int64_t i = 0; i < train.n; ++i) {
    const float* r = train.row(i);
    for (size_t j = 0; j < dim; ++j) mean[j] += r[j];
  }
  for (auto& m : mean) m /= static_cast<double>(train.n);
  for (int64_t i = 0; i < train.n; ++i) {
    const float* r = train.row(i);
    for (size_t j = 0; j < dim; ++j) {
      const double delta = r[j] - mean[j];
      var[j] += delta * delta;
    }
  }
  std::vector<double> scale(dim);
  for (size_t j = 0; j < dim; ++j) {
    const double sd = std::sqrt(var[j] / static_cast<double>(train.n));
    // A constant feature (MNIST's border pixels) would divide by zero; centering it is enough.
    scale[j] = sd < 1e-12 ? 1.0 : 1.0 / sd;
  }
  for (Dataset* d : {&train, &test})
    for (int64_t i = 0; i < d->n; ++i) {
      float* r = d->x.data() + i * d->dim;
      for (size_t j = 0; j < dim; ++j) r[j] = static_cast<float>((r[j] - mean[j]) * scale[j]);
    }
}

}  // namespace initscope
