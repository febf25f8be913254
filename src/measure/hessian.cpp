// Hessian-vector products by the R-operator, Lanczos and Hutchinson (hessian.hpp).
#include "measure/hessian.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "model/network.hpp"

namespace initscope {

namespace {

// C (M, N) = alpha · op(A) op(B) + beta · C, row-major, on OpenBLAS in T's precision.
template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  const auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, opa, opb, static_cast<int>(M), static_cast<int>(N),
                static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb),
                beta, C, static_cast<int>(ldc));
  else
    cblas_dgemm(CblasRowMajor, opa, opb, static_cast<int>(M), static_cast<int>(N),
                static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb),
                beta, C, static_cast<int>(ldc));
}

// φ″(z) with parameter p (activation.hpp's φ and φ′ differentiated once more).
template <class T>
T act_second_derivative(Activation a, T z, T p) {
  switch (a) {
    case Activation::relu:
    case Activation::linear:
      return T(0);
    case Activation::tanh: {
      const T y = std::tanh(z);
      return T(-2) * y * (T(1) - y * y);
    }
    case Activation::sine:
      return -p * p * std::sin(p * z);
    case Activation::gaussian:
      return (z * z / (p * p * p * p) - T(1) / (p * p)) * act_forward(a, z, p);
  }
  return T(0);  // not reached
}

// out (K) = ∇²_f loss(f, y) · u: the loss's Hessian with respect to the logits times u.
template <class T>
void loss_hessian_vector(Loss loss, T* out, const T* f, int32_t y, int64_t K, const T* u) {
  switch (loss) {
    case Loss::ce: {  // diag(p) − ppᵀ, p = softmax(f)
      T mx = f[0];
      for (int64_t j = 1; j < K; ++j) mx = std::max(mx, f[j]);
      T s = 0;
      for (int64_t j = 0; j < K; ++j) s += std::exp(f[j] - mx);
      T pu = 0;
      for (int64_t j = 0; j < K; ++j) {
        out[j] = std::exp(f[j] - mx) / s;  // p_j, for now
        pu += out[j] * u[j];
      }
      for (int64_t j = 0; j < K; ++j) out[j] = out[j] * (u[j] - pu);
      return;
    }
    case Loss::mse: {
      const T c = K == 1 ? T(2) : T(2) / static_cast<T>(K);
      for (int64_t j = 0; j < K; ++j) out[j] = c * u[j];
      return;
    }
    case Loss::logistic: {  // σ(−t f)(1 − σ(−t f))
      const T t = y == 1 ? T(1) : T(-1);
      const T m = -t * f[0];
      const T sig = m >= 0 ? T(1) / (T(1) + std::exp(-m)) : std::exp(m) / (T(1) + std::exp(m));
      out[0] = sig * (T(1) - sig) * u[0];
      return;
    }
  }
  IS_CHECK(false, "unknown Loss value");
}

void normalize(std::span<double> v) {
  double s = 0.0;
  for (double x : v) s += x * x;
  const double inv = 1.0 / std::sqrt(s);
  for (double& x : v) x *= inv;
}

