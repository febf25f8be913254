// RM23 E4's spectra (mechanism.hpp) and the registered measure that records them.
#include "measure/mechanism.hpp"

#include <cblas.h>
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include <fmt/format.h>

#include "common/error.hpp"
#include "measure/registry.hpp"
#include "model/activation.hpp"

namespace initscope {

namespace {

// C (M, N) = A (M, K) · Bᵀ (N, K)ᵀ, row-major, overwriting C (beta 0) or adding to it.
void gemm_abt(const double* A, const double* B, double* C, int64_t M, int64_t N, int64_t K,
              double beta = 0.0) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(M), static_cast<int>(N),
              static_cast<int>(K), 1.0, A, static_cast<int>(K), B, static_cast<int>(K), beta, C,
              static_cast<int>(N));
}

// One forward and one backward pass of f with ∂f/∂f = 1 on every row, keeping each layer's
// input a_l (rows, in_l) and its back-propagated δ_l = ∂f/∂z_l (rows, out_l): the factors of
// the per-row parameter gradient (∂f/∂W_l = δ_l ⊗ a_l, ∂f/∂b_l = δ_l).
struct RowPass {
  int64_t rows = 0;
  std::vector<std::vector<double>> a, delta, z;
  std::vector<double> f;  // (rows)
};

RowPass row_pass(const Mlp& net, const std::vector<double>& theta, const std::vector<double>& x,
                 int64_t rows, bool backward) {
  RowPass p;
  p.rows = rows;
  const int d = net.depth();
  p.a.resize(static_cast<size_t>(d));
  p.z.resize(static_cast<size_t>(d));
  p.a[0] = x;
  for (int k = 0; k < d; ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    auto& z = p.z[static_cast<size_t>(k)];
    z.resize(static_cast<size_t>(rows * l.out));
    for (int64_t i = 0; i < rows; ++i)
      std::copy_n(theta.data() + l.b_offset, l.out, z.data() + i * l.out);
    gemm_abt(p.a[static_cast<size_t>(k)].data(), theta.data() + l.w_offset, z.data(), rows, l.out,
             l.in, 1.0);
    if (k == d - 1) break;
    const double ap = act_param(net.spec, k);
    auto& next = p.a[static_cast<size_t>(k + 1)];
    next.resize(z.size());
    for (size_t i = 0; i < z.size(); ++i) next[i] = act_forward(net.spec.activation, z[i], ap);
  }
  p.f = p.z.back();
  if (!backward) return p;
  p.delta.resize(static_cast<size_t>(d));
  p.delta[static_cast<size_t>(d - 1)].assign(static_cast<size_t>(rows), 1.0);
  for (int k = d - 1; k > 0; --k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    const auto& dk = p.delta[static_cast<size_t>(k)];
    auto& prev = p.delta[static_cast<size_t>(k - 1)];
    prev.assign(static_cast<size_t>(rows * l.in), 0.0);
    // ∂f/∂a_k (rows, in) = δ_k (rows, out) · W_k (out, in)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows),
                static_cast<int>(l.in), static_cast<int>(l.out), 1.0, dk.data(),
                static_cast<int>(l.out), theta.data() + l.w_offset, static_cast<int>(l.in), 0.0,
                prev.data(), static_cast<int>(l.in));
    const double ap = act_param(net.spec, k - 1);
    const auto& zp = p.z[static_cast<size_t>(k - 1)];
    for (size_t i = 0; i < prev.size(); ++i)
      prev[i] *= act_derivative(net.spec.activation, zp[i], ap);
  }
  return p;
}

// ‖∂_θ f(x_i)‖² for every row of P: the kernel's diagonal without the rest.
std::vector<double> tangent_diagonal(const Mlp& net, const RowPass& P) {
  std::vector<double> out(static_cast<size_t>(P.rows), 0.0);
  for (int k = 0; k < net.depth(); ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    for (int64_t i = 0; i < P.rows; ++i) {
      double dd = 0, aa = 0;
      for (int64_t o = 0; o < l.out; ++o)
        dd += std::pow(P.delta[static_cast<size_t>(k)][i * l.out + o], 2);
      for (int64_t c = 0; c < l.in; ++c)
        aa += std::pow(P.a[static_cast<size_t>(k)][i * l.in + c], 2);
      out[static_cast<size_t>(i)] += dd * (aa + 1.0);
    }
  }
  return out;
}

