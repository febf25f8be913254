// Parameters to and from .safetensors, named as PyTorch's nn.Linear stack would name them:
// layers.{i}.weight (out, in) and layers.{i}.bias (out), i from 0, F32 little-endian. A
// PyTorch user loads them with load_state_dict into a ModuleList called `layers`.
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>

#include "model/encoding.hpp"
#include "model/mlp.hpp"

namespace initscope {

/// Writes the parameters, and B as `encoding.B` if `encoding` is a Fourier-feature one.
void save_params(const std::filesystem::path& file, const Mlp& net, std::span<const float> params,
                 const std::map<std::string, std::string>& metadata = {},
                 const Encoding* encoding = nullptr);

/// Loads into `params`, checking that exactly the expected names are present with the
/// expected shapes; throws Error naming the file and the tensor otherwise. An `encoding.B` in
/// the file must equal the run's (a fourier `encoding`; B derives from the seed, σ and the
/// shape): the weights were trained behind that B. A file without one (weights from PyTorch)
/// is accepted.
void load_params(const std::filesystem::path& file, const Mlp& net, std::span<float> params,
                 const Encoding* encoding = nullptr);

}  // namespace initscope
