// The AVX2+FMA instance of the kernels in kernels_impl.hpp, for x86 CPUs without AVX-512.
// Compiled with -mavx2 -mfma -mno-avx512f, so that even a -march=native build on an AVX-512
// machine produces a genuine AVX2 path that the tests can force and check.
#include <immintrin.h>

#include <cstdint>

#include "model/kernels.hpp"

namespace initscope::avx2 {

struct Isa {
  using V = __m256;
  using Mask = __m256i;
  // 16 ymm registers: 6 × 2 accumulators + 2 operand vectors + 1 broadcast.
  static constexpr int L = 8, MR = 6, NV = 2;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V loadm(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void storem(float* p, V v, Mask m) { _mm256_maskstore_ps(p, m, v); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V relu(V x) { return _mm256_max_ps(x, _mm256_setzero_ps()); }
  static V mask_positive(V d, V x) {
    return _mm256_and_ps(d, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
  }
  // For tanh (kernels_impl.hpp, tanh_v): mul, min (the second operand if either is NaN, as
  // minps), abs, copysign, and double vectors: DH of them hold one V, widened and narrowed.
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V abs(V x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
  static V copysign(V mag, V sgn) {  // mag ≥ 0
    return _mm256_or_ps(mag, _mm256_and_ps(sgn, _mm256_set1_ps(-0.0f)));
  }
  using DV = __m256d;
  static constexpr int DH = 2;
  static void widen(V x, DV* d) {
    d[0] = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
    d[1] = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
  }
  static V narrow(const DV* d) {
    return _mm256_set_m128(_mm256_cvtpd_ps(d[1]), _mm256_cvtpd_ps(d[0]));
  }
  static DV dset1(double x) { return _mm256_set1_pd(x); }
  static DV dadd(DV a, DV b) { return _mm256_add_pd(a, b); }
  static DV dmul(DV a, DV b) { return _mm256_mul_pd(a, b); }
  static DV dfma(DV a, DV b, DV c) { return _mm256_fmadd_pd(a, b, c); }
  static DV ddiv(DV a, DV b) { return _mm256_div_pd(a, b); }
  // For sine and gaussian (kernels_impl.hpp, sincos_d, exp_neg_d): subtraction, min (the second
  // operand if either is NaN, as minpd), and a fused multiply-add that is fused on every path.
  static DV dsub(DV a, DV b) { return _mm256_sub_pd(a, b); }
  static DV dmin(DV a, DV b) { return _mm256_min_pd(a, b); }
  static DV dfma_exact(DV a, DV b, DV c) { return _mm256_fmadd_pd(a, b, c); }
  // For sine's float path (kernels_impl.hpp, sincos_f): subtraction, a fused multiply-add that
  // is fused on every path, and the lanes it leaves to the double path: |x| > bound or NaN.
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V fma_exact(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V beyond(V x, float bound) {
    return _mm256_cmp_ps(abs(x), _mm256_set1_ps(bound), _CMP_NLE_UQ);
  }
  static bool any(V m) { return _mm256_movemask_ps(m) != 0; }
  static V select(V m, V if_set, V if_clear) { return _mm256_blendv_ps(if_clear, if_set, m); }
  static Mask full_mask() { return _mm256_set1_epi32(-1); }
  static Mask tail_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }

  // 8×8 block: dst[j][i] = src[i][col + j].
  static void transpose_block(const float* const* src, int64_t col, float* dst, int64_t ldd) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src[i] + col);
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
      t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + i * ldd, t[i]);
  }
};

}  // namespace initscope::avx2

// The kernels, and this instance's entry points (kernels.hpp), in initscope::avx2.
#define KERNEL_NS avx2
#include "model/kernels_impl.hpp"
#undef KERNEL_NS