// Real-to-complex transforms of `count` rows of length n, e^{−2πikj/n}, k = 0..n/2: FFTW's
// buffers and plan made once and reused for every batch of the same shape (allocating them per
// batch was half a measurement: page faults and copies).
struct BatchFft {
  int64_t count = 0, n = 0;
  double* in = nullptr;         // (count, n)
  fftw_complex* out = nullptr;  // (count, n/2 + 1)
  fftw_plan plan = nullptr;
  BatchFft(int64_t count_, int64_t n_) : count(count_), n(n_) {
    const int64_t h = n / 2 + 1;
    in = fftw_alloc_real(static_cast<size_t>(count * n));
    out = fftw_alloc_complex(static_cast<size_t>(count * h));
    int dims[1] = {static_cast<int>(n)};
    plan = fftw_plan_many_dft_r2c(1, dims, static_cast<int>(count), in, nullptr, 1,
                                  static_cast<int>(n), out, nullptr, 1, static_cast<int>(h),
                                  FFTW_ESTIMATE);
  }
  ~BatchFft() {
    fftw_destroy_plan(plan);
    fftw_free(out);
    fftw_free(in);
  }
  BatchFft(const BatchFft&) = delete;
  BatchFft& operator=(const BatchFft&) = delete;
  std::complex<double> at(int64_t row, int64_t k) const {
    const auto& v = out[row * (n / 2 + 1) + k];
    return {v[0], v[1]};
  }
};

std::vector<double> to_double(std::span<const float> v) {
  return std::vector<double>(v.begin(), v.end());
}

}  // namespace

