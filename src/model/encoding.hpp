// Input encodings: a fixed, untrained map γ applied to every input row before the first layer,
// so the network is f(x) = MLP(γ(x)) and its input_dim is γ's width. The encoding is part of
// the model: run/ saves B with the weights (checkpoint.hpp), and the trainer applies it to the
// training and test sets once (prepare_data), so that training, evaluation and every measure
// see the same function. A measure that evaluates the network at inputs of its own (a grid)
// must call encode() first.
//  fourier:    γ(v) = [cos(2π·Bv), sin(2π·Bv)] (Tancik et al. 2020; all cosines, then all
//              sines), B (features, input_dim) ~ N(0, σ²), drawn once from the stream
//              derive_seed(run seed, "fourier") in row-major order; width 2·features.
//  positional: NeRF's γ(v) = [sin(2^0·π·v), cos(2^0·π·v), …, sin(2^{L−1}·π·v), cos(2^{L−1}·π·v)]
//              (Mildenhall et al. 2020, eq. 4, with π as in the paper; nerf-pytorch's order,
//              each block over the d coordinates), v itself not included; deterministic;
//              width 2·L·input_dim.
// Both are computed in double and rounded once to float (2π·Bv reaches hundreds of radians
// for σ = 10; a float argument would lose the fourth decimal of the result).
// Deliberately left out: trainable encodings (hash grids) and including v in the positional
// encoding (add a level −∞ if needed).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace initscope {

enum class EncodingKind { none, fourier, positional };
EncodingKind parse_encoding(const std::string& name);  // throws Error naming --encoding
std::string to_string(EncodingKind k);
/// Every kind's name, in the enum's order (the option table's choices).
const std::vector<std::string>& encoding_names();

/// What the options ask for.
struct EncodingSpec {
  EncodingKind kind = EncodingKind::none;
  int64_t features = 256;  // fourier: rows of B (m)
  double sigma = 10.0;     // fourier: std of B's entries
  int levels = 10;         // positional: L
};

/// A built encoding for inputs of input_dim coordinates.
struct Encoding {
  EncodingKind kind = EncodingKind::none;
  int64_t input_dim = 0;
  int64_t features = 0;  // fourier: m
  int levels = 0;        // positional: L
  std::vector<float> B;  // fourier: (features, input_dim) row-major; empty otherwise
  /// γ's width: input_dim (none), 2·features (fourier), 2·levels·input_dim (positional).
  int64_t output_dim() const;
};

/// Builds the encoding; for fourier, B is drawn from Rng(seed) (pass derive_seed(run seed,
/// "fourier")). Throws Error naming the flag for features < 1 or levels < 1.
Encoding make_encoding(const EncodingSpec& spec, int64_t input_dim, uint64_t seed);

/// out (n, output_dim) = γ(x (n, input_dim)), row by row. For kind none, a copy.
void encode(const Encoding& e, const float* x, int64_t n, float* out);

/// encode() over a whole row-major matrix (n, input_dim).
std::vector<float> encode(const Encoding& e, std::span<const float> x);

}  // namespace initscope
