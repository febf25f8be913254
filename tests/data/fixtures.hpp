// Test helpers for tests/data: a self-deleting temporary folder and writers for tiny IDX and
// CIFAR files, so fixtures are generated at test time instead of committed as binaries.
#pragma once

#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace initscope::test {

/// A fresh, uniquely named folder under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "initscope-data-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& file, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

inline void write_gzip(const std::filesystem::path& file, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(file.parent_path());
  gzFile gz = gzopen(file.c_str(), "wb");
  if (gz == nullptr) throw std::runtime_error("cannot gzopen " + file.string());
  if (!bytes.empty() && gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) <= 0)
    throw std::runtime_error("gzwrite failed");
  gzclose(gz);
}

/// An IDX file image: magic 0 0 0x08 ndims, big-endian sizes, then `data`.
inline std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims,
                                      const std::vector<uint8_t>& data, uint8_t type = 0x08) {
  std::vector<uint8_t> out{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

/// n images of rows x cols where pixel k of image i is (i * 7 + k) mod 256.
inline std::vector<uint8_t> image_pixels(uint32_t n, uint32_t rows, uint32_t cols) {
  std::vector<uint8_t> px(size_t{n} * rows * cols);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < size_t{rows} * cols; ++k)
      px[i * rows * cols + k] = static_cast<uint8_t>((i * 7 + k) % 256);
  return px;
}

/// Writes the four files of a tiny MNIST-format dataset into `folder` (gzip if `gz`).
inline void write_tiny_mnist(const std::filesystem::path& folder, bool gz, uint32_t n_train = 6,
                             uint32_t n_test = 4, uint32_t side = 3) {
  auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    if (gz)
      write_gzip(folder / (name + ".gz"), bytes);
    else
      write_bytes(folder / name, bytes);
  };
  auto labels = [](uint32_t n) {
    std::vector<uint8_t> y(n);
    for (uint32_t i = 0; i < n; ++i) y[i] = static_cast<uint8_t>(i % 10);
    return y;
  };
  write("train-images-idx3-ubyte",
        idx_bytes({n_train, side, side}, image_pixels(n_train, side, side)));
  write("train-labels-idx1-ubyte", idx_bytes({n_train}, labels(n_train)));
  write("t10k-images-idx3-ubyte",
        idx_bytes({n_test, side, side}, image_pixels(n_test, side, side)));
  write("t10k-labels-idx1-ubyte", idx_bytes({n_test}, labels(n_test)));
}

/// CIFAR-10 binary records: record r has label labels[r] and pixel j equal to (r + j) mod 256.
inline std::vector<uint8_t> cifar_bytes(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> out;
  for (size_t r = 0; r < labels.size(); ++r) {
    out.push_back(labels[r]);
    for (size_t j = 0; j < 3072; ++j) out.push_back(static_cast<uint8_t>((r + j) % 256));
  }
  return out;
}

}  // namespace initscope::test