MechanismSpectra mechanism_spectra(const Mlp& net, std::span<const float> params,
                                   const Encoding* encoding, std::span<const float> train_inputs,
                                   std::span<const float> targets, double lr, int64_t grid) {
  IS_CHECK(net.spec.outputs == 1 && grid >= 8 && grid % 2 == 0);
  const int64_t N = grid, H = N / 2 + 1, in_dim = net.spec.input_dim;
  const auto n = static_cast<int64_t>(targets.size());
  IS_CHECK(n >= 1 && static_cast<int64_t>(train_inputs.size()) == n * in_dim);
  // The grid as the network sees it.
  std::vector<float> raw(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j)
    raw[static_cast<size_t>(j)] =
        static_cast<float>(-1.0 + 2.0 * static_cast<double>(j) / static_cast<double>(N));
  std::vector<float> xg = raw;
  if (encoding && encoding->kind != EncodingKind::none) {
    xg.resize(static_cast<size_t>(N * encoding->output_dim()));
    encode(*encoding, raw.data(), N, xg.data());
  }
  IS_CHECK(static_cast<int64_t>(xg.size()) == N * in_dim, "the grid matches the input width");
  const std::vector<double> theta = to_double(params);
  const RowPass G = row_pass(net, theta, to_double(xg), N, true);
  const RowPass T = row_pass(net, theta, to_double(train_inputs), n, true);

  // The periodic Hann window, normalized: c_j = w_j / Σw.
  std::vector<double> c(static_cast<size_t>(N));
  double wsum = 0.0;
  for (int64_t j = 0; j < N; ++j) {
    c[static_cast<size_t>(j)] =
        0.5 -
        0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(j) / static_cast<double>(N));
    wsum += c[static_cast<size_t>(j)];
  }
  for (auto& v : c) v /= wsum;

  MechanismSpectra out;
  out.freq.resize(static_cast<size_t>(H));
  for (int64_t k = 0; k < H; ++k) out.freq[static_cast<size_t>(k)] = static_cast<double>(k) / 2.0;

  // ‖G_k‖² = Σ over parameters of |Σ_j c_j ∂f(x_j)/∂θ_p e^{−2πikj/N}|²: for W_l[o, q] the
  // sequence c_j δ_l,o(x_j) a_l,q(x_j), for b_l[o] the sequence c_j δ_l,o(x_j). One real FFT per
  // parameter row (o) and input column (q, and the bias), squared magnitudes summed: a sum of
  // non-negative terms, so no cancellation (the kernel's quadratic form lost half the digits).
  out.g_norm.assign(static_cast<size_t>(H), 0.0);
  for (int k = 0; k < net.depth(); ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    const auto& dk = G.delta[static_cast<size_t>(k)];
    const auto& ak = G.a[static_cast<size_t>(k)];
    const int64_t cols = l.in + 1;
    BatchFft fft(cols, N);
    for (int64_t o = 0; o < l.out; ++o) {
      for (int64_t j = 0; j < N; ++j) {
        const double w = c[static_cast<size_t>(j)] * dk[static_cast<size_t>(j * l.out + o)];
        const double* a = ak.data() + j * l.in;
        for (int64_t q = 0; q < l.in; ++q) fft.in[q * N + j] = w * a[q];
        fft.in[l.in * N + j] = w;
      }
      fftw_execute(fft.plan);
      for (int64_t q = 0; q < cols; ++q) {
        const fftw_complex* row = fft.out + q * H;
        for (int64_t kk = 0; kk < H; ++kk)
          out.g_norm[static_cast<size_t>(kk)] += row[kk][0] * row[kk][0] + row[kk][1] * row[kk][1];
      }
    }
  }
  for (auto& g : out.g_norm) g = std::sqrt(g);

  // The loss's derivatives ℓ′_i = 2(f_i − t_i) (L = (1/n) Σ (f_i − t_i)²).
  std::vector<double> lp(static_cast<size_t>(n));
  double loss = 0.0, scale = 0.0;
  const std::vector<double> Kd = tangent_diagonal(net, T);
  for (int64_t i = 0; i < n; ++i) {
    const double r = T.f[static_cast<size_t>(i)] - targets[static_cast<size_t>(i)];
    lp[static_cast<size_t>(i)] = 2.0 * r;
    loss += r * r / static_cast<double>(n);
    scale += std::fabs(2.0 * r) * std::sqrt(Kd[static_cast<size_t>(i)]) / static_cast<double>(n);
  }
  out.loss = loss;
  // ∇L = (1/n) Σ_i ℓ′_i ∂_θ f(x_i): dW_l = Σ_i s_i δ_l,i ⊗ a_l,i, db_l = Σ_i s_i δ_l,i.
  std::vector<double> grad(net.num_params, 0.0);
  for (int k = 0; k < net.depth(); ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    const auto& dk = T.delta[static_cast<size_t>(k)];
    const auto& ak = T.a[static_cast<size_t>(k)];
    for (int64_t i = 0; i < n; ++i) {
      const double s = lp[static_cast<size_t>(i)] / static_cast<double>(n);
      for (int64_t o = 0; o < l.out; ++o) {
        const double g = s * dk[static_cast<size_t>(i * l.out + o)];
        grad[l.b_offset + static_cast<size_t>(o)] += g;
        double* w = grad.data() + l.w_offset + o * l.in;
        for (int64_t q = 0; q < l.in; ++q) w[q] += g * ak[static_cast<size_t>(i * l.in + q)];
      }
    }
  }
  // u_j = −∂_θ f(x_j)·∇L = −Σ_l Σ_o δ_l,o(x_j) (a_l(x_j)·∇W_l[o, :] + ∇b_l[o]): ∂_t f(x_j)
  // under gradient flow; rate = its windowed transform.
  std::vector<double> u(static_cast<size_t>(N), 0.0);
  for (int k = 0; k < net.depth(); ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    std::vector<double> pre(static_cast<size_t>(N * l.out));
    for (int64_t j = 0; j < N; ++j)
      std::copy_n(grad.data() + l.b_offset, l.out, pre.data() + j * l.out);
    // pre (N, out) += a_l (N, in) · ∇W_lᵀ (in, out)
    gemm_abt(G.a[static_cast<size_t>(k)].data(), grad.data() + l.w_offset, pre.data(), N, l.out,
             l.in, 1.0);
    const auto& dk = G.delta[static_cast<size_t>(k)];
    for (int64_t j = 0; j < N; ++j) {
      double s = 0.0;
      for (int64_t o = 0; o < l.out; ++o)
        s += dk[static_cast<size_t>(j * l.out + o)] * pre[static_cast<size_t>(j * l.out + o)];
      u[static_cast<size_t>(j)] -= c[static_cast<size_t>(j)] * s;
    }
  }
  BatchFft one(1, N);
  std::copy(u.begin(), u.end(), one.in);
  fftw_execute(one.plan);
  std::vector<std::complex<double>> U(static_cast<size_t>(H));
  for (int64_t k = 0; k < H; ++k) U[static_cast<size_t>(k)] = one.at(0, k);
  std::vector<double> moved = theta;
  for (size_t i = 0; i < moved.size(); ++i) moved[i] -= lr * grad[i];
  const RowPass after = row_pass(net, moved, to_double(xg), N, false);
  std::vector<double> df(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j)
    df[static_cast<size_t>(j)] =
        c[static_cast<size_t>(j)] * (after.f[static_cast<size_t>(j)] - G.f[static_cast<size_t>(j)]);
  std::copy(df.begin(), df.end(), one.in);
  fftw_execute(one.plan);
  std::vector<std::complex<double>> D(static_cast<size_t>(H));
  for (int64_t k = 0; k < H; ++k) D[static_cast<size_t>(k)] = one.at(0, k);
  out.rate.resize(static_cast<size_t>(H));
  out.bound.resize(static_cast<size_t>(H));
  out.step.resize(static_cast<size_t>(H));
  for (int64_t k = 0; k < H; ++k) {
    out.rate[static_cast<size_t>(k)] = std::abs(U[static_cast<size_t>(k)]);
    out.bound[static_cast<size_t>(k)] = scale * out.g_norm[static_cast<size_t>(k)];
    out.step[static_cast<size_t>(k)] = std::abs(D[static_cast<size_t>(k)]) / lr;
  }
  return out;
}

