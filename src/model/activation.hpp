// The hidden layers' nonlinearities φ, in one place: the enum, φ and φ′ as scalar functions (the
// reference twins, the OpenBLAS path and the tests use these), and how the optimized backward
// obtains φ′. The SIMD forms of the same functions, which the fused kernels apply in registers,
// are in kernels_impl.hpp (act_forward_v, act_backward_v); tests/model/activation_test.cpp holds
// both to hand-computed values. Every choice by activation is a `switch` without `default`, so
// that -Wswitch lists each place a new activation must be handled (CONTRIBUTING.md, "Recipe: add
// an activation"). Deliberately left out: activations with parameters (PReLU's slope, sine's ω);
// they would need a place in MlpSpec first.
#pragma once

#include <cmath>
#include <type_traits>

namespace initscope {

/// Hidden-layer nonlinearity. Linear networks are needed for Theorem 5.1.
enum class Activation { relu, linear, tanh };

/// Every activation, in enum order: parse_activation and the tests iterate over this list, so
/// a new activation is parsed and tested (finite differences, kernels against their twins, on
/// every instruction set) once it is added here.
inline constexpr Activation k_activations[] = {Activation::relu, Activation::linear,
                                               Activation::tanh};

/// What the optimized backward reads to get φ′ of a hidden layer.
///  output: φ′ is a function of the layer's output y = φ(z), which the workspace keeps anyway
///          (relu: y > 0, linear: 1, tanh: 1 − y²), so the pre-activation is never stored;
///  stored: it is not (sine sin(ωz): ω·cos(ωz); gaussian exp(−z²/2s²): −z/s²·y), so the
///          forward pass must keep φ′(z) in Workspace::deriv (network.hpp), which exists for
///          this and is allocated only for such an activation. No activation needs it yet, and
///          the kernels refuse one that does (kernels_support) until they read that buffer.
enum class DerivativeFrom { output, stored };

constexpr DerivativeFrom derivative_from(Activation a) {
  switch (a) {
    case Activation::relu:
    case Activation::linear:
    case Activation::tanh:
      return DerivativeFrom::output;
  }
  return DerivativeFrom::stored;  // not reached: every enumerator returns above
}

/// φ(z). ReLU of NaN is 0 (`z > 0 ? z : 0`, as the SIMD max(z, 0) gives).
template <class T>
T act_forward(Activation a, T z) {
  switch (a) {
    case Activation::relu:
      return z > T(0) ? z : T(0);
    case Activation::linear:
      return z;
    case Activation::tanh:
      return std::tanh(z);
  }
  return z;  // not reached
}

/// dout·φ′(z), from the pre-activation z: the reference twins' backward. ReLU's derivative at 0
/// is 0, as in PyTorch; it selects rather than multiplies, so a masked entry is +0 exactly.
template <class T>
T act_backward(Activation a, T dout, T z) {
  switch (a) {
    case Activation::relu:
      return z > T(0) ? dout : T(0);
    case Activation::linear:
      return dout;
    case Activation::tanh: {
      const T y = std::tanh(z);
      return dout * (T(1) - y * y);
    }
  }
  return dout;  // not reached
}

/// dout·φ′ from the output y = φ(z), for derivative_from(a) == output: what the optimized
/// passes use, since the workspace keeps y. relu: y > 0 exactly where z > 0.
template <class T>
T act_backward_from_output(Activation a, T dout, T y) {
  switch (a) {
    case Activation::relu:
      return y > T(0) ? dout : T(0);
    case Activation::linear:
      return dout;
    case Activation::tanh:
      return dout * (T(1) - y * y);
  }
  return dout;  // not reached
}

/// Calls f(std::integral_constant<Activation, a>{}), so that an elementwise loop written once is
/// compiled per activation with the switches above folded away (layers.cpp).
template <class F>
void with_activation(Activation a, F&& f) {
  switch (a) {
    case Activation::relu:
      return f(std::integral_constant<Activation, Activation::relu>{});
    case Activation::linear:
      return f(std::integral_constant<Activation, Activation::linear>{});
    case Activation::tanh:
      return f(std::integral_constant<Activation, Activation::tanh>{});
  }
}

/// The name used by --activation and in stored configurations.
constexpr const char* activation_name(Activation a) {
  switch (a) {
    case Activation::relu:
      return "relu";
    case Activation::linear:
      return "linear";
    case Activation::tanh:
      return "tanh";
  }
  return "?";
}

}  // namespace initscope