double dot(std::span<const double> a, std::span<const double> b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

template <class T>
HvpWorkspace<T> make_hvp_workspace(const Mlp& net, int64_t chunk) {
  IS_CHECK(chunk >= 1);
  HvpWorkspace<T> hw;
  hw.chunk = chunk;
  hw.x.assign(static_cast<size_t>(chunk * net.spec.input_dim), T(0));
  size_t hidden = 0;
  int64_t widest = net.spec.outputs;
  for (int k = 0; k + 1 < net.depth(); ++k) {
    hw.offset.push_back(hidden);
    hidden += static_cast<size_t>(net.layers[static_cast<size_t>(k)].out);
  }
  for (const auto& l : net.layers) widest = std::max(widest, l.out);
  const size_t c = static_cast<size_t>(chunk);
  for (auto* b : {&hw.z, &hw.a, &hw.rz, &hw.ra}) b->assign(hidden * c, T(0));
  for (auto* b : {&hw.f, &hw.rf}) b->assign(c * static_cast<size_t>(net.spec.outputs), T(0));
  for (auto* b : {&hw.d, &hw.rd, &hw.e, &hw.re}) b->assign(c * static_cast<size_t>(widest), T(0));
  hw.hv.assign(net.num_params, T(0));
  hw.sum.assign(net.num_params, 0.0);
  return hw;
}

template <class T>
double hessian_vector_product(const Mlp& net, std::span<const T> params, const LossRows& rows,
                              std::span<const T> v, std::span<double> hv, HvpWorkspace<T>& hw) {
  const int64_t n = static_cast<int64_t>(rows.indices.size());
  IS_CHECK(n >= 1, "the mean over no rows is undefined");
  IS_CHECK(params.size() == net.num_params && v.size() == net.num_params &&
           hv.size() == net.num_params && hw.sum.size() == net.num_params);
  IS_CHECK(!rows.targets || rows.loss == Loss::mse, "regression takes the mean squared error");
  const int64_t dim = net.spec.input_dim, K = net.spec.outputs;
  const int depth = net.depth();
  const Activation act = net.spec.activation;
  const T* w = params.data();
  const T* vv = v.data();
  std::fill(hw.sum.begin(), hw.sum.end(), 0.0);
  double loss_sum = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += hw.chunk) {
    const int64_t B = std::min(hw.chunk, n - i0);
    for (int64_t i = 0; i < B; ++i) {
      const float* r = rows.x + rows.indices[static_cast<size_t>(i0 + i)] * dim;
      std::copy_n(r, dim, hw.x.data() + i * dim);
    }
    // Forward and R-forward: z = in·Wᵀ + b, Rz = in·Vᵀ + c + R(in)·Wᵀ, a = φ(z), Ra = φ′(z)·Rz.
    for (int k = 0; k < depth; ++k) {
      const LayerSlice& l = net.layers[static_cast<size_t>(k)];
      const bool last = k + 1 == depth;
      const size_t off = last ? 0 : hw.offset[static_cast<size_t>(k)] * static_cast<size_t>(B);
      const size_t prev =
          k == 0 ? 0 : hw.offset[static_cast<size_t>(k - 1)] * static_cast<size_t>(B);
      const T* in = k == 0 ? hw.x.data() : hw.a.data() + prev;
      T* z = last ? hw.f.data() : hw.z.data() + off;
      T* rz = last ? hw.rf.data() : hw.rz.data() + off;
      gemm<T>(false, true, B, l.out, l.in, T(1), in, l.in, w + l.w_offset, l.in, T(0), z, l.out);
      gemm<T>(false, true, B, l.out, l.in, T(1), in, l.in, vv + l.w_offset, l.in, T(0), rz, l.out);
      if (k > 0)
        gemm<T>(false, true, B, l.out, l.in, T(1), hw.ra.data() + prev, l.in, w + l.w_offset, l.in,
                T(1), rz, l.out);
      for (int64_t i = 0; i < B; ++i)
        for (int64_t j = 0; j < l.out; ++j) {
          z[i * l.out + j] += w[l.b_offset + static_cast<size_t>(j)];
          rz[i * l.out + j] += vv[l.b_offset + static_cast<size_t>(j)];
        }
      if (last) break;
      const T p = static_cast<T>(act_param(net.spec, k));
      T* a = hw.a.data() + off;
      T* ra = hw.ra.data() + off;
      for (size_t i = 0; i < static_cast<size_t>(B * l.out); ++i) {
        a[i] = act_forward(act, z[i], p);
        ra[i] = act_derivative(act, z[i], p) * rz[i];
      }
    }
    // The loss: δ = ∂loss/∂f and Rδ = ∇²_f loss · Rf, each row's with scale 1 (the mean below).
    for (int64_t i = 0; i < B; ++i) {
      const T* f = hw.f.data() + i * K;
      const T* rf = hw.rf.data() + i * K;
      T* d = hw.d.data() + i * K;
      T* rd = hw.rd.data() + i * K;
      if (rows.targets) {
        const float* t = rows.targets + rows.indices[static_cast<size_t>(i0 + i)] * K;
        loss_sum += regression_loss(f, t, K);
        regression_loss_gradient(d, f, t, K, T(1));
        loss_hessian_vector(Loss::mse, rd, f, 0, K, rf);
      } else {
        const int32_t y = rows.y[rows.indices[static_cast<size_t>(i0 + i)]];
        loss_sum += example_loss(rows.loss, f, y, K);
        example_loss_gradient(rows.loss, d, f, y, K, T(1));
        loss_hessian_vector(rows.loss, rd, f, y, K, rf);
      }
    }
    // Backward and R-backward, from the last layer down:
    //   H v for W_k = Rδᵀ·in + δᵀ·R(in),  for b_k = Σ_rows Rδ;
    //   e = δ·W_k, Re = Rδ·W_k + δ·V_k;   δ ← φ′(z)·e,  Rδ ← φ′(z)·Re + φ″(z)·Rz·e.
    for (int k = depth - 1; k >= 0; --k) {
      const LayerSlice& l = net.layers[static_cast<size_t>(k)];
      const size_t prev =
          k == 0 ? 0 : hw.offset[static_cast<size_t>(k - 1)] * static_cast<size_t>(B);
      const T* in = k == 0 ? hw.x.data() : hw.a.data() + prev;
      T* hv_w = hw.hv.data() + l.w_offset;
      T* hv_b = hw.hv.data() + l.b_offset;
      gemm<T>(true, false, l.out, l.in, B, T(1), hw.rd.data(), l.out, in, l.in, T(0), hv_w, l.in);
      if (k > 0)
        gemm<T>(true, false, l.out, l.in, B, T(1), hw.d.data(), l.out, hw.ra.data() + prev, l.in,
                T(1), hv_w, l.in);
      for (int64_t j = 0; j < l.out; ++j) hv_b[j] = T(0);
      for (int64_t i = 0; i < B; ++i)
        for (int64_t j = 0; j < l.out; ++j) hv_b[j] += hw.rd[static_cast<size_t>(i * l.out + j)];
      if (k == 0) break;
      gemm<T>(false, false, B, l.in, l.out, T(1), hw.d.data(), l.out, w + l.w_offset, l.in, T(0),
              hw.e.data(), l.in);
      gemm<T>(false, false, B, l.in, l.out, T(1), hw.rd.data(), l.out, w + l.w_offset, l.in, T(0),
              hw.re.data(), l.in);
      gemm<T>(false, false, B, l.in, l.out, T(1), hw.d.data(), l.out, vv + l.w_offset, l.in, T(1),
              hw.re.data(), l.in);
      const T p = static_cast<T>(act_param(net.spec, k - 1));
      const T* z = hw.z.data() + prev;
      const T* rz = hw.rz.data() + prev;
      for (size_t i = 0; i < static_cast<size_t>(B * l.in); ++i) {
        const T d1 = act_derivative(act, z[i], p);
        hw.d[i] = d1 * hw.e[i];
        hw.rd[i] = d1 * hw.re[i] + act_second_derivative(act, z[i], p) * rz[i] * hw.e[i];
      }
    }
    for (size_t j = 0; j < hw.sum.size(); ++j) hw.sum[j] += static_cast<double>(hw.hv[j]);
  }
  const double inv_n = 1.0 / static_cast<double>(n);
  for (size_t j = 0; j < hw.sum.size(); ++j) hv[j] = hw.sum[j] * inv_n;
  return loss_sum * inv_n;
}

