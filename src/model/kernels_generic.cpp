// The portable instance of the kernels in kernels_impl.hpp: "vectors" of one float, for CPUs
// without AVX2 (and non-x86 builds). Same tiles and loop order as the SIMD paths, so it is
// checked by the same tests; it is not tuned.
#include <cstdint>

#include "model/kernels.hpp"

namespace initscope::generic {

struct Isa {
  using V = float;
  using Mask = int;
  static constexpr int L = 1, MR = 4, NV = 4;
  static V zero() { return 0.0f; }
  static V set1(float x) { return x; }
  static V load(const float* p) { return *p; }
  static V loadm(const float* p, Mask) { return *p; }  // a tail of one lane is the whole lane
  static void store(float* p, V v) { *p = v; }
  static void storem(float* p, V v, Mask) { *p = v; }
  static V bcast(const float* p) { return *p; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V fnma(V a, V b, V c) { return c - a * b; }
  static V add(V a, V b) { return a + b; }
  static V relu(V x) { return x > 0.0f ? x : 0.0f; }
  static V mask_positive(V d, V x) { return x > 0.0f ? d : 0.0f; }
  // For tanh (kernels_impl.hpp, tanh_v): mul, min (the second operand if either is NaN, as
  // minps), abs, copysign, and double vectors: DH of them hold one V, widened and narrowed.
  static V mul(V a, V b) { return a * b; }
  static V min(V a, V b) { return a < b ? a : b; }
  static V abs(V x) { return __builtin_fabsf(x); }
  static V copysign(V mag, V sgn) { return __builtin_copysignf(mag, sgn); }
  using DV = double;
  static constexpr int DH = 1;
  static void widen(V x, DV* d) { d[0] = static_cast<double>(x); }
  static V narrow(const DV* d) { return static_cast<float>(d[0]); }
  static DV dset1(double x) { return x; }
  static DV dadd(DV a, DV b) { return a + b; }
  static DV dmul(DV a, DV b) { return a * b; }
  static DV dfma(DV a, DV b, DV c) { return a * b + c; }
  static DV ddiv(DV a, DV b) { return a / b; }
  // For sine and gaussian (kernels_impl.hpp, sincos_d, exp_neg_d): subtraction, min (the second
  // operand if either is NaN, as minpd), and a fused multiply-add that is fused on every path.
  static DV dsub(DV a, DV b) { return a - b; }
  static DV dmin(DV a, DV b) { return a < b ? a : b; }
  static DV dfma_exact(DV a, DV b, DV c) { return __builtin_fma(a, b, c); }
  // For sine's float path (kernels_impl.hpp, sincos_f): subtraction, a fused multiply-add that
  // is fused on every path, and the lanes it leaves to the double path: |x| > bound or NaN.
  static V sub(V a, V b) { return a - b; }
  static V fma_exact(V a, V b, V c) { return __builtin_fmaf(a, b, c); }
  static bool beyond(V x, float bound) { return !(__builtin_fabsf(x) <= bound); }
  static bool any(bool m) { return m; }
  static V select(bool m, V if_set, V if_clear) { return m ? if_set : if_clear; }
  static Mask full_mask() { return 1; }
  static Mask tail_mask(int n) { return n; }
  static void transpose_block(const float* const* src, int64_t col, float* dst, int64_t) {
    *dst = src[0][col];
  }
};

}  // namespace initscope::generic

// The kernels, and this instance's entry points (kernels.hpp), in initscope::generic.
#define KERNEL_NS generic
#include "model/kernels_impl.hpp"
#undef KERNEL_NS
