// Losses, margins and errors on a batch of logits.
// Templated so the same code serves float training and the double-precision gradient checks;
// these are O(B·K) next to the O(B·H²) layers, so there is no separate optimized twin.
//  ce:       softmax cross-entropy, K ≥ 2 (PyTorch's F.cross_entropy)
//  mse:      (1/K) Σ_i (f_i − y_i)², y one-hot (Appendix D); for K = 1, (f − t)² with t = ±1
//  logistic: log(1 + exp(−t·f)), binary tasks only (K = 1, t = ±1)
// Binary tasks have one output; label 0 means t = −1 and label 1 means t = +1.
// Every choice by loss is a `switch` without `default`, so that -Wswitch lists each place a new
// loss must be handled (CONTRIBUTING.md, "Recipe: add a loss"). ce with one output and
// logistic with several are refused by config validation; here they are invariants (IS_CHECK).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace initscope {

enum class Loss { ce, mse, logistic };
Loss parse_loss(const std::string& name);  // throws Error naming --loss
std::string to_string(Loss l);
/// Every loss's name, in the enum's order (the option table's choices).
const std::vector<std::string>& loss_names();

/// Chance level: the mean loss of the best constant output on labels with class frequencies
/// `freq` (K of them, summing to 1; K = 2 for a binary task with one output, freq[1] = P(t = +1)).
/// ce: the entropy −Σ p ln p (ln K when balanced), at f = ln p; mse with K outputs:
/// (1 − Σ p²)/K, at f = p; mse with one output: 1 − (2p₁ − 1)², at f = 2p₁ − 1; logistic: the
/// binary entropy of p₁, at f = logit p₁. A network whose loss sits here has learnt nothing but
/// the class frequencies (a collapsed run: `--stop plateau:N`).
double chance_loss(Loss loss, const std::vector<double>& freq, int64_t outputs);

/// Loss of one example with logits f (K) and label y.
template <class T>
double example_loss(Loss loss, const T* f, int32_t y, int64_t K) {
  switch (loss) {
    case Loss::ce: {
      IS_CHECK(K >= 2, "cross-entropy needs K >= 2 outputs (config validation refuses binary ce)");
      double mx = static_cast<double>(f[0]);
      for (int64_t j = 1; j < K; ++j) mx = std::max(mx, static_cast<double>(f[j]));
      double s = 0.0;
      for (int64_t j = 0; j < K; ++j) s += std::exp(static_cast<double>(f[j]) - mx);
      return mx + std::log(s) - static_cast<double>(f[y]);
    }
    case Loss::mse: {
      if (K == 1) {
        const double t = y == 1 ? 1.0 : -1.0, z = static_cast<double>(f[0]);
        return (z - t) * (z - t);
      }
      double s = 0.0;
      for (int64_t j = 0; j < K; ++j) {
        const double d = static_cast<double>(f[j]) - (j == y ? 1.0 : 0.0);
        s += d * d;
      }
      return s / static_cast<double>(K);
    }
    case Loss::logistic: {
      IS_CHECK(K == 1, "the logistic loss is for binary tasks with one output");
      const double t = y == 1 ? 1.0 : -1.0, z = static_cast<double>(f[0]);
      const double u = -t * z;  // log(1 + e^u), stable for large |u|
      return u > 0 ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u));
    }
  }
  IS_CHECK(false, "unknown Loss value");
  return 0.0;
}

/// d(loss)/d(f) of one example with logits f (K) and label y, times `scale`, into g (K).
template <class T>
void example_loss_gradient(Loss loss, T* g, const T* f, int32_t y, int64_t K, T scale) {
  switch (loss) {
    case Loss::ce: {
      IS_CHECK(K >= 2, "cross-entropy needs K >= 2 outputs (config validation refuses binary ce)");
      T mx = f[0];
      for (int64_t j = 1; j < K; ++j) mx = std::max(mx, f[j]);
      // g holds exp(f − mx) until the sum is known: each exponential once, not twice, the
      // same values (the training step's loss on 64 × 10 logits: 7.7 µs before, 6.0 after,
      // bench/kernels_bench BM_loss_ce; it was 7% of an H = 64 step).
      T s = 0;
      for (int64_t j = 0; j < K; ++j) {
        g[j] = std::exp(f[j] - mx);
        s += g[j];
      }
      for (int64_t j = 0; j < K; ++j) g[j] = scale * (g[j] / s - (j == y ? T(1) : T(0)));
      return;
    }
    case Loss::mse: {
      if (K == 1) {
        const T t = y == 1 ? T(1) : T(-1);
        g[0] = scale * T(2) * (f[0] - t);
        return;
      }
      const T c = scale * T(2) / static_cast<T>(K);
      for (int64_t j = 0; j < K; ++j) g[j] = c * (f[j] - (j == y ? T(1) : T(0)));
      return;
    }
    case Loss::logistic: {
      IS_CHECK(K == 1, "the logistic loss is for binary tasks with one output");
      const T t = y == 1 ? T(1) : T(-1);
      const T u = -t * f[0];  // d/df log(1+e^{−t f}) = −t·σ(−t f)
      const T sig = u >= 0 ? T(1) / (T(1) + std::exp(-u)) : std::exp(u) / (T(1) + std::exp(u));
      g[0] = scale * (-t * sig);
      return;
    }
  }
  IS_CHECK(false, "unknown Loss value");
}

