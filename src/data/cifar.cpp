// The reader for the CIFAR-10 binary version (cifar-10-binary.tar.gz).
// Each batch file is a run of 3073-byte records: one label byte, then a 32x32 image as three
// channel planes (R, G, B). We keep that channel-major order because a fully-connected network
// does not care about layout, and copying in file order keeps the reader trivial to check.
// The Python pickle version of CIFAR-10 is deliberately not supported.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"
#include "data/data_files.hpp"
#include "data/dataset.hpp"

namespace initscope {
namespace {

constexpr int64_t k_cifar_dim = 3 * 32 * 32;
constexpr int64_t k_cifar_record = 1 + k_cifar_dim;
constexpr int k_cifar_classes = 10;
constexpr const char* k_cifar_expectation =
    "expected a file of the CIFAR-10 binary version, such as data_batch_1.bin";

}  // namespace

Dataset cifar10_read(const std::vector<std::filesystem::path>& files) {
  IS_CHECK(!files.empty(), "cifar10_read needs at least one file");
  Dataset d;
  d.dim = k_cifar_dim;
  d.num_classes = k_cifar_classes;
  for (const auto& file : files) {
    const std::vector<uint8_t> bytes = data_detail::read_file_bytes(file);
    const auto size = static_cast<int64_t>(bytes.size());
    if (size == 0)
      throw Error(fmt::format("{}: file is empty ({})", file.string(), k_cifar_expectation));
    if (size % k_cifar_record != 0)
      throw Error(
          fmt::format("{}: file has {} bytes, which is not a whole number of {}-byte "
                      "records (1 label byte + 3072 pixel bytes); it may be truncated "
                      "({})",
                      file.string(), size, k_cifar_record, k_cifar_expectation));
    const int64_t records = size / k_cifar_record;
    d.x.reserve(static_cast<size_t>((d.n + records) * k_cifar_dim));
    d.y.reserve(static_cast<size_t>(d.n + records));
    for (int64_t r = 0; r < records; ++r) {
      const uint8_t* record = bytes.data() + r * k_cifar_record;
      if (record[0] >= k_cifar_classes)
        throw Error(fmt::format("{}: record {} has label {}, expected 0..9 ({})", file.string(), r,
                                record[0], k_cifar_expectation));
      d.y.push_back(record[0]);
      for (int64_t j = 1; j <= k_cifar_dim; ++j)
        d.x.push_back(static_cast<float>(record[j]) / 255.0f);
    }
    d.n += records;
  }
  return d;
}

}  // namespace initscope
