// The kernels of kernels.hpp, written once over a vector type. Included by kernels_avx512.cpp,
// kernels_avx2.cpp and kernels_generic.cpp, each of which first defines
//   namespace initscope::<isa> { struct Isa { using V, L, zero, load, loadm, store, storem, ... };
//   }
// and is compiled with its own -m flags. Everything here lives in that per-ISA namespace so the
// three copies never meet at link time (no ODR merging of an AVX-512 copy into the AVX2 path),
// and it calls nothing from the standard library for the same reason.
// Every kernel here has a naive twin in layers.hpp; tests/model/kernels_test.cpp runs each ISA.
//
// Two kernels, both built around one register tile of MR rows of W × NV vectors:
//
// forward: Zᵀ = W·Xᵀ on a transposed, batch-contiguous input panel P (C, 64): each W element is
//   broadcast and multiplied by 64 batch values, so the 64-row batch is the vector dimension and
//   W streams through once, row by row, without being packed. Bias and activation are applied
//   to the register tile before it is stored (tanh too: see tanh_v). (OpenBLAS, which must pack W
//   on every call, is 20–40% slower on these shapes: bench/kernels_bench.)
// backward_sgd: for a tile of W, g = doutᵀ·inp with K = B (the batch) accumulated in registers;
//   then vw ← μ·vw + g and w ← w − lr·vw straight from the registers, the old w set aside in
//   a small scratch; after a chunk of up to 96 rows, dinp += dout·w_old for the chunk as one
//   rank-96 product. W and the momentum are read and written once per step, the gradient never
//   touches memory, and the data gradient reads W from that cache-resident scratch instead of
//   a second pass over W. The inner loops read only contiguous scratch panels (dout regrouped
//   twice, the input's columns, the old weights): rows of a power-of-two width read in place
//   lie in one L1 set (4 KB apart at H = 1024) and evict each other; packing them made the
//   backward about 15% faster at H = 1024.
//
// Tile sizes, per ISA (Isa::MR, Isa::NV): AVX-512 uses 6 × 4 (24 of the 32 zmm registers as
// accumulators, 4 for operand vectors, one for the broadcast); AVX2 uses 6 × 2 (12 of 16 ymm).
// Larger tiles spill; smaller ones need more loads per FMA. Per step of their loops the inner
// loops issue 4 vector loads and 6 broadcasts for 24 FMAs: 12 cycles of FMA work on two FMA
// pipes, against 5 on two load ports, so the loads stay hidden.

// NOLINTBEGIN(readability-function-cognitive-complexity)

