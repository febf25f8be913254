// The fully-connected network of Nagarajan & Kolter: f(x) = W_d φ(… φ(W_1 x + b_1) …) + b_d.
// Its parameters live in one flat float buffer; Mlp only knows where each layer's W (out, in)
// and b (out) sit in it. The same layout serves the gradients, the momentum and the initial
// parameters, so distance from init, norms and saving weights work on plain vectors.
// Layer order and shapes follow PyTorch's nn.Linear, so weights can be exchanged one to one.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/activation.hpp"

namespace initscope {

// Activation (relu, linear, tanh) and its math: model/activation.hpp.
Activation parse_activation(const std::string& name);  // throws Error naming --activation
std::string to_string(Activation a);
/// Every activation's name, in the enum's order (the option table's choices).
const std::vector<std::string>& activation_names();

/// Random initialization schemes. The first four draw weights only, biases start at zero (the
/// paper's C). The other two also draw the biases, from the same stream right after each
/// layer's weights:
///  siren:         official SIREN code (measures-reference.md §6.1): first layer
///                 W ~ U(−1/n, 1/n), later layers (the last one too) U(−√(6/n)/ω₀, √(6/n)/ω₀)
///                 with ω₀ = MlpSpec::omega0_hidden; biases keep nn.Linear's U(−1/√n, 1/√n)
///                 (SIREN never re-initializes them; the sine layer then multiplies them by ω₀);
///  torch_default: PyTorch's nn.Linear (kaiming_uniform with a = √5): W ~ U(−1/√n, 1/√n),
///                 b ~ U(−1/√n, 1/√n).
/// n is the layer's fan_in. Gains multiply the weights' scale (std or bound), never the biases'.
enum class InitScheme {
  xavier_normal,
  xavier_uniform,
  he_normal,
  lecun_normal,
  siren,
  torch_default
};
InitScheme parse_init(const std::string& name);  // throws Error naming --init
std::string to_string(InitScheme s);
/// Every scheme's name, in the enum's order.
const std::vector<std::string>& init_names();

struct MlpSpec {
  int64_t input_dim = 784;
  int64_t width = 256;  // H, the same for every hidden layer
  int depth = 5;        // number of weight layers d (d − 1 hidden layers)
  int64_t outputs = 10;
  Activation activation = Activation::relu;
  double omega0 = 30.0;         // sine: ω of the first layer (SIREN's first_omega_0)
  double omega0_hidden = 30.0;  // sine: ω of the later hidden layers; siren init's ω₀
  double gauss_width = 1.0;     // gaussian: s
};

/// The parameter of hidden layer k's activation (activation.hpp): sine's ω (omega0 for k = 0,
/// omega0_hidden after), gaussian's s, 1 for the others.
float act_param(const MlpSpec& spec, int k);

/// Where layer k's weight (out, in) and bias (out) sit in the flat buffer.
struct LayerSlice {
  int64_t in = 0, out = 0;
  size_t w_offset = 0, b_offset = 0;
  size_t w_size() const { return static_cast<size_t>(in * out); }
};

struct Mlp {
  MlpSpec spec;
  std::vector<LayerSlice> layers;  // d layers, input to output
  size_t num_params = 0;

  /// Validates the spec (depth ≥ 1, width ≥ 1, ...) and lays out the buffer.
  static Mlp make(const MlpSpec& spec);
  int depth() const { return static_cast<int>(layers.size()); }
  int64_t max_width() const;  // widest layer output, for workspace sizing
};

/// Fills `params` (num_params floats): weights by `scheme` times `gain` (`gain_first` for the
/// first layer; 0 = `gain`), biases zero or by the scheme (see InitScheme). Layer by layer from
/// one seeded stream: the weights in row-major order, then the biases if the scheme draws them.
void init_params(const Mlp& net, std::span<float> params, InitScheme scheme, double gain,
                 uint64_t seed, double gain_first = 0.0);

/// The standard deviation a scheme gives a weight of a layer with these fans: for siren, that
/// of a layer after the first (with ω₀ = omega_hidden; the first layer's is 1/(√3·fan_in)).
double init_std(InitScheme scheme, double gain, int64_t fan_in, int64_t fan_out,
                double omega_hidden = 30.0);

}  // namespace initscope
