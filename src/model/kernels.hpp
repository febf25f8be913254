// The hand-written kernels behind the fused training step, and which instruction set runs them.
// Each kernel exists three times, compiled from one template (kernels_impl.hpp) with different
// vector types: AVX-512 (16 floats), AVX2+FMA (8 floats) and portable C++ (1 float). The best
// one the CPU supports is chosen at run time (cpu.hpp), so a build without -march=native still
// uses AVX-512 where it exists; tests force each path in turn.
// Callers use the layer functions in layers.hpp; this header is for them, tests and benchmarks.
#pragma once

#include <cstdint>

#include "model/activation.hpp"
#include "model/cpu.hpp"

namespace initscope {

/// Everything the fused backward-and-update kernel of one linear layer reads and writes.
/// Shapes: B rows, C inputs, OC outputs; all row-major.
struct BackwardSgdArgs {
  const float* dout = nullptr;  // (B, OC) gradient w.r.t. the layer's output (pre-activation)
  const float* const* inp_rows = nullptr;  // B rows of C floats: the layer's input (the previous
                                           // post-activation, or the batch's rows of the data)
  float* w = nullptr;                      // (OC, C) updated in place
  float* vw = nullptr;                     // (OC, C) momentum, updated in place
  float* dinp = nullptr;                   // (B, C) gradient w.r.t. inp, or null (first layer)
  float* pack = nullptr;  // scratch ≥ backward_sgd_pack_floats(B, OC): dout regrouped
  int64_t B = 0, C = 0, OC = 0;
  float lr = 0.0f, mu = 0.0f;
  // φ of the layer below, whose output is inp: dinp ← dinp ⊙ φ′, computed from inp
  // (relu: inp > 0, linear: 1, tanh: 1 − inp²), or, for an activation whose φ′ is not a
  // function of its output (derivative_from, activation.hpp: sine, gaussian), read from
  // deriv_rows: B rows of C floats, φ′ of the layer below as its forward pass stored it.
  Activation act_below = Activation::linear;
  const float* const* deriv_rows = nullptr;
  int threads = 1;                  // > 1: columns of W split between threads, each its own pack
  int64_t c_begin = 0, c_end = -1;  // the columns of W (and dinp) this call covers; -1 = C
};

/// Floats of scratch one thread of the kernel needs (dout regrouped, a panel of the input, old
/// weights of a chunk of rows, and the bias gradient); `threads` threads need threads times as
/// much.
int64_t backward_sgd_pack_floats(int64_t B, int64_t OC, int threads = 1);

/// For the weights only (the bias is handled by the caller, it is O(B·OC)):
///   g = doutᵀ·inp (OC,C);  vw ← mu·vw + g;  dinp = dout·w_old;  w ← w − lr·vw
/// in one pass over w and vw, so the gradient matrix is never written to memory.
void backward_sgd_kernel(const BackwardSgdArgs& a);

/// Batch columns per forward panel. The forward kernel works on activations transposed into
/// panels of 64 batch rows, (F, 64) each, so that the batch is the vector dimension.
constexpr int64_t k_panel_rows = 64;
/// Floats of a panel buffer holding B rows of F features: ceil(B/64) panels of (F, 64).
inline int64_t panel_floats(int64_t B, int64_t F) {
  return (B + k_panel_rows - 1) / k_panel_rows * k_panel_rows * F;
}

/// One linear layer forward: out (B, OC) = φ(inp (B, C) · wᵀ + b), through panels.
struct ForwardArgs {
  const float* const* inp_rows = nullptr;  // B rows of C floats; null if in_panel holds the input
  float* in_panel = nullptr;   // panel_floats(B, C): the input transposed (written from inp_rows)
  const float* w = nullptr;    // (OC, C)
  const float* b = nullptr;    // (OC)
  float* out_panel = nullptr;  // panel_floats(B, OC): φ(Z)ᵀ, the next layer's in_panel
  float* out = nullptr;        // (B, OC) row-major φ(Z), or null (evaluation needs only panels)
  int64_t B = 0, C = 0, OC = 0;
  Activation act = Activation::linear;  // φ, applied in registers; linear for the logits
  float act_param = 1.0f;               // φ's parameter (sine: ω, gaussian: s; act_param)
  // For an activation whose φ′ is stored (derivative_from): deriv (B, OC) row-major receives
  // φ′(Z), through deriv_panel (panel_floats(B, OC)) as out goes through out_panel; both null
  // when no backward pass follows.
  float* deriv_panel = nullptr;
  float* deriv = nullptr;
  int threads = 1;                  // > 1: rows of W split between threads
  int64_t o_begin = 0, o_end = -1;  // the rows of W (outputs) this call covers; -1 = OC
};
void forward_kernel(const ForwardArgs& a);

/// True if the kernels of the selected instruction set can apply φ = `a` in the forward and its
/// φ′ in the backward. forward_kernel and backward_sgd_kernel throw initscope::Error for one
/// they cannot: they never fall back to another activation.
bool kernels_support(Activation a);

/// Threads worth using for one layer of C inputs and OC outputs when `threads` are allowed: 1
/// for layers too small to repay a fork and join (measured by bench/step_bench --threads).
int kernel_threads(int64_t C, int64_t OC, int threads);
/// Tests: the smallest C·OC that kernel_threads splits (default 512·512); returns the old value.
int64_t set_parallel_min_weights(int64_t weights);

// The per-instruction-set entry points (one translation unit each).
namespace avx512 {
bool supports(Activation a);
void backward_sgd(const BackwardSgdArgs& a);
void forward(const ForwardArgs& a);
void transpose_input(const ForwardArgs& a, int64_t c_begin, int64_t c_end);
}  // namespace avx512
namespace avx2 {
bool supports(Activation a);
void backward_sgd(const BackwardSgdArgs& a);
void forward(const ForwardArgs& a);
void transpose_input(const ForwardArgs& a, int64_t c_begin, int64_t c_end);
}  // namespace avx2
namespace generic {
bool supports(Activation a);
void backward_sgd(const BackwardSgdArgs& a);
void forward(const ForwardArgs& a);
void transpose_input(const ForwardArgs& a, int64_t c_begin, int64_t c_end);
}  // namespace generic

}  // namespace initscope
