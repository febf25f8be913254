// The hidden layers' nonlinearities φ, in one place: the enum, φ and φ′ as scalar functions (the
// reference twins, the OpenBLAS path and the tests use these), and how the optimized backward
// obtains φ′. The SIMD forms of the same functions, which the fused kernels apply in registers,
// are in kernels_impl.hpp (act_forward_v, act_backward_v); tests/model/activation_test.cpp holds
// both to hand-computed values. Every choice by activation is a `switch` without `default`, so
// that -Wswitch lists each place a new activation must be handled (CONTRIBUTING.md, "Recipe: add
// an activation"). Activations with a parameter take it as `p`: sine's frequency ω (SIREN's ω₀,
// per layer: MlpSpec's omega0 for the first layer, omega0_hidden for the others) and gaussian's
// width s (MlpSpec::gauss_width); the others ignore it (act_param in mlp.hpp picks it per layer).
// Deliberately left out: trainable activation parameters (PReLU's slope).
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>

namespace initscope {

/// Hidden-layer nonlinearity. Linear networks are needed for Theorem 5.1.
///  sine:     φ(z) = sin(ω·z), z = Wx + b: SIREN's layer sin(ω₀·(Wx + b)), ω multiplying the
///            bias too (measures-reference.md §6.1); the product ω·z is rounded to T first, as
///            PyTorch's `torch.sin(omega_0 * linear(x))` does.
///  gaussian: φ(z) = exp(−z²/(2s²)) (the a-parameterization of measures-reference.md §6.2).
enum class Activation { relu, linear, tanh, sine, gaussian };

/// Every activation, in enum order: parse_activation and the tests iterate over this list, so
/// a new activation is parsed and tested (finite differences, kernels against their twins, on
/// every instruction set) once it is added here.
inline constexpr Activation k_activations[] = {
    Activation::relu, Activation::linear, Activation::tanh, Activation::sine, Activation::gaussian};

/// What the optimized backward reads to get φ′ of a hidden layer.
///  output: φ′ is a function of the layer's output y = φ(z), which the workspace keeps anyway
///          (relu: y > 0, linear: 1, tanh: 1 − y²), so the pre-activation is never stored;
///  stored: it is not (sine sin(ωz): ω·cos(ωz); gaussian exp(−z²/2s²): −z/s²·y), so the
///          forward pass keeps φ′(z) in Workspace::deriv (network.hpp), allocated only for such
///          an activation, and the backward passes read it. φ′ rather than z is kept: the
///          forward computes sin and cos from one range reduction (and −z/s²·y from y) almost
///          for free, while keeping z would cost the backward a second sin/cos per element.
enum class DerivativeFrom { output, stored };

constexpr DerivativeFrom derivative_from(Activation a) {
  switch (a) {
    case Activation::relu:
    case Activation::linear:
    case Activation::tanh:
      return DerivativeFrom::output;
    case Activation::sine:
    case Activation::gaussian:
      return DerivativeFrom::stored;
  }
  return DerivativeFrom::stored;  // not reached: every enumerator returns above
}

/// φ(z) with parameter p (sine: ω; gaussian: s; ignored otherwise). ReLU of NaN is 0
/// (`z > 0 ? z : 0`, as the SIMD max(z, 0) gives).
template <class T>
T act_forward(Activation a, T z, T p) {
  switch (a) {
    case Activation::relu:
      return z > T(0) ? z : T(0);
    case Activation::linear:
      return z;
    case Activation::tanh:
      return std::tanh(z);
    case Activation::sine:
      return std::sin(p * z);
    case Activation::gaussian:
      return std::exp(-(z * z) / (T(2) * p * p));
  }
  return z;  // not reached
}

/// φ′(z) with parameter p: what the forward pass stores for a DerivativeFrom::stored activation
/// (sine: ω·cos(ωz); gaussian: −z/s²·φ(z)).
template <class T>
T act_derivative(Activation a, T z, T p) {
  switch (a) {
    case Activation::relu:
      return z > T(0) ? T(1) : T(0);
    case Activation::linear:
      return T(1);
    case Activation::tanh: {
      const T y = std::tanh(z);
      return T(1) - y * y;
    }
    case Activation::sine:
      return p * std::cos(p * z);
    case Activation::gaussian:
      return -(z / (p * p)) * act_forward(a, z, p);
  }
  return T(1);  // not reached
}

/// dout·φ′(z), from the pre-activation z: the reference twins' backward. ReLU's derivative at 0
/// is 0, as in PyTorch; it selects rather than multiplies, so a masked entry is +0 exactly.
template <class T>
T act_backward(Activation a, T dout, T z, T p) {
  switch (a) {
    case Activation::relu:
      return z > T(0) ? dout : T(0);
    case Activation::linear:
      return dout;
    case Activation::tanh: {
      const T y = std::tanh(z);
      return dout * (T(1) - y * y);
    }
    case Activation::sine:
    case Activation::gaussian:
      return dout * act_derivative(a, z, p);
  }
  return dout;  // not reached
}

/// dout·φ′ from the output y = φ(z), for derivative_from(a) == output: what the optimized
/// passes use, since the workspace keeps y. relu: y > 0 exactly where z > 0. For a stored
/// activation φ′ cannot be had from y: NaN, so that a pass that forgets the stored φ′ shows.
template <class T>
T act_backward_from_output(Activation a, T dout, T y) {
  switch (a) {
    case Activation::relu:
      return y > T(0) ? dout : T(0);
    case Activation::linear:
      return dout;
    case Activation::tanh:
      return dout * (T(1) - y * y);
    case Activation::sine:
    case Activation::gaussian:
      return std::numeric_limits<T>::quiet_NaN();
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
    case Activation::sine:
      return f(std::integral_constant<Activation, Activation::sine>{});
    case Activation::gaussian:
      return f(std::integral_constant<Activation, Activation::gaussian>{});
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
    case Activation::sine:
      return "sine";
    case Activation::gaussian:
      return "gaussian";
  }
  return "?";
}

}  // namespace initscope
