// Named datasets: where they live (the data directory), how each is laid out on disk, loading
// them by name, and check_data's per-file report. Fetching is in fetch.cpp.
// Every "file not found" error says how to get the file, since that is the first error any
// new user meets.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.hpp"
#include "data/cache.hpp"
#include "data/data_files.hpp"
#include "data/dataset.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;
using data_detail::IdxFileSpec;

std::string cifar_missing_hint() {
  return "CIFAR-10 cannot be fetched automatically: download the CIFAR-10 binary version "
         "(cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), unpack it "
         "into a folder so that it holds cifar-10-batches-bin/, and pass that folder as "
         "--data-dir";
}

/// The path of one IDX file of `dataset` in `folder`, or an Error saying how to fetch it.
fs::path require_idx_file(const std::string& dataset, const fs::path& folder,
                          std::string_view name) {
  if (auto found = data_detail::find_idx_file(folder, name)) return *found;
  const fs::path raw = folder / name;
  throw Error(
      fmt::format("{}: file not found (nor {}.gz); run `initscope data fetch {}` to put "
                  "the {} files there, or pass --data-dir to a folder that holds {}/",
                  raw.string(), raw.filename().string(), dataset, dataset, dataset));
}

TrainTest load_idx_dataset(const std::string& dataset, const fs::path& folder,
                           const std::array<IdxFileSpec, 4>& files) {
  // The spec arrays list train images, train labels, test images, test labels in that order.
  std::array<fs::path, 4> paths;
  for (size_t i = 0; i < files.size(); ++i)
    paths[i] = require_idx_file(dataset, folder, files[i].name);
  TrainTest tt{idx_load(paths[0], paths[1]), idx_load(paths[2], paths[3])};
  if (tt.train.dim != tt.test.dim)
    throw Error(
        fmt::format("{} has images of {} pixels but {} has {}; expected train and test "
                    "images of the same size",
                    paths[0].string(), tt.train.dim, paths[2].string(), tt.test.dim));
  return tt;
}

fs::path require_cifar_file(const fs::path& folder, std::string_view name) {
  const fs::path file = folder / name;
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw Error(fmt::format("{}: file not found. {}", file.string(), cifar_missing_hint()));
  return file;
}

TrainTest load_cifar10(const fs::path& dir) {
  const fs::path folder = dir / data_detail::k_cifar_folder;
  std::vector<fs::path> train_files;
  for (auto name : data_detail::k_cifar_train_files)
    train_files.push_back(require_cifar_file(folder, name));
  const fs::path test_file = require_cifar_file(folder, data_detail::k_cifar_test_file);
  return TrainTest{cifar10_read(train_files), cifar10_read({test_file})};
}

/// check_data's line for one IDX file: parsed, shape described, and for MNIST checksummed.
DataStatus check_idx_file(const std::string& dataset, const fs::path& folder,
                          const IdxFileSpec& spec) {
  DataStatus s;
  s.dataset = dataset;
  const auto found = data_detail::find_idx_file(folder, spec.name);
  s.file = found ? *found : folder / spec.name;
  if (!found) {
    s.detail = "missing";
    return s;
  }
  try {
    const IdxArray a = idx_read(*found);
    const size_t want_dims = spec.images ? 3 : 1;
    if (a.dims.size() != want_dims) {
      s.detail = fmt::format("{} dimensions, expected {} for {}", a.dims.size(), want_dims,
                             spec.images ? "images" : "labels");
      return s;
    }
    s.detail = data_detail::idx_describe(a);
    if (!spec.sha256.empty()) {
      // Hash the rebuilt raw bytes so a .gz copy is verified against the raw file's sum.
      const std::vector<uint8_t> raw = data_detail::idx_serialize(a);
      const std::string sum = sha256_hex(raw.data(), raw.size());
      if (sum != spec.sha256) {
        s.detail = fmt::format("sha256 mismatch: got {}, expected {}", sum, spec.sha256);
        return s;
      }
      s.detail += ", sha256 verified";
    }
    s.ok = true;
  } catch (const Error& e) {
    s.detail = e.what();
  }
  return s;
}

DataStatus check_cifar_file(const fs::path& folder, std::string_view name) {
  DataStatus s;
  s.dataset = "cifar10";
  s.file = folder / name;
  std::error_code ec;
  if (!fs::exists(s.file, ec)) {
    s.detail = "missing";
    return s;
  }
  try {
    const Dataset d = cifar10_read({s.file});
    s.detail = fmt::format("{} images 32x32x3", d.n);
    s.ok = true;
  } catch (const Error& e) {
    s.detail = e.what();
  }
  return s;
}

}  // namespace