/// Sum of the losses of B examples; writes dlogits (B,K) = scale · d(loss_i)/d(f_i), and each
/// example's loss to losses (B) if given.
/// With scale = 1/B this is the gradient of the batch mean, as PyTorch's mean reduction.
template <class T>
double loss_forward_backward(Loss loss, T* dlogits, const T* logits, const int32_t* y, int64_t B,
                             int64_t K, T scale, double* losses = nullptr) {
  double total = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    const T* f = logits + i * K;
    const double li = example_loss(loss, f, y[i], K);
    total += li;
    if (losses) losses[i] = li;
    example_loss_gradient(loss, dlogits + i * K, f, y[i], K, scale);
  }
  return total;
}

// ---- Regression (signal1d, image:NAME): real targets, the mean squared error ----------------
// With targets t (K) the loss is (1/K) Σ_j (f_j − t_j)², so the mean over a batch is PyTorch's
// F.mse_loss(f, t) with its default mean reduction over every element. Only --loss mse is
// accepted for regression tasks (config validation); these functions are that loss.

/// Squared error of one example with outputs f (K) and targets t (K), averaged over K.
template <class T>
double regression_loss(const T* f, const float* t, int64_t K) {
  double s = 0.0;
  for (int64_t j = 0; j < K; ++j) {
    const double d = static_cast<double>(f[j]) - static_cast<double>(t[j]);
    s += d * d;
  }
  return s / static_cast<double>(K);
}

/// d(regression_loss)/d(f) times `scale`, into g (K).
template <class T>
void regression_loss_gradient(T* g, const T* f, const float* t, int64_t K, T scale) {
  const T c = scale * T(2) / static_cast<T>(K);
  for (int64_t j = 0; j < K; ++j) g[j] = c * (f[j] - static_cast<T>(t[j]));
}

/// loss_forward_backward for regression: targets t (B, K) row-major.
template <class T>
double regression_forward_backward(T* dlogits, const T* logits, const float* t, int64_t B,
                                   int64_t K, T scale, double* losses = nullptr) {
  double total = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    const double li = regression_loss(logits + i * K, t + i * K, K);
    total += li;
    if (losses) losses[i] = li;
    regression_loss_gradient(dlogits + i * K, logits + i * K, t + i * K, K, scale);
  }
  return total;
}

/// Peak signal-to-noise ratio in dB of a mean squared error, for signals of peak-to-peak range
/// `range`: 10·log10(range² / mse). Pixels in [−1, 1] (range 2) give the PSNR of the same
/// image in [0, 1] with peak 1.
inline double psnr_db(double mse, double range) {
  return 10.0 * std::log10(range * range / mse);
}

/// The mean squared error at which the PSNR is `db` (psnr_db's inverse).
inline double mse_at_psnr(double db, double range) {
  return range * range * std::pow(10.0, -db / 10.0);
}

/// Margin of one example: f_y − max_{j≠y} f_j, or t·f for a binary task.
template <class T>
double example_margin(const T* f, int32_t y, int64_t K) {
  if (K == 1) return (y == 1 ? 1.0 : -1.0) * static_cast<double>(f[0]);
  double other = -INFINITY;
  for (int64_t j = 0; j < K; ++j)
    if (j != y) other = std::max(other, static_cast<double>(f[j]));
  return static_cast<double>(f[y]) - other;
}

/// True if the prediction is wrong: argmax (first maximum on ties) ≠ y, or t·f ≤ 0 if binary.
template <class T>
bool example_error(const T* f, int32_t y, int64_t K) {
  if (K == 1) return example_margin(f, y, K) <= 0.0;
  int64_t best = 0;
  for (int64_t j = 1; j < K; ++j)
    if (f[j] > f[best]) best = j;
  return best != y;
}

}  // namespace initscope
