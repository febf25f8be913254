// A small separable problem that trains in milliseconds: K Gaussian blobs in `dim` dimensions.
#pragma once

#include "common/rng.hpp"
#include "train/trainer.hpp"

namespace initscope::testing {

inline Dataset blobs(int64_t n, int64_t dim, int k, uint64_t seed, double spread = 0.3) {
  Dataset d;
  d.n = n;
  d.dim = dim;
  d.num_classes = k;
  d.x.resize(static_cast<size_t>(n * dim));
  d.y.resize(static_cast<size_t>(n));
  Rng r(seed);
  std::vector<double> centers(static_cast<size_t>(k * dim));
  Rng rc(1234);  // the same centers for train and test sets
  for (auto& c : centers) c = rc.normal();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t y = static_cast<int32_t>(i % k);
    d.y[static_cast<size_t>(i)] = y;
    for (int64_t j = 0; j < dim; ++j)
      d.x[static_cast<size_t>(i * dim + j)] =
          static_cast<float>(centers[static_cast<size_t>(y * dim + j)] + spread * r.normal());
  }
  return d;
}

inline PreparedData toy_data(int k = 3) {
  PreparedData p;
  p.train = blobs(240, 8, k, 1);
  p.test = blobs(120, 8, k, 2);
  p.outputs = k;
  return p;
}

inline TrainConfig toy_config() {
  TrainConfig c;
  c.width = 16;
  c.depth = 3;
  c.lr = 0.05;
  c.momentum = 0.9;
  c.batch = 16;
  c.max_epochs = 200;
  return c;
}

}  // namespace initscope::testing