namespace data_detail {

std::optional<fs::path> find_idx_file(const fs::path& folder, std::string_view name) {
  std::error_code ec;
  fs::path raw = folder / name;
  if (fs::exists(raw, ec)) return raw;
  fs::path gz = folder / (std::string(name) + ".gz");
  if (fs::exists(gz, ec)) return gz;
  return std::nullopt;
}

}  // namespace data_detail

fs::path data_dir(const std::optional<fs::path>& override_dir) {
  if (override_dir) return *override_dir;
  if (const char* env = std::getenv("INITSCOPE_DATA"); env != nullptr && env[0] != '\0')
    return fs::path(env);
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0')
    return fs::path(home) / ".cache" / "initscope";
  throw Error(
      "cannot choose a data directory: HOME is not set; pass --data-dir or set "
      "INITSCOPE_DATA");
}

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names{"mnist", "fashion-mnist", "cifar10"};
  return names;
}

TrainTest load_dataset_in_memory(const std::string& name, const fs::path& dir) {
  if (name == "mnist") return load_idx_dataset(name, dir / "mnist", data_detail::k_mnist_files);
  if (name == "fashion-mnist")
    return load_idx_dataset(name, dir / "fashion-mnist", data_detail::k_fashion_files);
  if (name == "cifar10") return load_cifar10(dir);
  throw Error(fmt::format("unknown dataset '{}', expected one of: {}", name,
                          fmt::join(dataset_names(), ", ")));
}

namespace data_detail {

std::vector<fs::path> dataset_source_files(const std::string& name, const fs::path& dir) {
  std::vector<fs::path> files;
  const auto idx = [&](const fs::path& folder, const std::array<IdxFileSpec, 4>& specs) {
    for (const auto& spec : specs) files.push_back(require_idx_file(name, folder, spec.name));
  };
  if (name == "mnist") {
    idx(dir / "mnist", k_mnist_files);
  } else if (name == "fashion-mnist") {
    idx(dir / "fashion-mnist", k_fashion_files);
  } else if (name == "cifar10") {
    const fs::path folder = dir / k_cifar_folder;
    for (auto file : k_cifar_train_files) files.push_back(require_cifar_file(folder, file));
    files.push_back(require_cifar_file(folder, k_cifar_test_file));
  } else {
    throw Error(fmt::format("unknown dataset '{}', expected one of: {}", name,
                            fmt::join(dataset_names(), ", ")));
  }
  return files;
}

}  // namespace data_detail

std::vector<DataStatus> check_data(const fs::path& dir) {
  std::vector<DataStatus> out;
  for (const auto& spec : data_detail::k_mnist_files)
    out.push_back(check_idx_file("mnist", dir / "mnist", spec));
  for (const auto& spec : data_detail::k_fashion_files)
    out.push_back(check_idx_file("fashion-mnist", dir / "fashion-mnist", spec));
  const fs::path cifar = dir / data_detail::k_cifar_folder;
  for (auto name : data_detail::k_cifar_train_files) out.push_back(check_cifar_file(cifar, name));
  out.push_back(check_cifar_file(cifar, data_detail::k_cifar_test_file));
  // The caches of the datasets whose files are all there and valid.
  for (const std::string& name : dataset_names()) {
    const bool complete = std::all_of(
        out.begin(), out.end(), [&](const DataStatus& s) { return s.dataset != name || s.ok; });
    if (complete) out.push_back(check_dataset_cache(name, dir));
  }
  for (const auto& img : standard_images()) {
    DataStatus s;
    s.dataset = "images";
    s.file = dir / "images" / (std::string(img.name) + ".png");
    std::error_code ec;
    if (!fs::is_regular_file(s.file, ec)) {
      s.detail = "missing";
    } else if (const std::string sum = sha256_file(s.file); sum != img.sha256) {
      s.detail = fmt::format("sha256 mismatch: got {}, expected {}", sum, img.sha256);
    } else {
      try {
        const GrayImage g = read_png_gray(s.file);
        s.detail = fmt::format("{}x{} pixels, sha256 verified", g.cols, g.rows);
        s.ok = true;
      } catch (const Error& e) {
        s.detail = e.what();
      }
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace initscope