template HvpWorkspace<float> make_hvp_workspace<float>(const Mlp&, int64_t);
template HvpWorkspace<double> make_hvp_workspace<double>(const Mlp&, int64_t);
template double hessian_vector_product<float>(const Mlp&, std::span<const float>, const LossRows&,
                                              std::span<const float>, std::span<double>,
                                              HvpWorkspace<float>&);
template double hessian_vector_product<double>(const Mlp&, std::span<const double>, const LossRows&,
                                               std::span<const double>, std::span<double>,
                                               HvpWorkspace<double>&);

std::vector<double> hvp_finite_difference_ref(const Mlp& net, std::span<const double> params,
                                              const LossRows& rows, std::span<const double> v,
                                              double h) {
  const int64_t n = static_cast<int64_t>(rows.indices.size());
  const int64_t dim = net.spec.input_dim, K = net.spec.outputs;
  std::vector<double> x(static_cast<size_t>(n * dim));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < dim; ++j)
      x[static_cast<size_t>(i * dim + j)] = rows.x[rows.indices[static_cast<size_t>(i)] * dim + j];
  const auto gradient = [&](double sign) {
    std::vector<double> w(params.begin(), params.end());
    for (size_t j = 0; j < w.size(); ++j) w[j] += sign * h * v[j];
    const std::vector<double> f = mlp_forward_ref(net, w.data(), x.data(), n);
    std::vector<double> dl(f.size());
    const double inv_n = 1.0 / static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = rows.indices[static_cast<size_t>(i)];
      if (rows.targets)
        regression_loss_gradient(dl.data() + i * K, f.data() + i * K, rows.targets + r * K, K,
                                 inv_n);
      else
        example_loss_gradient(rows.loss, dl.data() + i * K, f.data() + i * K, rows.y[r], K, inv_n);
    }
    return mlp_backward_ref(net, w.data(), x.data(), dl.data(), n);
  };
  const std::vector<double> gp = gradient(1.0), gm = gradient(-1.0);
  std::vector<double> out(gp.size());
  for (size_t j = 0; j < out.size(); ++j) out[j] = (gp[j] - gm[j]) / (2.0 * h);
  return out;
}

