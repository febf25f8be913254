// Mapping between the flat parameter buffer and named safetensors tensors.
#include "run/checkpoint.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "common/error.hpp"
#include "store/safetensors.hpp"

namespace initscope {

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}
}  // namespace

void save_params(const std::filesystem::path& file, const Mlp& net, std::span<const float> params,
                 const std::map<std::string, std::string>& metadata, const Encoding* encoding) {
  IS_CHECK(params.size() == net.num_params);
  std::vector<TensorView> tensors;
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const auto& l = net.layers[i];
    tensors.push_back({fmt::format("layers.{}.weight", i),
                       {l.out, l.in},
                       params.subspan(l.w_offset, l.w_size())});
    tensors.push_back({fmt::format("layers.{}.bias", i),
                       {l.out},
                       params.subspan(l.b_offset, static_cast<size_t>(l.out))});
  }
  if (encoding && encoding->kind == EncodingKind::fourier)
    tensors.push_back({"encoding.B", {encoding->features, encoding->input_dim}, encoding->B});
  safetensors_write(file, tensors, metadata);
}

void load_params(const std::filesystem::path& file, const Mlp& net, std::span<float> params,
                 const Encoding* encoding) {
  IS_CHECK(params.size() == net.num_params);
  const std::vector<Tensor> tensors = safetensors_read(file);
  std::set<std::string> seen;
  for (const auto& t : tensors) {
    if (t.name != "encoding.B") continue;
    if (!encoding || encoding->kind != EncodingKind::fourier)
      throw Error(
          fmt::format("{}: holds a Fourier-feature matrix 'encoding.B' but the run has no "
                      "Fourier encoding (add --encoding fourier with the run's "
                      "--fourier-features, --fourier-sigma and --seed)",
                      file.string()));
    const std::vector<int64_t> shape{encoding->features, encoding->input_dim};
    if (t.shape != shape || !std::equal(t.data.begin(), t.data.end(), encoding->B.begin()))
      throw Error(
          fmt::format("{}: its 'encoding.B' {} differs from this run's B {} (use the "
                      "--seed, --fourier-features and --fourier-sigma the weights were "
                      "trained with)",
                      file.string(), shape_str(t.shape), shape_str(shape)));
    seen.insert(t.name);
  }
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const auto& l = net.layers[i];
    for (const bool is_weight : {true, false}) {
      const std::string name = fmt::format("layers.{}.{}", i, is_weight ? "weight" : "bias");
      const std::vector<int64_t> shape =
          is_weight ? std::vector<int64_t>{l.out, l.in} : std::vector<int64_t>{l.out};
      const auto it = std::find_if(tensors.begin(), tensors.end(),
                                   [&](const Tensor& t) { return t.name == name; });
      if (it == tensors.end())
        throw Error(
            fmt::format("{}: tensor '{}' is missing (expected {} of shape {} for a "
                        "depth-{} network of width {})",
                        file.string(), name, name, shape_str(shape), net.depth(), net.spec.width));
      if (it->shape != shape)
        throw Error(
            fmt::format("{}: tensor '{}' has shape {}, expected {} (check --width, "
                        "--depth and the dataset)",
                        file.string(), name, shape_str(it->shape), shape_str(shape)));
      std::copy(it->data.begin(), it->data.end(),
                params.begin() + static_cast<std::ptrdiff_t>(is_weight ? l.w_offset : l.b_offset));
      seen.insert(name);
    }
  }
  for (const auto& t : tensors)
    if (!seen.count(t.name))
      throw Error(
          fmt::format("{}: unexpected tensor '{}' (expected only layers.{{0..{}}}.weight "
                      "and .bias)",
                      file.string(), t.name, net.depth() - 1));
}

}  // namespace initscope
