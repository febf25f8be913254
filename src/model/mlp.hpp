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

/// Random initialization schemes for the weights; biases always start at zero (the paper's C).
enum class InitScheme { xavier_normal, xavier_uniform, he_normal, lecun_normal };
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
};

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

/// Fills `params` (num_params floats): weights by `scheme` times `gain`, biases zero.
/// Weights are drawn layer by layer in row-major order from one seeded stream.
void init_params(const Mlp& net, std::span<float> params, InitScheme scheme, double gain,
                 uint64_t seed);

/// The standard deviation a scheme gives a weight of a layer with these fans.
double init_std(InitScheme scheme, double gain, int64_t fan_in, int64_t fan_out);

}  // namespace initscope
