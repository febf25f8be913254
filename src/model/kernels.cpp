// Dispatch of the kernels (kernels.hpp) to the instance cpu.hpp selected, and their split
// between threads: the backward by columns of W (each thread owns those columns of W, the
// momentum and dinp, so nothing is shared but the read-only dout and input), the forward by
// rows of W (each thread owns those rows of the output panel), after the input panel has been
// built by columns.
#include "model/kernels.hpp"

#include <omp.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "common/error.hpp"

namespace initscope {

namespace {

void backward_sgd_one(const BackwardSgdArgs& a) {
  switch (kernel_isa()) {
#if defined(INITSCOPE_X86_KERNELS)
    case KernelIsa::avx512:
      avx512::backward_sgd(a);
      return;
    case KernelIsa::avx2:
      avx2::backward_sgd(a);
      return;
#endif
    default:
      generic::backward_sgd(a);
      return;
  }
}

void forward_one(const ForwardArgs& a) {
  switch (kernel_isa()) {
#if defined(INITSCOPE_X86_KERNELS)
    case KernelIsa::avx512:
      avx512::forward(a);
      return;
    case KernelIsa::avx2:
      avx2::forward(a);
      return;
#endif
    default:
      generic::forward(a);
      return;
  }
}

void transpose_input_one(const ForwardArgs& a, int64_t c_begin, int64_t c_end) {
  switch (kernel_isa()) {
#if defined(INITSCOPE_X86_KERNELS)
    case KernelIsa::avx512:
      avx512::transpose_input(a, c_begin, c_end);
      return;
    case KernelIsa::avx2:
      avx2::transpose_input(a, c_begin, c_end);
      return;
#endif
    default:
      generic::transpose_input(a, c_begin, c_end);
      return;
  }
}

// Refuses, before any thread starts, an activation the selected kernels cannot apply.
void require_support(Activation a) {
  if (!kernels_support(a))
    throw Error(
        fmt::format("--activation {}: the {} kernels of the fused engine do not implement it",
                    activation_name(a), to_string(kernel_isa())));
}

// Part t of n of [0, total), cut at multiples of `align` (whole vectors or register tiles).
void share(int64_t total, int t, int n, int64_t align, int64_t& begin, int64_t& end) {
  const int64_t units = (total + align - 1) / align;
  begin = std::min(total, units * t / n * align);
  end = std::min(total, units * (t + 1) / n * align);
}

// Multiples for the cuts: of every path's register tile, 64 columns (AVX-512: 4 × 16; AVX2:
// 2 × 8; generic: 4) and 12 rows (6, 6 and 4), so that each thread's tiles are exactly the
// tiles one thread would use, and the results do not depend on the number of threads: with
// other cuts, a compiler free to contract a·b + c differently per tile shape changed the last
// bit of the generic path's outputs.
constexpr int64_t k_column_align = 64;
constexpr int64_t k_row_align = 12;

}  // namespace

bool kernels_support(Activation a) {
  switch (kernel_isa()) {
#if defined(INITSCOPE_X86_KERNELS)
    case KernelIsa::avx512:
      return avx512::supports(a);
    case KernelIsa::avx2:
      return avx2::supports(a);
#endif
    default:
      return generic::supports(a);
  }
}

int64_t backward_sgd_pack_floats(int64_t B, int64_t OC, int threads) {
  // dout twice regrouped (2 × OC × B), the input of one super-panel (B × 256) and the old
  // weights of one chunk of rows (at most 96 × 256), each aligned to 64 bytes: see
  // backward_sgd_impl. The bias gradient (OC) uses the first thread's share before the kernel.
  constexpr int64_t k_wold = 96 * 256, k_align = 16;
  return (2 * OC * B + B * 256 + k_wold + 4 * k_align) * std::max(threads, 1);
}

// Below 512 × 512 weights (about 0.2 ms of work at batch 64) the fork and join of a parallel
// region eat what the second core gives: splitting every layer, H = 256 measured no gain
// (0.74 ms one thread, 0.81 two; step_bench --threads 1,2), while H = 512 gains 11% and
// H = 1024 1.6x with this threshold.
int64_t g_min_weights = 512 * 512;

int kernel_threads(int64_t C, int64_t OC, int threads) {
  return C * OC >= g_min_weights ? std::max(threads, 1) : 1;
}

int64_t set_parallel_min_weights(int64_t weights) {
  return std::exchange(g_min_weights, weights);
}

void backward_sgd_kernel(const BackwardSgdArgs& a) {
  if (a.dinp) require_support(a.act_below);
  const int n = kernel_threads(a.C, a.OC, a.threads);
  if (n == 1) return backward_sgd_one(a);
  const int64_t pack = backward_sgd_pack_floats(a.B, a.OC);
#pragma omp parallel num_threads(n)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    BackwardSgdArgs part = a;
    share(a.C, t, nt, k_column_align, part.c_begin, part.c_end);
    part.pack = a.pack + t * pack;
    part.threads = 1;
    if (part.c_begin < part.c_end) backward_sgd_one(part);
  }
}

void forward_kernel(const ForwardArgs& a) {
  require_support(a.act);
  const int n = kernel_threads(a.C, a.OC, a.threads);
  if (n == 1) return forward_one(a);
#pragma omp parallel num_threads(n)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    ForwardArgs part = a;
    part.threads = 1;
    if (a.inp_rows) {  // the input panel, by columns, complete before anyone reads it
      int64_t cb = 0, ce = 0;
      share(a.C, t, nt, k_column_align, cb, ce);
      if (cb < ce) transpose_input_one(a, cb, ce);
#pragma omp barrier
      part.inp_rows = nullptr;
    }
    share(a.OC, t, nt, k_row_align, part.o_begin, part.o_end);
    if (part.o_begin < part.o_end) forward_one(part);
  }
}

}  // namespace initscope