namespace {
constexpr double k_floor = 1e-12;  // relative to the largest ‖G‖: double rounding below
double floor_of(const std::vector<double>& g) {
  double top = 0.0;
  for (const double v : g)
    if (std::isfinite(v)) top = std::max(top, v);
  return k_floor * top;
}
}  // namespace

double log_log_slope(const std::vector<double>& freq, const std::vector<double>& g, double lo,
                     double hi) {
  const double floor = floor_of(g);
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int n = 0;
  for (size_t k = 0; k < freq.size() && k < g.size(); ++k) {
    if (freq[k] < lo || freq[k] > hi || !(freq[k] > 0) || !(g[k] > floor)) continue;
    const double x = std::log(freq[k]), y = std::log(g[k]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    ++n;
  }
  if (n < 3) return NAN;
  const double den = n * sxx - sx * sx;
  return den > 0 ? (n * sxy - sx * sy) / den : NAN;
}

double monotone_from(const std::vector<double>& freq, const std::vector<double>& g, double hi) {
  const double floor = floor_of(g);
  size_t last = 0;
  while (last + 1 < freq.size() && last + 1 < g.size() && freq[last + 1] <= hi &&
         g[last + 1] > floor)
    ++last;
  if (last < 1) return NAN;
  size_t k = last;
  while (k > 0 && g[k - 1] >= g[k]) --k;
  return k == last ? NAN : freq[k];
}

// The registered measure (--mechanism): at init, during training and at the end.
//   mech_rate_ratio_max  max over ξ > 0 of rate/bound: ≤ 1 by Cauchy–Schwarz (a check of the
//                        computation; the law's content is in how fast the bound falls)
//   mech_step_ratio_max  max over ξ > 0 of step/bound: one real gradient step against the bound
//   mech_g_slope         log-log slope of ‖G‖ over ξ ∈ [K, Nyquist/2] (K the target's top
//                        frequency): the decay rate the law leaves open
//   mech_monotone_from   the ξ₀ beyond which ‖G‖ is non-increasing up to Nyquist/2
// Arrays at the end: mech_freq, mech_g_init, mech_g_final (‖G‖ per bin).
void mechanism_measure(const MeasureInput& in, Metrics& out) {
  if (!in.options.value("mechanism", false) || in.box.dims != 1 || !in.train ||
      in.net->spec.outputs != 1)
    return;
  const double lr = in.options.value("lr", 0.01);
  const auto spectra = [&](std::span<const float> w) {
    return mechanism_spectra(
        *in.net, w, in.box.encoding, std::span<const float>(in.train->x.data(), in.train->x.size()),
        std::span<const float>(in.train->targets.data(), in.train->targets.size()), lr);
  };
  const MechanismSpectra s = spectra(in.params);
  double rate_max = 0.0, step_max = 0.0;
  for (size_t k = 1; k < s.freq.size(); ++k) {
    if (!(s.bound[k] > 0)) continue;
    rate_max = std::max(rate_max, s.rate[k] / s.bound[k]);
    step_max = std::max(step_max, s.step[k] / s.bound[k]);
  }
  const double nyquist = s.freq.back(), K = in.box.cutoff;
  out["mech_rate_ratio_max"] = rate_max;
  out["mech_step_ratio_max"] = step_max;
  out["mech_g_slope"] = log_log_slope(s.freq, s.g_norm, K, nyquist / 2);
  out["mech_monotone_from"] = monotone_from(s.freq, s.g_norm, nyquist / 2);
  if (in.when != k_at_end || !in.arrays) return;
  const MechanismSpectra s0 = spectra(in.init);
  (*in.arrays)["mech_freq"] = s.freq;
  (*in.arrays)["mech_g_init"] = s0.g_norm;
  (*in.arrays)["mech_g_final"] = s.g_norm;
}

}  // namespace initscope
