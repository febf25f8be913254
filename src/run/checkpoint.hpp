// Parameters to and from .safetensors, named as PyTorch's nn.Linear stack would name them:
// layers.{i}.weight (out, in) and layers.{i}.bias (out), i from 0, F32 little-endian. A
// PyTorch user loads them with load_state_dict into a ModuleList called `layers`.
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>

#include "model/mlp.hpp"

namespace initscope {

void save_params(const std::filesystem::path& file, const Mlp& net, std::span<const float> params,
                 const std::map<std::string, std::string>& metadata = {});

/// Loads into `params`, checking that exactly the expected names are present with the
/// expected shapes; throws Error naming the file and the tensor otherwise.
void load_params(const std::filesystem::path& file, const Mlp& net, std::span<float> params);

}  // namespace initscope
