// Layout and initialization of the MLP's flat parameter buffer.
#include "model/mlp.hpp"

#include <cmath>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/rng.hpp"

namespace initscope {

Activation parse_activation(const std::string& name) {
  std::string names;
  for (const Activation a : k_activations) {
    if (name == activation_name(a)) return a;
    names += fmt::format("{}{}", names.empty() ? "" : ", ", activation_name(a));
  }
  throw Error(
      fmt::format("--activation: unknown activation '{}' (expected one of {})", name, names));
}

std::string to_string(Activation a) {
  return activation_name(a);
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Activation a : k_activations) out.push_back(activation_name(a));
    return out;
  }();
  return names;
}

const std::vector<std::string>& init_names() {
  static const std::vector<std::string> names{
      to_string(InitScheme::xavier_normal), to_string(InitScheme::xavier_uniform),
      to_string(InitScheme::he_normal),     to_string(InitScheme::lecun_normal),
      to_string(InitScheme::siren),         to_string(InitScheme::torch_default)};
  return names;
}

InitScheme parse_init(const std::string& name) {
  if (name == "xavier_normal") return InitScheme::xavier_normal;
  if (name == "xavier_uniform") return InitScheme::xavier_uniform;
  if (name == "he_normal") return InitScheme::he_normal;
  if (name == "lecun_normal") return InitScheme::lecun_normal;
  if (name == "siren") return InitScheme::siren;
  if (name == "torch_default") return InitScheme::torch_default;
  throw Error(
      fmt::format("--init: unknown scheme '{}' (expected xavier_normal, xavier_uniform, he_normal, "
                  "lecun_normal, siren or torch_default)",
                  name));
}

std::string to_string(InitScheme s) {
  switch (s) {
    case InitScheme::xavier_normal:
      return "xavier_normal";
    case InitScheme::xavier_uniform:
      return "xavier_uniform";
    case InitScheme::he_normal:
      return "he_normal";
    case InitScheme::lecun_normal:
      return "lecun_normal";
    case InitScheme::siren:
      return "siren";
    case InitScheme::torch_default:
      return "torch_default";
  }
  return "?";
}

Mlp Mlp::make(const MlpSpec& spec) {
  if (spec.depth < 1) throw Error(fmt::format("--depth {}: must be at least 1", spec.depth));
  if (spec.width < 1) throw Error(fmt::format("--width {}: must be at least 1", spec.width));
  IS_CHECK(spec.input_dim >= 1 && spec.outputs >= 1);
  Mlp net;
  net.spec = spec;
  size_t offset = 0;
  for (int k = 0; k < spec.depth; ++k) {
    LayerSlice l;
    l.in = k == 0 ? spec.input_dim : spec.width;
    l.out = k == spec.depth - 1 ? spec.outputs : spec.width;
    l.w_offset = offset;
    offset += l.w_size();
    l.b_offset = offset;
    offset += static_cast<size_t>(l.out);
    net.layers.push_back(l);
  }
  net.num_params = offset;
  return net;
}

int64_t Mlp::max_width() const {
  int64_t w = 0;
  for (const auto& l : layers) w = std::max(w, l.out);
  return w;
}

float act_param(const MlpSpec& spec, int k) {
  switch (spec.activation) {
    case Activation::relu:
    case Activation::linear:
    case Activation::tanh:
      return 1.0f;
    case Activation::sine:
      return static_cast<float>(k == 0 ? spec.omega0 : spec.omega0_hidden);
    case Activation::gaussian:
      return static_cast<float>(spec.gauss_width);
  }
  return 1.0f;
}

double init_std(InitScheme scheme, double gain, int64_t fan_in, int64_t fan_out,
                double omega_hidden) {
  const double fi = static_cast<double>(fan_in), fo = static_cast<double>(fan_out);
  switch (scheme) {
    case InitScheme::siren:  // U(±√(6/n)/ω₀) has std √(2/n)/ω₀
      return gain * std::sqrt(2.0 / fi) / omega_hidden;
    case InitScheme::torch_default:  // U(±1/√n) has std 1/√(3n)
      return gain / std::sqrt(3.0 * fi);
    case InitScheme::xavier_normal:
    case InitScheme::xavier_uniform:
      return gain * std::sqrt(2.0 / (fi + fo));
    case InitScheme::he_normal:
      return gain * std::sqrt(2.0 / fi);
    case InitScheme::lecun_normal:
      return gain * std::sqrt(1.0 / fi);
  }
  return 0.0;
}

void init_params(const Mlp& net, std::span<float> params, InitScheme scheme, double gain,
                 uint64_t seed, double gain_first) {
  IS_CHECK(params.size() == net.num_params);
  Rng rng(seed);
  const auto uniform = [&](float* v, size_t n, double a) {  // U(−a, a), in the stream's order
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * a);
  };
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const auto& l = net.layers[k];
    const double g = k == 0 && gain_first > 0.0 ? gain_first : gain;
    const double fi = static_cast<double>(l.in);
    float* w = params.data() + l.w_offset;
    float* b = params.data() + l.b_offset;
    switch (scheme) {
      case InitScheme::xavier_normal:
      case InitScheme::he_normal:
      case InitScheme::lecun_normal: {
        const double std = init_std(scheme, g, l.in, l.out);
        for (size_t i = 0; i < l.w_size(); ++i) w[i] = static_cast<float>(rng.normal() * std);
        std::fill_n(b, l.out, 0.0f);
        break;
      }
      case InitScheme::xavier_uniform:
        uniform(w, l.w_size(), init_std(scheme, g, l.in, l.out) * std::sqrt(3.0));  // std a/√3
        std::fill_n(b, l.out, 0.0f);
        break;
      case InitScheme::siren:
        uniform(w, l.w_size(), k == 0 ? g / fi : g * std::sqrt(6.0 / fi) / net.spec.omega0_hidden);
        uniform(b, static_cast<size_t>(l.out), 1.0 / std::sqrt(fi));
        break;
      case InitScheme::torch_default:
        uniform(w, l.w_size(), g / std::sqrt(fi));
        uniform(b, static_cast<size_t>(l.out), 1.0 / std::sqrt(fi));
        break;
    }
  }
}

}  // namespace initscope
