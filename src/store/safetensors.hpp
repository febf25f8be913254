// Reading and writing .safetensors files (8-byte little-endian header length, a JSON header
// mapping names to dtype/shape/data_offsets, then the raw bytes). We write and read F32 only,
// which is what our parameters are; anything else is rejected with a clear error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace initscope {

struct TensorView {
  std::string name;
  std::vector<int64_t> shape;
  std::span<const float> data;  // product(shape) floats
};

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Writes tensors in the given order (data offsets contiguous), plus string metadata under
/// "__metadata__". Writes to a temporary file and renames, so a crash leaves no half file.
void safetensors_write(const std::filesystem::path& file, const std::vector<TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Reads every tensor. Validates the header length against the file size, the JSON, that every
/// dtype is F32, that shapes match the byte ranges, and that ranges lie inside the data and do
/// not overlap. Throws Error naming the file and the tensor on any problem. Returned in the
/// order of their data offsets.
std::vector<Tensor> safetensors_read(const std::filesystem::path& file);

}  // namespace initscope
