// A tiny MNIST-format dataset that a network can actually learn, written at test time:
// 4x4 images whose brightest quadrant is the label (0..3), plus noise.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/rng.hpp"

namespace initscope::testing {

inline void write_be32(std::ofstream& f, uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v >> 24),
                              static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  f.write(reinterpret_cast<const char*>(b), 4);
}

/// Writes `prefix`-images-idx3-ubyte and `prefix`-labels-idx1-ubyte with n examples into dir.
inline void write_mnist_like(const std::filesystem::path& dir, const std::string& prefix,
                             uint32_t n, uint64_t seed) {
  Rng r(seed);
  std::ofstream img(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary);
  std::ofstream lab(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
  write_be32(img, 0x803);
  write_be32(img, n);
  write_be32(img, 4);
  write_be32(img, 4);
  write_be32(lab, 0x801);
  write_be32(lab, n);
  for (uint32_t i = 0; i < n; ++i) {
    const int y = static_cast<int>(i % 4);
    for (int row = 0; row < 4; ++row)
      for (int col = 0; col < 4; ++col) {
        const int q = (row / 2) * 2 + col / 2;
        img.put(static_cast<char>((q == y ? 180 : 20) + static_cast<int>(r.below(60))));
      }
    lab.put(static_cast<char>(y));
  }
}

/// A data directory with mnist/ holding n_train training and n_test test examples.
inline void write_learnable_mnist_dir(const std::filesystem::path& data_dir, uint32_t n_train = 400,
                                      uint32_t n_test = 100) {
  std::filesystem::create_directories(data_dir / "mnist");
  write_mnist_like(data_dir / "mnist", "train", n_train, 1);
  write_mnist_like(data_dir / "mnist", "t10k", n_test, 2);
}

}  // namespace initscope::testing
