// The input encodings (model/encoding.hpp): hand values, shapes, B reproducible from its seed
// and distributed as N(0, σ²), and the identities of measures-reference.md §6.4.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "model/encoding.hpp"

namespace initscope {
namespace {

TEST(Encoding, NamesRoundTrip) {
  for (const auto& n : encoding_names()) EXPECT_EQ(to_string(parse_encoding(n)), n);
  EXPECT_THROW(parse_encoding("hash"), Error);
}

TEST(Encoding, ShapesAndBadSpecs) {
  EXPECT_EQ(make_encoding({}, 3, 1).output_dim(), 3);
  const Encoding f = make_encoding({.kind = EncodingKind::fourier, .features = 5}, 3, 1);
  EXPECT_EQ(f.output_dim(), 10);
  EXPECT_EQ(f.B.size(), 15u);
  EXPECT_EQ(make_encoding({.kind = EncodingKind::positional, .levels = 4}, 3, 1).output_dim(), 24);
  EXPECT_THROW(make_encoding({.kind = EncodingKind::fourier, .features = 0}, 3, 1), Error);
  EXPECT_THROW(make_encoding({.kind = EncodingKind::positional, .levels = 0}, 3, 1), Error);
}

// B = [[0.25, 0], [1, 0.5]] set by hand, v = (1, 0.5): Bv = (0.25, 1.25), so
// γ = [cos(π/2), cos(2.5π), sin(π/2), sin(2.5π)] = [0, 0, 1, 1].
TEST(Encoding, FourierHandValues) {
  Encoding e = make_encoding({.kind = EncodingKind::fourier, .features = 2}, 2, 1);
  e.B = {0.25f, 0.0f, 1.0f, 0.5f};
  const std::vector<float> v = {1.0f, 0.5f, 0.0f, 0.0f};  // two rows
  const auto g = encode(e, v);
  ASSERT_EQ(g.size(), 8u);
  const float want[8] = {0, 0, 1, 1, 1, 1, 0, 0};  // row 2: v = 0 gives cos 0 = 1, sin 0 = 0
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(g[i], want[i], 1e-7) << i;
}

// Level k of coordinate c: sin(2^k π v_c), cos(2^k π v_c), blocks in the order sin, cos by level.
TEST(Encoding, PositionalHandValues) {
  const Encoding e = make_encoding({.kind = EncodingKind::positional, .levels = 2}, 2, 1);
  const auto g = encode(e, std::vector<float>{0.5f, 0.25f});
  ASSERT_EQ(g.size(), 8u);
  const double r = std::sqrt(0.5);
  const double want[8] = {1, r, 0,  r,   // k = 0: sin(π/2), sin(π/4); cos(π/2), cos(π/4)
                          0, 1, -1, 0};  // k = 1: sin(π), sin(π/2); cos(π), cos(π/2)
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(g[i], want[i], 1e-7) << i;
}

TEST(Encoding, SeededBIsReproducibleAndNormalWithStdSigma) {
  const EncodingSpec spec{.kind = EncodingKind::fourier, .features = 256, .sigma = 10.0};
  const Encoding a = make_encoding(spec, 2, derive_seed(7, "fourier"));
  const Encoding b = make_encoding(spec, 2, derive_seed(7, "fourier"));
  const Encoding c = make_encoding(spec, 2, derive_seed(8, "fourier"));
  EXPECT_EQ(a.B, b.B);
  EXPECT_NE(a.B, c.B);
  // The first entries of the stream, pinned: B must not change silently between versions.
  Rng rng(derive_seed(7, "fourier"));
  EXPECT_EQ(a.B[0], static_cast<float>(rng.normal() * 10.0));
  double sq = 0;
  for (const float x : a.B) sq += static_cast<double>(x) * x;
  const double std = std::sqrt(sq / static_cast<double>(a.B.size()));
  // measures-reference.md §6.4: within 3/√(2md) relative (2md = 1024 here).
  EXPECT_NEAR(std, 10.0, 10.0 * 3.0 / std::sqrt(2.0 * 256 * 2));
}

// ||γ(v)||² = m for every v, and γ(v₁)·γ(v₂) = Σ_j cos(2π b_j·(v₁ − v₂)) (stationary).
TEST(Encoding, FourierNormAndStationarity) {
  const Encoding e = make_encoding({.kind = EncodingKind::fourier, .features = 64, .sigma = 3.0}, 2,
                                   derive_seed(1, "fourier"));
  const std::vector<float> v = {0.3f, -0.7f, -0.1f, 0.45f};
  const auto g = encode(e, v);
  const int64_t w = e.output_dim();
  double n0 = 0, dot = 0, want = 0;
  for (int64_t i = 0; i < w; ++i) {
    n0 += static_cast<double>(g[static_cast<size_t>(i)]) * g[static_cast<size_t>(i)];
    dot += static_cast<double>(g[static_cast<size_t>(i)]) * g[static_cast<size_t>(w + i)];
  }
  for (int64_t j = 0; j < 64; ++j) {
    double d = 0;
    for (int64_t c = 0; c < 2; ++c)
      d += static_cast<double>(e.B[static_cast<size_t>(j * 2 + c)]) *
           (static_cast<double>(v[static_cast<size_t>(c)]) - v[static_cast<size_t>(2 + c)]);
    want += std::cos(2 * M_PI * d);
  }
  EXPECT_NEAR(n0, 64.0, 1e-5);
  EXPECT_NEAR(dot, want, 1e-5);
}

}  // namespace
}  // namespace initscope
