// The input encodings of encoding.hpp.
#include "model/encoding.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/rng.hpp"

namespace initscope {

const std::vector<std::string>& encoding_names() {
  static const std::vector<std::string> names{to_string(EncodingKind::none),
                                              to_string(EncodingKind::fourier),
                                              to_string(EncodingKind::positional)};
  return names;
}

EncodingKind parse_encoding(const std::string& name) {
  if (name == "none") return EncodingKind::none;
  if (name == "fourier") return EncodingKind::fourier;
  if (name == "positional") return EncodingKind::positional;
  throw Error(fmt::format("--encoding {}: expected none, fourier or positional", name));
}

std::string to_string(EncodingKind k) {
  switch (k) {
    case EncodingKind::none:
      return "none";
    case EncodingKind::fourier:
      return "fourier";
    case EncodingKind::positional:
      return "positional";
  }
  return "?";
}

int64_t Encoding::output_dim() const {
  switch (kind) {
    case EncodingKind::none:
      return input_dim;
    case EncodingKind::fourier:
      return 2 * features;
    case EncodingKind::positional:
      return 2 * static_cast<int64_t>(levels) * input_dim;
  }
  return input_dim;
}

Encoding make_encoding(const EncodingSpec& spec, int64_t input_dim, uint64_t seed) {
  IS_CHECK(input_dim >= 1);
  Encoding e;
  e.kind = spec.kind;
  e.input_dim = input_dim;
  switch (spec.kind) {
    case EncodingKind::none:
      break;
    case EncodingKind::fourier: {
      if (spec.features < 1)
        throw Error(fmt::format("--fourier-features {}: must be at least 1", spec.features));
      if (!(spec.sigma > 0.0))
        throw Error(fmt::format("--fourier-sigma {}: must be positive", spec.sigma));
      e.features = spec.features;
      e.B.resize(static_cast<size_t>(spec.features * input_dim));
      Rng rng(seed);
      for (auto& b : e.B) b = static_cast<float>(rng.normal() * spec.sigma);
      break;
    }
    case EncodingKind::positional:
      if (spec.levels < 1)
        throw Error(fmt::format("--pe-levels {}: must be at least 1", spec.levels));
      e.levels = spec.levels;
      break;
  }
  return e;
}

void encode(const Encoding& e, const float* x, int64_t n, float* out) {
  const int64_t d = e.input_dim, w = e.output_dim();
  for (int64_t i = 0; i < n; ++i) {
    const float* v = x + i * d;
    float* o = out + i * w;
    switch (e.kind) {
      case EncodingKind::none:
        std::copy_n(v, d, o);
        break;
      case EncodingKind::fourier:
        // o[j] = cos(2π·b_j·v), o[m + j] = sin(2π·b_j·v); the product in double
        for (int64_t j = 0; j < e.features; ++j) {
          const float* b = e.B.data() + j * d;
          double dot = 0.0;
          for (int64_t c = 0; c < d; ++c) dot += static_cast<double>(b[c]) * v[c];
          const double a = 2.0 * M_PI * dot;
          o[j] = static_cast<float>(std::cos(a));
          o[e.features + j] = static_cast<float>(std::sin(a));
        }
        break;
      case EncodingKind::positional:
        // level k: o[2kd + c] = sin(2^k·π·v_c), o[(2k+1)d + c] = cos(2^k·π·v_c)
        for (int k = 0; k < e.levels; ++k) {
          const double f = std::ldexp(M_PI, k);
          for (int64_t c = 0; c < d; ++c) {
            const double a = f * static_cast<double>(v[c]);
            o[(2 * k) * d + c] = static_cast<float>(std::sin(a));
            o[(2 * k + 1) * d + c] = static_cast<float>(std::cos(a));
          }
        }
        break;
    }
  }
}

std::vector<float> encode(const Encoding& e, std::span<const float> x) {
  IS_CHECK(x.size() % static_cast<size_t>(e.input_dim) == 0);
  const auto n = static_cast<int64_t>(x.size()) / e.input_dim;
  std::vector<float> out(static_cast<size_t>(n * e.output_dim()));
  encode(e, x.data(), n, out.data());
  return out;
}

}  // namespace initscope