namespace initscope::KERNEL_NS {

using V = Isa::V;
using Mask = Isa::Mask;
constexpr int L = Isa::L;        // floats per vector
constexpr int MR = Isa::MR;      // rows of W per register tile
constexpr int NV = Isa::NV;      // vectors per register tile row
constexpr int64_t k_panel = 64;  // batch columns per forward input panel: 64 = the training batch

inline int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// Loops over the register tile's rows and vectors must be unrolled completely: a rolled loop
// makes GCC keep the accumulator array in memory (24 spills and reloads per tile).
#define IS_UNROLL _Pragma("GCC unroll 16")

// ---- transposes used to build the panels ---------------------------------------------------

/// dst (cols, ld_dst)[j][i] = row(i)[j] for i < rows, j < cols, where row(i) points at row i
/// of the source (a strided matrix or rows gathered by pointer).
template <class Row>
inline void transpose(Row row, int64_t rows, int64_t cols, float* dst, int64_t ld_dst) {
  int64_t i = 0;
  for (; i + L <= rows; i += L) {
    const float* src[L];
    for (int r = 0; r < L; ++r) src[r] = row(i + r);
    int64_t j = 0;
    for (; j + L <= cols; j += L) Isa::transpose_block(src, j, dst + j * ld_dst + i, ld_dst);
    for (; j < cols; ++j)
      for (int r = 0; r < L; ++r) dst[j * ld_dst + i + r] = src[r][j];
  }
  for (; i < rows; ++i) {
    const float* src = row(i);
    for (int64_t j = 0; j < cols; ++j) dst[j * ld_dst + i] = src[j];
  }
}

inline void transpose(const float* src, int64_t ld_src, float* dst, int64_t ld_dst, int64_t rows,
                      int64_t cols) {
  transpose([&](int64_t i) { return src + i * ld_src; }, rows, cols, dst, ld_dst);
}

// ---- activations in registers -------------------------------------------------------------
// The SIMD forms of activation.hpp's act_forward and act_backward_from_output. They switch on a
// template argument, so each kernel is compiled once per activation with the choice folded
// away: the ReLU and linear paths are the same instructions as before tanh existed.

// tanh(a) for a in [0, 10] in double, accurate to about 1e-11 relative: expm1(2a) is built as
// m = expm1(a/16) by its Taylor series to u¹² (u ≤ 0.625: truncation ≤ 1e-12 relative), then
// doubled five times by expm1(2u) = m·(m + 2), which at most doubles the relative error per step
// and cannot cancel (m ≥ 0); tanh(a) = m/(m + 2). Nothing but +, ×, fma and ÷, so every
// instruction set computes it with the same few operations, and no table or integer trick.
struct InvFactorials {
  double v[12] = {};
  constexpr InvFactorials() {
    for (int i = 0; i < 12; ++i) {
      double f = 1.0;  // (12 − i)!, exact in double
      for (int k = 2; k <= 12 - i; ++k) f *= k;
      v[i] = 1.0 / f;
    }
  }
};

inline Isa::DV tanh_nonnegative_d(Isa::DV a) {
  using D = Isa::DV;
  constexpr InvFactorials k_inv_fact{};  // 1/n! for n = 12 down to 1, at compile time
  const D u = Isa::dmul(a, Isa::dset1(1.0 / 16.0));
  D p = Isa::dset1(k_inv_fact.v[0]);
  IS_UNROLL for (int n = 1; n < 12; ++n) p = Isa::dfma(p, u, Isa::dset1(k_inv_fact.v[n]));
  D m = Isa::dmul(p, u);  // expm1(u)
  const D two = Isa::dset1(2.0);
  IS_UNROLL for (int k = 0; k < 4; ++k) m = Isa::dmul(m, Isa::dadd(m, two));  // expm1(a)
  // One more doubling gives e = expm1(2a) = m·(m + 2); tanh(a) = e/(e + 2) = m(m+2)/(m² + 2m + 2).
  const D e = Isa::dmul(m, Isa::dadd(m, two));
  return Isa::ddiv(e, Isa::dadd(e, two));
}

// tanh in float: computed in double on |x| (clamped to 10, where tanh rounds to 1.0f), rounded
// once to float, its sign restored (tanh is odd; −0 stays −0). The double result is within
// ~1e-11 of tanh, so the float is the correctly rounded one except where tanh lies within that
// of a midpoint between two floats: measured against std::tanh in tests/model/activation_test.
// A NaN passes through min (its second operand) and stays NaN.
inline V tanh_v(V x) {
  const V a = Isa::min(Isa::set1(10.0f), Isa::abs(x));
  Isa::DV part[Isa::DH];
  Isa::widen(a, part);
  IS_UNROLL for (int h = 0; h < Isa::DH; ++h) part[h] = tanh_nonnegative_d(part[h]);
  return Isa::copysign(Isa::narrow(part), x);
}

// sin and cos of a double t (a float widened), for sine. Argument reduction r = t − k·π/2 with
// k = round(t·2/π) in three steps of π/2 = P1 + P2 + P3 (P1 the double nearest π/2): with a
// fused multiply-add the first step t − k·P1 is exact (t is a float and k·P1 a multiple of
// 2^-52, and the result is below 1 in magnitude, so it fits in 53 bits), the two others add
// π/2's tail; r is then good to about 1e-16 relative for |t| < 2^50. On |r| ≤ π/4 (a little
// more where t·2/π rounded the other way) Taylor series to r^15 and r^16 leave < 1e-16. The
// quadrant is applied without integer instructions: e = k − 2·round(k/2) ∈ {−1, 0, 1}, h = (k −
// e)/2, σ = (−1)^h; sin t = σ·((1 − e²)·sin r + e·cos r), cos t = σ·((1 − e²)·cos r − e·sin r),
// all products by 0 or ±1 and so exact. Only +, −, × and fused multiply-add, so every instruction
// set computes the same bits (dfma_exact is a true fused operation on each).
struct InvFactorials18 {
  double v[19] = {};  // 1/n!, exact n! for n ≤ 18
  constexpr InvFactorials18() {
    double f = 1.0;
    for (int n = 0; n <= 18; ++n) {
      if (n > 1) f *= n;
      v[n] = 1.0 / f;
    }
  }
};

/// Nearest integer (ties to even) of |x| < 2^51, by adding and removing 1.5·2^52.
inline Isa::DV round_d(Isa::DV x) {
  const Isa::DV m = Isa::dset1(0x1.8p52);
  return Isa::dsub(Isa::dadd(x, m), m);
}

inline void sincos_d(Isa::DV t, Isa::DV& sin_t, Isa::DV& cos_t) {
  using D = Isa::DV;
  constexpr InvFactorials18 f{};
  const D kn = round_d(Isa::dmul(t, Isa::dset1(-0x1.45f306dc9c883p-1)));  // −round(t·2/π)
  D r = Isa::dfma_exact(kn, Isa::dset1(0x1.921fb54442d18p+0), t);         // exact
  r = Isa::dfma_exact(kn, Isa::dset1(0x1.1a62633145c07p-54), r);
  r = Isa::dfma_exact(kn, Isa::dset1(-0x1.f1976b7ed8fbcp-110), r);
  const D x = Isa::dmul(r, r);
  // sin r = r + r³·S(r²), S = Σ_{j=0..6} (−1)^{j+1} r^{2j}/(2j+3)!
  D ps = Isa::dset1(f.v[15]);
  IS_UNROLL for (int j = 5; j >= 0; --j) ps =
      Isa::dfma_exact(ps, x, Isa::dset1((j % 2 ? 1.0 : -1.0) * f.v[2 * j + 3]));
  const D s = Isa::dfma_exact(Isa::dmul(r, x), ps, r);
  // cos r = 1 + r²·Q(r²), Q = Σ_{j=0..7} (−1)^{j+1} r^{2j}/(2j+2)!
  D pc = Isa::dset1(f.v[16]);
  IS_UNROLL for (int j = 6; j >= 0; --j) pc =
      Isa::dfma_exact(pc, x, Isa::dset1((j % 2 ? 1.0 : -1.0) * f.v[2 * j + 2]));
  const D c = Isa::dfma_exact(x, pc, Isa::dset1(1.0));
  const D one = Isa::dset1(1.0), two = Isa::dset1(2.0), half = Isa::dset1(0.5);
  const D k = Isa::dsub(Isa::dset1(0.0), kn);
  const D e = Isa::dsub(k, Isa::dmul(two, round_d(Isa::dmul(k, half))));
  const D h = Isa::dmul(Isa::dsub(k, e), half);
  const D e2 = Isa::dsub(h, Isa::dmul(two, round_d(Isa::dmul(h, half))));
  const D sigma = Isa::dsub(one, Isa::dmul(two, Isa::dmul(e2, e2)));
  const D a = Isa::dsub(one, Isa::dmul(e, e));
  sin_t = Isa::dmul(sigma, Isa::dadd(Isa::dmul(a, s), Isa::dmul(e, c)));
  cos_t = Isa::dmul(sigma, Isa::dsub(Isa::dmul(a, c), Isa::dmul(e, s)));
}

// exp(−u) for u ≥ 0 in double, for gaussian: u is clamped to 110 (exp(−110) ≈ 1.7e-48 rounds
// to 0 in float; a NaN stays NaN), v = u/256 ≤ 0.43, exp(−v) by its Taylor series to v^13
// (truncation < 1e-16), then squared eight times, which multiplies the relative error by 256:
// about 1e-13 relative, far below a float's 6e-8. Only +, × and fused multiply-add, as above.
inline Isa::DV exp_neg_d(Isa::DV u) {
  using D = Isa::DV;
  constexpr InvFactorials18 f{};
  const D v = Isa::dmul(Isa::dmin(Isa::dset1(110.0), u), Isa::dset1(1.0 / 256.0));
  const D nv = Isa::dsub(Isa::dset1(0.0), v);
  D p = Isa::dset1(f.v[13]);
  IS_UNROLL for (int n = 12; n >= 0; --n) p = Isa::dfma_exact(p, nv, Isa::dset1(f.v[n]));
  IS_UNROLL for (int i = 0; i < 8; ++i) p = Isa::dmul(p, p);
  return p;
}

// sin and cos of a float vector t in float, for sine's hot path: the double path above costs
// two double vectors of ~50 operations per float vector, and with ω₀ = 30 it was 10% of a SIREN
// step (bench/siren.sh, perf). For |t| ≤ k_sincos_f_bound: k = round(t·2/π) (adding and
// removing 1.5·2^23), r = t − k·π/2 with π/2 = P1 + P2 + P3 in three fused steps (the first is
// exact: for k ≠ 0, t is a multiple of 2^-24, k·P1 of 2^-23, and |r| < 1, so r fits in 24 bits;
// the others round once each; the tail π/2 − P1 − P2 − P3 ≈ 1e-23 times |k| ≤ 5216 is far below
// r's rounding), then Taylor series to r^11 and r^10 on |r| ≤ π/4 + ε (truncation below 1e-10
// relative), and the quadrant as in sincos_d, by exact products with 0 and ±1 (so that GCC
// fusing a product into the next addition, which it may do on the SIMD paths only, changes
// nothing). Measured against sin and cos in double rounded to float (activation_test.cpp, every
// 331st float of magnitude 2^-30..2^20, both signs): at most 1 ulp for sin and for cos, where
// sincos_d is correctly rounded. The same bits on every instruction set: every step is one IEEE
// operation (fma_exact is fused on each path). Lanes beyond the bound, or NaN, take sincos_d;
// act_stored_v picks per lane, so a lane's value never depends on its neighbours (and so not on
// the vector width).
constexpr float k_sincos_f_bound = 8192.0f;

inline V round_f(V x) {  // nearest integer (ties to even) of |x| < 2^22
  const V m = Isa::set1(0x1.8p23f);
  return Isa::sub(Isa::add(x, m), m);
}

inline void sincos_f(V t, V& sin_t, V& cos_t) {
  // round(t·2/π), the product fused with the rounding's addition: the SIMD intrinsics are
  // plain vector × and + to GCC, which would fuse them itself (-ffp-contract=fast) where FMA
  // exists, and not on the generic path, and then k would differ where t·2/π is near k + ½.
  const V m = Isa::set1(0x1.8p23f);
  const V k = Isa::sub(Isa::fma_exact(t, Isa::set1(0x1.45f306p-1f), m), m);
  V r = Isa::fma_exact(k, Isa::set1(-0x1.921fb6p+0f), t);  // exact
  r = Isa::fma_exact(k, Isa::set1(0x1.777a5cp-25f), r);
  r = Isa::fma_exact(k, Isa::set1(0x1.ee59dap-50f), r);
  const V x = Isa::mul(r, r);
  // sin r = r + r³·S(r²), S = −1/3! + r²/5! − r⁴/7! + r⁶/9! − r⁸/11!
  V ps = Isa::set1(-0x1.ae6456p-26f);
  ps = Isa::fma_exact(ps, x, Isa::set1(0x1.71de3ap-19f));
  ps = Isa::fma_exact(ps, x, Isa::set1(-0x1.a01a02p-13f));
  ps = Isa::fma_exact(ps, x, Isa::set1(0x1.111112p-7f));
  ps = Isa::fma_exact(ps, x, Isa::set1(-0x1.555556p-3f));
  const V s = Isa::fma_exact(Isa::mul(r, x), ps, r);
  // cos r = 1 + r²·Q(r²), Q = −1/2! + r²/4! − r⁴/6! + r⁶/8! − r⁸/10!
  V pc = Isa::set1(-0x1.27e4fcp-22f);
  pc = Isa::fma_exact(pc, x, Isa::set1(0x1.a01a02p-16f));
  pc = Isa::fma_exact(pc, x, Isa::set1(-0x1.6c16c2p-10f));
  pc = Isa::fma_exact(pc, x, Isa::set1(0x1.555556p-5f));
  pc = Isa::fma_exact(pc, x, Isa::set1(-0.5f));
  const V c = Isa::fma_exact(x, pc, Isa::set1(1.0f));
  const V one = Isa::set1(1.0f), two = Isa::set1(2.0f), half = Isa::set1(0.5f);
  const V e = Isa::sub(k, Isa::mul(two, round_f(Isa::mul(k, half))));  // k − 2·round(k/2)
  const V h = Isa::mul(Isa::sub(k, e), half);
  const V e2 = Isa::sub(h, Isa::mul(two, round_f(Isa::mul(h, half))));
  const V sigma = Isa::sub(one, Isa::mul(two, Isa::mul(e2, e2)));
  const V a = Isa::sub(one, Isa::mul(e, e));
  sin_t = Isa::mul(sigma, Isa::add(Isa::mul(a, s), Isa::mul(e, c)));
  cos_t = Isa::mul(sigma, Isa::sub(Isa::mul(a, c), Isa::mul(e, s)));
}

// φ(z) (and, with Deriv, φ′(z) into *d) of an activation whose φ′ is stored, in double,
// rounded once to float. sine: t = ω·z rounded to float first (as PyTorch and act_forward do),
// φ = sin t, φ′ = ω·cos t. gaussian: u = z²/(2s²), φ = exp(−u), φ′ = −z/s²·φ.
template <Activation A, bool Deriv>
inline V act_stored_d(V z, float p, V* d) {
  Isa::DV part[Isa::DH], dpart[Isa::DH];
  if constexpr (A == Activation::sine) {
    Isa::widen(Isa::mul(Isa::set1(p), z), part);
    const Isa::DV omega = Isa::dset1(static_cast<double>(p));
    IS_UNROLL for (int h = 0; h < Isa::DH; ++h) {
      Isa::DV s, c;
      sincos_d(part[h], s, c);
      part[h] = s;
      if constexpr (Deriv) dpart[h] = Isa::dmul(omega, c);
    }
  } else {
    static_assert(A == Activation::gaussian);
    Isa::widen(z, part);
    const double sd = static_cast<double>(p), c = 0.5 / (sd * sd);
    IS_UNROLL for (int h = 0; h < Isa::DH; ++h) {
      const Isa::DV zd = part[h];
      const Isa::DV y = exp_neg_d(Isa::dmul(Isa::dmul(zd, zd), Isa::dset1(c)));
      part[h] = y;
      if constexpr (Deriv) dpart[h] = Isa::dmul(Isa::dmul(zd, Isa::dset1(-2.0 * c)), y);
    }
  }
  if constexpr (Deriv) *d = Isa::narrow(dpart);
  return Isa::narrow(part);
}

// φ and φ′ of an activation whose φ′ is stored, as the kernels apply them: gaussian in double
// (act_stored_d); sine by sincos_f, φ′ = ω·cos t rounded once in float, except in lanes where
// |t| > k_sincos_f_bound or t is NaN, which take act_stored_d.
template <Activation A, bool Deriv>
inline V act_stored_v(V z, float p, V* d) {
  if constexpr (A == Activation::sine) {
    const V t = Isa::mul(Isa::set1(p), z);
    V s, c;
    sincos_f(t, s, c);
    V dv = Deriv ? Isa::mul(Isa::set1(p), c) : s;
    const auto big = Isa::beyond(t, k_sincos_f_bound);
    if (Isa::any(big)) {
      V dd = dv;
      const V sd = act_stored_d<A, Deriv>(z, p, &dd);
      s = Isa::select(big, sd, s);
      if constexpr (Deriv) dv = Isa::select(big, dd, dv);
    }
    if constexpr (Deriv) *d = dv;
    return s;
  } else {
    return act_stored_d<A, Deriv>(z, p, d);
  }
}

/// φ(z) in registers; p is the activation's parameter (sine: ω, gaussian: s).
template <Activation A>
inline V act_forward_v(V z, float p) {
  switch (A) {
    case Activation::relu:
      return Isa::relu(z);
    case Activation::linear:
      return z;
    case Activation::tanh:
      return tanh_v(z);
    case Activation::sine:
    case Activation::gaussian:
      if constexpr (derivative_from(A) == DerivativeFrom::stored)
        return act_stored_v<A, false>(z, p, nullptr);
  }
  return z;  // not reached
}

/// d·φ′ in registers, from the output y = φ(z) for derivative_from(A) == output (relu: d where
/// y > 0, else 0; tanh: d·(1 − y²), 1 − y² in one fused step), from the stored φ′ otherwise.
template <Activation A>
inline V act_backward_v(V d, V y_or_deriv) {
  const V y = y_or_deriv;
  switch (A) {
    case Activation::relu:
      return Isa::mask_positive(d, y);
    case Activation::linear:
      return d;
    case Activation::tanh:
      return Isa::mul(d, Isa::fnma(y, y, Isa::set1(1.0f)));
    case Activation::sine:
    case Activation::gaussian:
      return Isa::mul(d, y_or_deriv);
  }
  return d;  // not reached
}

// ---- forward -------------------------------------------------------------------------------

// One register tile of the forward: acc (R rows of W, N vectors of batch) = Σ_c W[o0+r][c]·P[c][·]
// over c in [c0, c1), added to the partial sums already in `zt` unless `first`; on `last`, bias
// and φ = A are applied. p is the input panel (C, 64), zt the output panel (OC, 64), both at the
// tile's first batch column. For an activation whose φ′ is stored, dzt (the φ′ panel at the
// same place) receives φ′ on `last` unless it is null; prm is φ's parameter.
template <Activation A, int R, int N>
inline void forward_tile(const float* w, int64_t C, const float* p, const float* b, float* zt,
                         float* dzt, float prm, int64_t c0, int64_t c1, bool first, bool last) {
  V acc[R][N];
  IS_UNROLL for (int r = 0; r < R; ++r) IS_UNROLL for (int v = 0; v < N; ++v) acc[r][v] =
      first ? Isa::zero() : Isa::load(zt + r * k_panel + v * L);
  const float* wr[R];
  IS_UNROLL for (int r = 0; r < R; ++r) wr[r] = w + r * C;
  for (int64_t c = c0; c < c1; ++c) {
    V x[N];
    IS_UNROLL for (int v = 0; v < N; ++v) x[v] = Isa::load(p + c * k_panel + v * L);
    IS_UNROLL for (int r = 0; r < R; ++r) {
      const V s = Isa::bcast(wr[r] + c);
      IS_UNROLL for (int v = 0; v < N; ++v) acc[r][v] = Isa::fma(s, x[v], acc[r][v]);
    }
  }
  if (last) {
    IS_UNROLL for (int r = 0; r < R; ++r) {
      const V bias = Isa::bcast(b + r);
      IS_UNROLL for (int v = 0; v < N; ++v) {
        if constexpr (derivative_from(A) == DerivativeFrom::stored) {
          if (dzt) {
            V d;
            acc[r][v] = act_stored_v<A, true>(Isa::add(acc[r][v], bias), prm, &d);
            Isa::store(dzt + r * k_panel + v * L, d);
            continue;
          }
        }
        acc[r][v] = act_forward_v<A>(Isa::add(acc[r][v], bias), prm);
      }
    }
  }
  IS_UNROLL for (int r = 0; r < R; ++r) IS_UNROLL for (int v = 0; v < N; ++v)
      Isa::store(zt + r * k_panel + v * L, acc[r][v]);
}

template <Activation A, int N>
inline void forward_rows(const float* w, int64_t C, const float* p, const float* b, float* zt,
                         float* dzt, float prm, int64_t rows, int64_t c0, int64_t c1, bool first,
                         bool last) {
  switch (rows) {
    case 1:
      forward_tile<A, 1, N>(w, C, p, b, zt, dzt, prm, c0, c1, first, last);
      break;
    case 2:
      if constexpr (MR >= 2) forward_tile<A, 2, N>(w, C, p, b, zt, dzt, prm, c0, c1, first, last);
      break;
    case 3:
      if constexpr (MR >= 3) forward_tile<A, 3, N>(w, C, p, b, zt, dzt, prm, c0, c1, first, last);
      break;
    case 4:
      if constexpr (MR >= 4) forward_tile<A, 4, N>(w, C, p, b, zt, dzt, prm, c0, c1, first, last);
      break;
    case 5:
      if constexpr (MR >= 5) forward_tile<A, 5, N>(w, C, p, b, zt, dzt, prm, c0, c1, first, last);
      break;
    case 6:
      if constexpr (MR >= 6) forward_tile<A, 6, N>(w, C, p, b, zt, dzt, prm, c0, c1, first, last);
      break;
    default:
      break;
  }
}

// Input rows (c) per pass over W: 256 × 64 batch columns = 64 KB of panel per 64-row block,
// which stays in L2 (1 MB on Zen 4/5 and Skylake-X) while every row block of W streams past;
// with 1024-row evaluation chunks the 16 blocks' slices (1 MB) are reused across a W tile that
// sits in L1. Partial sums go back to the output panel between chunks: one tile load and store
// per 256 FMAs per accumulator.
constexpr int64_t k_forward_kc = 256;

/// The input panels' rows [c_begin, c_end) for every 64-row block, from a.inp_rows: what
/// forward_impl does on its way when it runs alone; threads split this by columns first.
inline void transpose_input_impl(const ForwardArgs& a, int64_t c_begin, int64_t c_end) {
  for (int64_t i0 = 0; i0 < a.B; i0 += k_panel) {
    float* p = a.in_panel + i0 * a.C + c_begin * k_panel;  // block i0/64 is at (i0/64)·C·64
    transpose([&](int64_t i) { return a.inp_rows[i0 + i] + c_begin; }, min64(k_panel, a.B - i0),
              c_end - c_begin, p, k_panel);
  }
}

// Rows [a.o_begin, a.o_end) of the output: a thread's share (o_begin a multiple of MR).
template <Activation A>
inline void forward_impl(const ForwardArgs& a) {
  const int64_t o_begin = a.o_begin, o_end = a.o_end < 0 ? a.OC : a.o_end;
  const int64_t blocks = (a.B + k_panel - 1) / k_panel;
  // Equal chunks: 784 inputs make 4 chunks of 196, not 3 of 256 and one of 16.
  const int64_t chunks = (a.C + k_forward_kc - 1) / k_forward_kc;
  const int64_t kc = (a.C + chunks - 1) / chunks;
  // One 64-row block at a time, through all of W: its panel chunk stays in L2 while W streams
  // past. (Reusing a W tile across several blocks instead reads the blocks' panels from L2 at
  // every step and measured 10% slower for 1024-row evaluation chunks.)
  for (int64_t ib = 0; ib < blocks; ++ib) {
    const int64_t i0 = ib * k_panel, nb = min64(k_panel, a.B - i0);
    float* p = a.in_panel + ib * a.C * k_panel;
    float* zt_block = a.out_panel + ib * a.OC * k_panel;
    float* dzt_block = a.deriv ? a.deriv_panel + ib * a.OC * k_panel : nullptr;
    if (a.inp_rows) transpose([&](int64_t i) { return a.inp_rows[i0 + i]; }, nb, a.C, p, k_panel);
    for (int64_t c0 = 0; c0 < a.C; c0 += kc) {
      const int64_t c1 = min64(c0 + kc, a.C);
      const bool first = c0 == 0, last = c1 == a.C;
      for (int64_t o0 = o_begin; o0 < o_end; o0 += MR) {
        const int64_t rows = min64(MR, o_end - o0);
        const float* w = a.w + o0 * a.C;
        float* zt = zt_block + o0 * k_panel;
        float* dzt = dzt_block ? dzt_block + o0 * k_panel : nullptr;
        // The next row block's slice of W: the hardware prefetcher follows each row but cannot
        // guess where the next rows start (it matters once W no longer fits in cache).
        if (o0 + 2 * MR <= o_end)
          IS_UNROLL for (int r = 0; r < MR; ++r) for (int64_t c = c0; c < c1; c += 16)
              __builtin_prefetch(w + (MR + r) * a.C + c, 0, 3);
        // Only the vectors that hold batch rows: a batch of 16 costs a quarter of one of 64.
        for (int64_t j = 0; j < nb; j += NV * L) {
          const int64_t nv = min64(NV, (nb - j + L - 1) / L);
          if (nv == NV)
            forward_rows<A, NV>(w, a.C, p + j, a.b + o0, zt + j, dzt ? dzt + j : nullptr,
                                a.act_param, rows, c0, c1, first, last);
          else if constexpr (NV > 1) {
            if (nv == 1)
              forward_rows<A, 1>(w, a.C, p + j, a.b + o0, zt + j, dzt ? dzt + j : nullptr,
                                 a.act_param, rows, c0, c1, first, last);
            else if constexpr (NV > 2) {
              if (nv == 2)
                forward_rows<A, 2>(w, a.C, p + j, a.b + o0, zt + j, dzt ? dzt + j : nullptr,
                                   a.act_param, rows, c0, c1, first, last);
              else if constexpr (NV > 3)
                forward_rows<A, 3>(w, a.C, p + j, a.b + o0, zt + j, dzt ? dzt + j : nullptr,
                                   a.act_param, rows, c0, c1, first, last);
            }
          }
        }
      }
    }
    if (a.out)  // back to row-major (B, OC) for the backward pass and the loss
      transpose(zt_block + o_begin * k_panel, k_panel, a.out + i0 * a.OC + o_begin, a.OC,
                o_end - o_begin, nb);
    if (dzt_block)  // φ′ likewise, into the workspace's deriv
      transpose(dzt_block + o_begin * k_panel, k_panel, a.deriv + i0 * a.OC + o_begin, a.OC,
                o_end - o_begin, nb);
  }
}

// ---- backward with the SGD update fused ----------------------------------------------------

template <bool Masked>
inline V load_part(const float* p, int v, int n, Mask m) {
  return (Masked && v == n - 1) ? Isa::loadm(p, m) : Isa::load(p);
}
template <bool Masked>
inline void store_part(float* p, V x, int v, int n, Mask m) {
  if (Masked && v == n - 1)
    Isa::storem(p, x, m);
  else
    Isa::store(p, x);
}

// Weight gradient and update of one tile: rows [o0, o0+R) of W, columns [c, c + N·L) (the last
// vector masked by m). dt: doutᵀ at row o0 (row stride B); xp: the tile's block of the input
// panel (B rows of NV·L floats). With Old, the old weights go to `wold` (row stride NV·L) for the
// data gradient.
template <int R, int N, bool Masked, bool Old>
inline void grad_update_tile(const BackwardSgdArgs& a, int64_t o0, int64_t c, Mask m,
                             const float* dt, const float* xp, float* wold) {
  const int64_t B = a.B, C = a.C, OC = a.OC;
  constexpr int64_t ldx = NV * L;
  // g (R, N·L) = Σ_i dout[i][o0+r] · inp[i][c + ·]   (K = B: the batch, in registers)
  V g[R][N];
  IS_UNROLL for (int r = 0; r < R; ++r) IS_UNROLL for (int v = 0; v < N; ++v) g[r][v] = Isa::zero();
  // The same columns of the next row tile are this loop's successor after the tiles to the
  // right; their first lines are what the hardware prefetcher, following each row, cannot guess.
  // One line of W and one of vw per step of the loop (a batch under MR·lines leaves the last
  // ones to the hardware): the 48 lines issued at once, at H = 4096 where they come from DRAM,
  // made the backward 15% slower.
  constexpr int64_t lines = (N * L + 15) / 16;  // per row
  const int64_t pf = o0 + 2 * MR <= OC ? MR * lines : 0;
  const int64_t next = pf ? (o0 + MR) * C + c : 0;  // in bounds even when unused
  const float* pw = a.w + next;
  const float* pv = a.vw + next;
  for (int64_t i = 0; i < B; ++i) {
    if (i < pf) {
      const int64_t off = i / lines * C + i % lines * 16;
      __builtin_prefetch(pw + off, 1, 3);
      __builtin_prefetch(pv + off, 1, 3);
    }
    V x[N];
    IS_UNROLL for (int v = 0; v < N; ++v) x[v] = load_part<Masked>(xp + i * ldx + v * L, v, N, m);
    IS_UNROLL for (int r = 0; r < R; ++r) {
      const V s = Isa::bcast(dt + r * B + i);
      IS_UNROLL for (int v = 0; v < N; ++v) g[r][v] = Isa::fma(s, x[v], g[r][v]);
    }
  }
  // vw ← μ·vw + g;  w ← w − lr·vw, straight from the registers.
  const V mu = Isa::set1(a.mu), lr = Isa::set1(a.lr);
  IS_UNROLL for (int r = 0; r < R; ++r) {
    float* wr = a.w + (o0 + r) * C + c;
    float* vr = a.vw + (o0 + r) * C + c;
    IS_UNROLL for (int v = 0; v < N; ++v) {
      const V vel = Isa::fma(mu, load_part<Masked>(vr + v * L, v, N, m), g[r][v]);
      store_part<Masked>(vr + v * L, vel, v, N, m);
      const V w_old = load_part<Masked>(wr + v * L, v, N, m);
      store_part<Masked>(wr + v * L, Isa::fnma(lr, vel, w_old), v, N, m);
      if constexpr (Old) store_part<Masked>(wold + r * ldx + v * L, w_old, v, N, m);
    }
  }
}

template <int N, bool Masked, bool Old>
inline void grad_update_rows_as(const BackwardSgdArgs& a, int64_t rows, int64_t o0, int64_t c,
                                Mask m, const float* dt, const float* xp, float* wold) {
  switch (rows) {
    case 1:
      grad_update_tile<1, N, Masked, Old>(a, o0, c, m, dt, xp, wold);
      break;
    case 2:
      if constexpr (MR >= 2) grad_update_tile<2, N, Masked, Old>(a, o0, c, m, dt, xp, wold);
      break;
    case 3:
      if constexpr (MR >= 3) grad_update_tile<3, N, Masked, Old>(a, o0, c, m, dt, xp, wold);
      break;
    case 4:
      if constexpr (MR >= 4) grad_update_tile<4, N, Masked, Old>(a, o0, c, m, dt, xp, wold);
      break;
    case 5:
      if constexpr (MR >= 5) grad_update_tile<5, N, Masked, Old>(a, o0, c, m, dt, xp, wold);
      break;
    case 6:
      if constexpr (MR >= 6) grad_update_tile<6, N, Masked, Old>(a, o0, c, m, dt, xp, wold);
      break;
    default:
      break;
  }
}

template <int N, bool Masked>
inline void grad_update_rows(const BackwardSgdArgs& a, int64_t rows, int64_t o0, int64_t c, Mask m,
                             const float* dt, const float* xp, float* wold) {
  if (wold)
    grad_update_rows_as<N, Masked, true>(a, rows, o0, c, m, dt, xp, wold);
  else
    grad_update_rows_as<N, Masked, false>(a, rows, o0, c, m, dt, xp, wold);
}

// Data gradient of one register tile: rows [i0, i0+R) of dinp, columns [c, c + N·L):
//   dinp = (first ? 0 : dinp) + Σ_{k<K} dout[i0 + r][k] · wold[k][·]
// over a chunk of K rows of the old weights; `mask` applies φ′ of the layer below (A), computed
// from its output inp (or, for an activation whose φ′ is stored, from those rows of φ′).
// dz: dout at [i0][chunk start] (row stride ldz); wold: the chunk's old weights (K, ldo) at
// column c.
template <Activation A, int R, int N, bool Masked>
inline void data_grad_tile(const float* dz, int64_t ldz, const float* wold, int64_t ldo, int64_t K,
                           float* dinp, const float* const* inp, int64_t c, int64_t C, Mask m,
                           bool first, bool mask) {
  V acc[R][N];
  IS_UNROLL for (int r = 0; r < R; ++r) IS_UNROLL for (int v = 0; v < N; ++v) acc[r][v] =
      first ? Isa::zero() : load_part<Masked>(dinp + r * C + v * L, v, N, m);
  for (int64_t k = 0; k < K; ++k) {
    V w[N];
    IS_UNROLL for (int v = 0; v < N; ++v) w[v] = load_part<Masked>(wold + k * ldo + v * L, v, N, m);
    IS_UNROLL for (int r = 0; r < R; ++r) {
      const V s = Isa::bcast(dz + r * ldz + k);
      IS_UNROLL for (int v = 0; v < N; ++v) acc[r][v] = Isa::fma(s, w[v], acc[r][v]);
    }
  }
  IS_UNROLL for (int r = 0; r < R; ++r) IS_UNROLL for (int v = 0; v < N; ++v) {
    V x = acc[r][v];
    if (mask) x = act_backward_v<A>(x, load_part<Masked>(inp[r] + c + v * L, v, N, m));
    store_part<Masked>(dinp + r * C + v * L, x, v, N, m);
  }
}

template <Activation A, int N, bool Masked>
inline void data_grad_rows(int64_t rows, const float* dz, int64_t ldz, const float* wold,
                           int64_t ldo, int64_t K, float* dinp, const float* const* inp, int64_t c,
                           int64_t C, Mask m, bool first, bool mask) {
  switch (rows) {
    case 1:
      data_grad_tile<A, 1, N, Masked>(dz, ldz, wold, ldo, K, dinp, inp, c, C, m, first, mask);
      break;
    case 2:
      if constexpr (MR >= 2)
        data_grad_tile<A, 2, N, Masked>(dz, ldz, wold, ldo, K, dinp, inp, c, C, m, first, mask);
      break;
    case 3:
      if constexpr (MR >= 3)
        data_grad_tile<A, 3, N, Masked>(dz, ldz, wold, ldo, K, dinp, inp, c, C, m, first, mask);
      break;
    case 4:
      if constexpr (MR >= 4)
        data_grad_tile<A, 4, N, Masked>(dz, ldz, wold, ldo, K, dinp, inp, c, C, m, first, mask);
      break;
    case 5:
      if constexpr (MR >= 5)
        data_grad_tile<A, 5, N, Masked>(dz, ldz, wold, ldo, K, dinp, inp, c, C, m, first, mask);
      break;
    case 6:
      if constexpr (MR >= 6)
        data_grad_tile<A, 6, N, Masked>(dz, ldz, wold, ldo, K, dinp, inp, c, C, m, first, mask);
      break;
    default:
      break;
  }
}

// Calls fn(c, n, masked, m) for each tile of [c0, c1): whole tiles of NV vectors, then the
// ragged right edge as n vectors with the last one masked.
template <class Fn>
inline void for_each_column_tile(int64_t c0, int64_t c1, Fn&& fn) {
  constexpr int64_t cols = NV * L;
  int64_t c = c0;
  for (; c + cols <= c1; c += cols) fn(c, NV, false, Isa::full_mask());
  if (c < c1) {
    const int64_t left = c1 - c;
    const int n = static_cast<int>((left + L - 1) / L);
    fn(c, n, true, Isa::tail_mask(static_cast<int>(left - (n - 1) * L)));
  }
}

// Columns per pass (a super-panel): inp and dinp for 256 columns × 64 rows are 64 KB each and
// stay in L2 while a chunk of W's rows is processed; W and vw are then read in runs of 1 KB per
// row, long enough for the hardware prefetcher.
constexpr int64_t k_backward_nc = 256;
// Rows of W per data-gradient pass: the old weights of up to 16 row tiles (96 × 256 floats =
// 96 KB, in L2) wait in a scratch buffer, and dinp is then updated by one rank-K product
// (K ≤ 96) instead of K/MR rank-MR ones: its loads and stores become rare next to the FMAs.
// Chunks are balanced (OC = 64 is one chunk of 64, not 48 + 16) so that none is short.
constexpr int64_t k_backward_ko_max = 96;

/// dst[j] = src[j] for j < n, by vectors (the last one masked).
inline void copy_floats(const float* src, float* dst, int64_t n) {
  int64_t j = 0;
  for (; j + L <= n; j += L) Isa::store(dst + j, Isa::load(src + j));
  if (j < n) {
    const Mask m = Isa::tail_mask(static_cast<int>(n - j));
    Isa::storem(dst + j, Isa::loadm(src + j, m), m);
  }
}

inline float* align64(float* p) {
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
}

// Columns [a.c_begin, a.c_end) of W and dinp: a thread's share (c_begin a multiple of L).
// A: φ of the layer below (a.act_below), whose φ′ is applied to dinp.
template <Activation A>
inline void backward_sgd_impl(const BackwardSgdArgs& a) {
  const int64_t B = a.B, C = a.C, OC = a.OC;
  const int64_t c_begin = a.c_begin, c_end = a.c_end < 0 ? C : a.c_end;
  const int64_t chunks = (OC + k_backward_ko_max - 1) / k_backward_ko_max;
  const int64_t ko = ((OC + chunks - 1) / chunks + MR - 1) / MR * MR;  // ≤ 96: MR divides 96
  constexpr int64_t tw = NV * L;                                       // columns per register tile
  // The scratch (backward_sgd_pack_floats), so that every inner loop reads contiguous memory:
  //   dt     doutᵀ (OC, B), for the weight gradient's broadcasts;
  //   dp     dout by chunks of rows of W: chunk oc0 is (B, K) at oc0·B, for the data gradient's;
  //   xpanel the super-panel's input by column tiles (tile, B, tw);
  //   wold   the chunk's old weights by column tiles (tile, ko, tw): the data gradient of one
  //          column tile reads K·tw contiguous floats, which stay in L1 across the row tiles of
  //          dinp.
  float* dt = align64(a.pack);
  float* dp = align64(dt + OC * B);
  float* xpanel = align64(dp + OC * B);
  float* wold = align64(xpanel + B * k_backward_nc);
  transpose(a.dout, OC, dt, B, B, OC);
  if (a.dinp)
    for (int64_t oc0 = 0; oc0 < OC; oc0 += ko) {
      const int64_t K = min64(ko, OC - oc0);
      for (int64_t i = 0; i < B; ++i) copy_floats(a.dout + i * OC + oc0, dp + oc0 * B + i * K, K);
    }
  for (int64_t c0 = c_begin; c0 < c_end; c0 += k_backward_nc) {
    const int64_t c1 = min64(c0 + k_backward_nc, c_end);
    for (int64_t c = c0; c < c1; c += tw)
      for (int64_t i = 0; i < B; ++i)
        copy_floats(a.inp_rows[i] + c, xpanel + (c - c0) * B + i * tw, min64(tw, c1 - c));
    for (int64_t oc0 = 0; oc0 < OC; oc0 += ko) {
      const int64_t oc1 = min64(oc0 + ko, OC);
      // 1. Weight gradient and update for rows [oc0, oc1), old weights to the scratch.
      for (int64_t o0 = oc0; o0 < oc1; o0 += MR) {
        const int64_t rows = min64(MR, OC - o0);
        const float* d = dt + o0 * B;
        float* wo = a.dinp ? wold + (o0 - oc0) * tw : nullptr;
        for_each_column_tile(c0, c1, [&](int64_t c, int n, bool masked, Mask m) {
          const float* xp = xpanel + (c - c0) * B;
          float* wt = wo ? wo + (c - c0) * ko : nullptr;
          if (!masked) return grad_update_rows<NV, false>(a, rows, o0, c, m, d, xp, wt);
          if (n == 1) return grad_update_rows<1, true>(a, rows, o0, c, m, d, xp, wt);
          if constexpr (NV >= 2)
            if (n == 2) return grad_update_rows<2, true>(a, rows, o0, c, m, d, xp, wt);
          if constexpr (NV >= 3)
            if (n == 3) return grad_update_rows<3, true>(a, rows, o0, c, m, d, xp, wt);
          if constexpr (NV >= 4)
            if (n == 4) return grad_update_rows<4, true>(a, rows, o0, c, m, d, xp, wt);
        });
      }
      if (!a.dinp) continue;
      // 2. dinp[:, c0:c1) += dout[:, oc0:oc1) · w_old[oc0:oc1, c0:c1); the first chunk
      //    initializes, the last applies φ′ of the layer below.
      const bool first = oc0 == 0, mask = A != Activation::linear && oc1 == OC;
      const int64_t K = oc1 - oc0;
      for_each_column_tile(c0, c1, [&](int64_t c, int n, bool masked, Mask m) {
        const float* wt = wold + (c - c0) * ko;
        for (int64_t i0 = 0; i0 < B; i0 += MR) {
          const int64_t rows = min64(MR, B - i0);
          const float* d = dp + oc0 * B + i0 * K;
          float* out = a.dinp + i0 * C + c;
          const float* const* in =
              (derivative_from(A) == DerivativeFrom::stored ? a.deriv_rows : a.inp_rows) + i0;
          if (!masked)
            data_grad_rows<A, NV, false>(rows, d, K, wt, tw, K, out, in, c, C, m, first, mask);
          else if (n == 1)
            data_grad_rows<A, 1, true>(rows, d, K, wt, tw, K, out, in, c, C, m, first, mask);
          else if constexpr (NV >= 2) {
            if (n == 2)
              data_grad_rows<A, 2, true>(rows, d, K, wt, tw, K, out, in, c, C, m, first, mask);
            else if constexpr (NV >= 3) {
              if (n == 3)
                data_grad_rows<A, 3, true>(rows, d, K, wt, tw, K, out, in, c, C, m, first, mask);
              else if constexpr (NV >= 4)
                data_grad_rows<A, 4, true>(rows, d, K, wt, tw, K, out, in, c, C, m, first, mask);
            }
          }
        }
      });
    }
  }
}

// The entry points of this instance, declared in kernels.hpp: one instance of each kernel per
// activation, chosen here once per call.
bool supports(Activation a) {
  switch (a) {
    case Activation::relu:
    case Activation::linear:
    case Activation::tanh:
    case Activation::sine:
    case Activation::gaussian:
      return true;
  }
  return false;
}
void backward_sgd(const BackwardSgdArgs& a) {
  switch (a.act_below) {
    case Activation::relu:
      return backward_sgd_impl<Activation::relu>(a);
    case Activation::linear:
      return backward_sgd_impl<Activation::linear>(a);
    case Activation::tanh:
      return backward_sgd_impl<Activation::tanh>(a);
    case Activation::sine:
      return backward_sgd_impl<Activation::sine>(a);
    case Activation::gaussian:
      return backward_sgd_impl<Activation::gaussian>(a);
  }
}
void forward(const ForwardArgs& a) {
  switch (a.act) {
    case Activation::relu:
      return forward_impl<Activation::relu>(a);
    case Activation::linear:
      return forward_impl<Activation::linear>(a);
    case Activation::tanh:
      return forward_impl<Activation::tanh>(a);
    case Activation::sine:
      return forward_impl<Activation::sine>(a);
    case Activation::gaussian:
      return forward_impl<Activation::gaussian>(a);
  }
}
void transpose_input(const ForwardArgs& a, int64_t c_begin, int64_t c_end) {
  transpose_input_impl(a, c_begin, c_end);
}

}  // namespace initscope::KERNEL_NS

#undef IS_UNROLL

// NOLINTEND(readability-function-cognitive-complexity)