LanczosResult lanczos_extremes(const SymmetricOp& op, size_t n, int k, int max_steps,
                               double rel_tol, uint64_t seed, bool want_min) {
  IS_CHECK(n >= 1 && k >= 1 && max_steps >= 1);
  max_steps = static_cast<int>(std::min<size_t>(static_cast<size_t>(max_steps), n));
  std::vector<std::vector<double>> q;
  std::vector<double> alpha, beta;
  std::vector<double> w(n);
  {
    Rng rng(seed);
    std::vector<double> q0(n);
    for (double& x : q0) x = rng.normal();
    normalize(q0);
    q.push_back(std::move(q0));
  }
  LanczosResult r;
  std::vector<double> theta, s;  // Ritz values (ascending) and T's eigenvectors (column-major)
  for (int j = 0; j < max_steps; ++j) {
    op(q[static_cast<size_t>(j)], w);
    ++r.steps;
    const double a = dot(q[static_cast<size_t>(j)], w);
    alpha.push_back(a);
    for (size_t i = 0; i < n; ++i) {
      w[i] -= a * q[static_cast<size_t>(j)][i];
      if (j > 0) w[i] -= beta.back() * q[static_cast<size_t>(j - 1)][i];
    }
    // Full reorthogonalization, twice ("twice is enough"): Ritz values stay free of the ghost
    // copies plain Lanczos makes once the top eigenvalue has converged.
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& qi : q) {
        const double c = dot(qi, w);
        for (size_t i = 0; i < n; ++i) w[i] -= c * qi[i];
      }
    const double b = std::sqrt(dot(w, w));
    if (!std::isfinite(a) || !std::isfinite(b)) {  // a non-finite operator (diverged weights)
      r.top.assign(1, NAN);
      r.top_residual.assign(1, NAN);
      r.lambda_min = r.lambda_min_residual = NAN;
      return r;
    }
    // The tridiagonal T (m × m) and its eigenpairs (LAPACK's symmetric tridiagonal solver).
    const int m = j + 1;
    theta = alpha;
    std::vector<double> e(beta.begin(), beta.end());
    e.resize(static_cast<size_t>(std::max(m - 1, 1)));
    s.assign(static_cast<size_t>(m * m), 0.0);
    const int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', m, theta.data(), e.data(), s.data(), m);
    IS_CHECK(info == 0, "dstev failed on the Lanczos tridiagonal");
    double scale = 0.0;
    for (double t : theta) scale = std::max(scale, std::abs(t));
    // Residual of Ritz pair i: β_m · |last component of T's eigenvector i|.
    const auto residual = [&](int i) {
      return b * std::abs(s[static_cast<size_t>(i * m + m - 1)]);
    };
    const bool exhausted = b <= 1e-13 * scale || scale == 0.0;
    bool ok = m >= std::min(k, static_cast<int>(n));
    for (int i = 0; i < std::min(k, m); ++i) ok = ok && residual(m - 1 - i) <= rel_tol * scale;
    if (want_min) ok = ok && residual(0) <= rel_tol * scale;
    if (ok || exhausted || j + 1 == max_steps) {
      r.converged = ok || exhausted;
      for (int i = 0; i < std::min(k, m); ++i) {
        const int col = m - 1 - i;
        r.top.push_back(theta[static_cast<size_t>(col)]);
        r.top_residual.push_back(residual(col));
        std::vector<double> y(n, 0.0);
        for (int t = 0; t < m; ++t) {
          const double c = s[static_cast<size_t>(col * m + t)];
          for (size_t x = 0; x < n; ++x) y[x] += c * q[static_cast<size_t>(t)][x];
        }
        r.top_vectors.push_back(std::move(y));
      }
      r.lambda_min = theta.front();
      r.lambda_min_residual = residual(0);
      return r;
    }
    beta.push_back(b);
    for (double& x : w) x /= b;
    q.push_back(w);
  }
  return r;  // not reached: the last step returns
}

TraceResult hutchinson_trace(const SymmetricOp& op, size_t n, int min_probes, int max_probes,
                             double rel_se, uint64_t seed) {
  IS_CHECK(n >= 1 && min_probes >= 1 && max_probes >= min_probes);
  Rng rng(seed);
  std::vector<double> v(n), av(n);
  double mean = 0.0, m2 = 0.0;  // Welford
  TraceResult r;
  for (int p = 1; p <= max_probes; ++p) {
    for (size_t i = 0; i < n; i += 64) {
      const uint64_t bits = rng.next_u64();
      for (size_t b = 0; b < 64 && i + b < n; ++b) v[i + b] = (bits >> b) & 1 ? 1.0 : -1.0;
    }
    op(v, av);
    const double x = dot(v, av);
    const double delta = x - mean;
    mean += delta / p;
    m2 += delta * (x - mean);
    r.probes = p;
    r.trace = mean;
    r.se = p > 1 ? std::sqrt(m2 / (p - 1) / p) : INFINITY;
    if (p >= min_probes && p > 1 && r.se <= rel_se * std::abs(mean)) {
      r.converged = true;
      break;
    }
  }
  if (r.probes == 1) r.se = NAN;
  return r;
}

}  // namespace initscope
