// The AVX-512 instance of the kernels in kernels_impl.hpp. This file alone is compiled with
// -mavx512f -mfma, so the library runs on CPUs without AVX-512; kernels.cpp calls it only where
// __builtin_cpu_supports("avx512f") says it may.
#include <immintrin.h>

#include <cstdint>

#include "model/kernels.hpp"

namespace initscope::avx512 {

struct Isa {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int L = 16, MR = 6, NV = 4;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V loadm(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void storem(float* p, V v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static V bcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }    // a·b + c
  static V fnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }  // c − a·b
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  // max(x, 0) returns its second operand for a NaN x, i.e. 0, as `x > 0 ? x : 0` does.
  static V relu(V x) { return _mm512_max_ps(x, _mm512_setzero_ps()); }
  static V mask_positive(V d, V x) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), d);
  }
  // For tanh (kernels_impl.hpp, tanh_v): mul, min (the second operand if either is NaN, as
  // minps), abs, copysign, and double vectors: DH of them hold one V, widened and narrowed.
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  // Bit operations on the integer view: _mm512_and_ps and friends need AVX512DQ.
  static V abs(V x) {
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
  }
  static V copysign(V mag, V sgn) {  // mag ≥ 0
    return _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_castps_si512(mag),
                        _mm512_and_si512(_mm512_castps_si512(sgn), _mm512_set1_epi32(INT32_MIN))));
  }
  using DV = __m512d;
  static constexpr int DH = 2;
  static void widen(V x, DV* d) {
    d[0] = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
    d[1] = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
  }
  static V narrow(const DV* d) {
    const __m256 lo = _mm512_cvtpd_ps(d[0]), hi = _mm512_cvtpd_ps(d[1]);
    return _mm512_castpd_ps(
        _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
  }
  static DV dset1(double x) { return _mm512_set1_pd(x); }
  static DV dadd(DV a, DV b) { return _mm512_add_pd(a, b); }
  static DV dmul(DV a, DV b) { return _mm512_mul_pd(a, b); }
  static DV dfma(DV a, DV b, DV c) { return _mm512_fmadd_pd(a, b, c); }
  static DV ddiv(DV a, DV b) { return _mm512_div_pd(a, b); }
  // For sine and gaussian (kernels_impl.hpp, sincos_d, exp_neg_d): subtraction, min (the second
  // operand if either is NaN, as minpd), and a fused multiply-add that is fused on every path.
  static DV dsub(DV a, DV b) { return _mm512_sub_pd(a, b); }
  static DV dmin(DV a, DV b) { return _mm512_min_pd(a, b); }
  static DV dfma_exact(DV a, DV b, DV c) { return _mm512_fmadd_pd(a, b, c); }
  // For sine's float path (kernels_impl.hpp, sincos_f): subtraction, a fused multiply-add that
  // is fused on every path, and the lanes it leaves to the double path: |x| > bound or NaN.
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V fma_exact(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static __mmask16 beyond(V x, float bound) {
    return _mm512_cmp_ps_mask(abs(x), _mm512_set1_ps(bound), _CMP_NLE_UQ);
  }
  static bool any(__mmask16 m) { return m != 0; }
  static V select(__mmask16 m, V if_set, V if_clear) {
    return _mm512_mask_blend_ps(m, if_clear, if_set);
  }
  static Mask full_mask() { return static_cast<Mask>(0xFFFF); }
  static Mask tail_mask(int n) { return static_cast<Mask>((1u << n) - 1u); }

  // 16×16 block: dst[j][i] = src[i][col + j]. Three rounds of in-lane unpacks and 128-bit lane
  // shuffles, 64 shuffles per 256 floats instead of 256 scalar moves.
  static void transpose_block(const float* const* src, int64_t col, float* dst, int64_t ldd) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src[i] + col);
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
      const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
      r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
      r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
      r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
      r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
      t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
      t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
      t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; ++i) {
      r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
    for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ldd, r[i]);
  }
};

}  // namespace initscope::avx512

// The kernels, and this instance's entry points (kernels.hpp), in initscope::avx512.
#define KERNEL_NS avx512
#include "model/kernels_impl.hpp"
#undef KERNEL_NS
