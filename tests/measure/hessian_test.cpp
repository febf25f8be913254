// Hessian-vector products against central differences of the double-precision reference
// gradient (every activation and loss) and a linear model's closed form; Lanczos and Hutchinson
// on operators whose spectra we choose (measures-reference.md §1.5).
#include <gtest/gtest.h>

#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/rng.hpp"
#include "measure/hessian.hpp"

namespace initscope {
namespace {

// The dense symmetric n × n matrix Q diag(eig) Qᵀ, Q a seeded random rotation, row-major.
std::vector<double> rotated(const std::vector<double>& eig, uint64_t seed) {
  const size_t n = eig.size();
  Rng r(seed);
  std::vector<std::vector<double>> q;
  for (size_t j = 0; j < n; ++j) {
    std::vector<double> v(n);
    for (auto& x : v) x = r.normal();
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& u : q) {
        double d = 0;
        for (size_t t = 0; t < n; ++t) d += u[t] * v[t];
        for (size_t t = 0; t < n; ++t) v[t] -= d * u[t];
      }
    double nv = 0;
    for (double x : v) nv += x * x;
    for (auto& x : v) x /= std::sqrt(nv);
    q.push_back(v);
  }
  std::vector<double> a(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      for (size_t k = 0; k < n; ++k) a[i * n + j] += q[k][i] * eig[k] * q[k][j];
  return a;
}

SymmetricOp dense_op(const std::vector<double>& a, size_t n) {
  return [&a, n](std::span<const double> v, std::span<double> out) {
    for (size_t i = 0; i < n; ++i) {
      double s = 0;
      for (size_t j = 0; j < n; ++j) s += a[i * n + j] * v[j];
      out[i] = s;
    }
  };
}

SymmetricOp diagonal_op(std::vector<double> d) {
  return [d](std::span<const double> v, std::span<double> out) {
    for (size_t i = 0; i < d.size(); ++i) out[i] = d[i] * v[i];
  };
}

// All eigenvalues of a dense symmetric matrix, ascending (LAPACK dsyev).
std::vector<double> eigenvalues(std::vector<double> a, size_t n) {
  std::vector<double> w(n);
  EXPECT_EQ(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', static_cast<int>(n), a.data(),
                          static_cast<int>(n), w.data()),
            0);
  return w;
}

// ---- Lanczos ------------------------------------------------------------------------------

TEST(Lanczos, TopEigenvalueOfADiagonalQuadratic) {
  std::vector<double> d(100, 1.0);
  d[0] = 10.0;
  d[1] = 5.0;
  const LanczosResult r = lanczos_extremes(diagonal_op(d), d.size(), 1, 50, 1e-8, 7);
  EXPECT_TRUE(r.converged);
  EXPECT_NEAR(r.top[0], 10.0, 1e-6 * 10.0);
  EXPECT_NEAR(r.lambda_min, 1.0, 1e-6);
}

// A gap of 10 against 9.5 over a spread bulk: PyHessian's λ-change stop returns 9.5–9.9 here;
// the residual stop must find 10.
TEST(Lanczos, SmallSpectralGap) {
  std::vector<double> d{10.0, 9.5};
  for (int i = 0; i < 300; ++i) d.push_back(i / 300.0);
  const auto a = rotated(d, 3);
  const LanczosResult r =
      lanczos_extremes(dense_op(a, d.size()), d.size(), 2, 100, 1e-6, 11, /*want_min=*/false);
  EXPECT_TRUE(r.converged);
  EXPECT_NEAR(r.top[0], 10.0, 1e-3);
  EXPECT_NEAR(r.top[1], 9.5, 1e-3);
}

// The largest algebraic eigenvalue, not the largest magnitude; λ_min is the negative one.
TEST(Lanczos, NegativeEigenvalueOfLargestMagnitude) {
  std::vector<double> d{-20.0, 10.0};
  for (int i = 0; i < 50; ++i) d.push_back(1.0 + i / 100.0);
  const LanczosResult r = lanczos_extremes(diagonal_op(d), d.size(), 1, 60, 1e-8, 5);
  EXPECT_TRUE(r.converged);
  EXPECT_NEAR(r.top[0], 10.0, 1e-6);
  EXPECT_NEAR(r.lambda_min, -20.0, 1e-6);
}

TEST(Lanczos, TopThreeWithOrthonormalVectors) {
  std::vector<double> d;
  for (int i = 0; i < 60; ++i) d.push_back(std::pow(0.8, i) * 7.0 - 0.5);
  const size_t n = d.size();
  const auto a = rotated(d, 21);
  const LanczosResult r = lanczos_extremes(dense_op(a, n), n, 3, 60, 1e-10, 2);
  ASSERT_EQ(r.top.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(r.top[i], d[i], 1e-6) << i;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (size_t t = 0; t < n; ++t) s += r.top_vectors[i][t] * r.top_vectors[j][t];
      EXPECT_NEAR(s, i == j ? 1.0 : 0.0, 1e-8) << i << "," << j;
    }
}

// λ scales with the loss, exactly: no absolute ε anywhere (PyHessian's +1e-6 fails at 1e-8).
TEST(Lanczos, ScalesWithTheOperator) {
  std::vector<double> d{3.0, 2.0, -1.0, 0.5, 0.25, 0.1};
  const LanczosResult base = lanczos_extremes(diagonal_op(d), d.size(), 1, 10, 1e-10, 9);
  for (double c : {1e-8, 1.0, 1e8}) {
    std::vector<double> dc = d;
    for (auto& x : dc) x *= c;
    const LanczosResult r = lanczos_extremes(diagonal_op(dc), d.size(), 1, 10, 1e-10, 9);
    EXPECT_NEAR(r.top[0] / (c * base.top[0]), 1.0, 1e-12) << c;
    EXPECT_NEAR(r.lambda_min / (c * base.lambda_min), 1.0, 1e-12) << c;
  }
}

// An operator that returns NaN (diverged weights) gives NaN, never a failed LAPACK call.
TEST(Lanczos, NonFiniteOperatorGivesNaN) {
  const SymmetricOp nan_op = [](std::span<const double>, std::span<double> out) {
    for (double& x : out) x = NAN;
  };
  const LanczosResult r = lanczos_extremes(nan_op, 10, 1, 5, 1e-8, 1);
  EXPECT_FALSE(r.converged);
  EXPECT_TRUE(std::isnan(r.top[0]));
  EXPECT_TRUE(std::isnan(r.lambda_min));
}

TEST(Lanczos, IdentityExhaustsTheKrylovSpaceAtOnce) {
  const LanczosResult r =
      lanczos_extremes(diagonal_op(std::vector<double>(30, 1.0)), 30, 1, 20, 1e-8, 1);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.steps, 1);
  EXPECT_DOUBLE_EQ(r.top[0], 1.0);
}

// ---- Hutchinson ---------------------------------------------------------------------------

TEST(Hutchinson, OneProbeIsExactOnADiagonal) {
  const std::vector<double> d{3.0, -1.0, 0.5, 7.0};
  const TraceResult t = hutchinson_trace(diagonal_op(d), d.size(), 1, 1, 0.0, 4);
  EXPECT_DOUBLE_EQ(t.trace, 9.5);
  EXPECT_EQ(t.probes, 1);
}

// Over 1000 repeats of N = 100 probes, the variance of the estimate is 2(‖A‖_F² − Σ A_ii²)/N
// within ±15%, and the mean is within 3 standard errors of tr A.
TEST(Hutchinson, VarianceMatchesTheRademacherFormula) {
  const size_t n = 50;
  std::vector<double> eig;
  for (size_t i = 1; i <= n; ++i) eig.push_back(static_cast<double>(i));
  const auto a = rotated(eig, 8);
  double fro2 = 0, diag2 = 0, tr = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) fro2 += a[i * n + j] * a[i * n + j];
    diag2 += a[i * n + i] * a[i * n + i];
    tr += a[i * n + i];
  }
  const int N = 100, repeats = 1000;
  const double expected_var = 2.0 * (fro2 - diag2) / N;
  double mean = 0, m2 = 0, se_sum = 0;
  const SymmetricOp op = dense_op(a, n);
  for (int k = 0; k < repeats; ++k) {
    const TraceResult t = hutchinson_trace(op, n, N, N, 0.0, 1000 + static_cast<uint64_t>(k));
    ASSERT_EQ(t.probes, N);
    const double delta = t.trace - mean;
    mean += delta / (k + 1);
    m2 += delta * (t.trace - mean);
    se_sum += t.se;
  }
  const double var = m2 / (repeats - 1);
  EXPECT_NEAR(var / expected_var, 1.0, 0.15);
  EXPECT_NEAR(mean, tr, 3.0 * std::sqrt(expected_var / repeats));
  // The reported standard error estimates the same spread.
  EXPECT_NEAR(se_sum / repeats / std::sqrt(expected_var), 1.0, 0.1);
}

TEST(Hutchinson, StopsOnTheStandardError) {
  const auto a = rotated({5, 4, 3, 2, 1, 1, 1, 1}, 4);
  const TraceResult t = hutchinson_trace(dense_op(a, 8), 8, 10, 100000, 0.01, 3);
  EXPECT_TRUE(t.converged);
  EXPECT_LE(t.se, 0.01 * std::abs(t.trace));
  EXPECT_GE(t.probes, 10);
  EXPECT_NEAR(t.trace, 18.0, 4.0 * t.se);
}

// ---- Hessian-vector products --------------------------------------------------------------

struct Tiny {
  Mlp net;
  std::vector<double> params;
  std::vector<float> x, targets;
  std::vector<int32_t> y;
  std::vector<int64_t> idx;
  LossRows rows() const {
    LossRows r;
    r.x = x.data();
    r.y = y.data();
    r.targets = targets.empty() ? nullptr : targets.data();
    r.indices = idx;
    return r;
  }
};

Tiny tiny(Activation act, int64_t outputs, bool regression, int64_t n = 7, int64_t width = 4,
          int depth = 3, int64_t dim = 3, uint64_t seed = 17) {
  MlpSpec spec;
  spec.input_dim = dim;
  spec.width = width;
  spec.depth = depth;
  spec.outputs = outputs;
  spec.activation = act;
  spec.omega0 = spec.omega0_hidden = 1.5;  // sine at a frequency the differences resolve
  spec.gauss_width = 0.8;
  Tiny t{Mlp::make(spec), {}, {}, {}, {}, {}};
  Rng r(seed);
  t.params.resize(t.net.num_params);
  for (auto& p : t.params) p = 0.6 * r.normal();
  for (int64_t i = 0; i < n * dim; ++i) t.x.push_back(static_cast<float>(r.normal()));
  for (int64_t i = 0; i < n; ++i) {
    t.y.push_back(static_cast<int32_t>(r.below(outputs == 1 ? 2 : static_cast<uint64_t>(outputs))));
    t.idx.push_back(n - 1 - i);  // not in order: the indices are honoured
  }
  if (regression)
    for (int64_t i = 0; i < n * outputs; ++i) t.targets.push_back(static_cast<float>(r.normal()));
  return t;
}

// The dense Hessian, column by column from products with unit vectors.
std::vector<double> dense_hessian(const Tiny& t, const LossRows& rows) {
  const size_t P = t.net.num_params;
  auto hw = make_hvp_workspace<double>(t.net, 3);  // chunks of 3: the chunk sums are exercised
  std::vector<double> h(P * P), e(P, 0.0), col(P);
  for (size_t j = 0; j < P; ++j) {
    e[j] = 1.0;
    hessian_vector_product<double>(t.net, t.params, rows, e, col, hw);
    for (size_t i = 0; i < P; ++i) h[i * P + j] = col[i];
    e[j] = 0.0;
  }
  return h;
}

struct Case {
  Activation act;
  Loss loss;
  int64_t outputs;
  bool regression;
};

TEST(HessianVectorProduct, MatchesFiniteDifferencesOfTheGradient) {
  std::vector<Case> cases;
  for (Activation a : k_activations) {
    cases.push_back({a, Loss::ce, 3, false});
    cases.push_back({a, Loss::mse, 3, false});
    cases.push_back({a, Loss::mse, 1, false});
    cases.push_back({a, Loss::logistic, 1, false});
    cases.push_back({a, Loss::mse, 2, true});
  }
  for (const Case& c : cases) {
    const Tiny t = tiny(c.act, c.outputs, c.regression);
    LossRows rows = t.rows();
    rows.loss = c.loss;
    const size_t P = t.net.num_params;
    const auto h = dense_hessian(t, rows);
    double scale = 0, asym = 0;
    for (size_t i = 0; i < P; ++i)
      for (size_t j = 0; j < P; ++j) {
        scale = std::max(scale, std::abs(h[i * P + j]));
        asym = std::max(asym, std::abs(h[i * P + j] - h[j * P + i]));
      }
    const std::string what = to_string(c.act) + "/" + to_string(c.loss) +
                             "/K=" + std::to_string(c.outputs) +
                             (c.regression ? "/regression" : "");
    EXPECT_LE(asym, 1e-10 * scale) << what;
    // Columns against central differences of the reference gradient, h = 1e-5.
    std::vector<double> e(P, 0.0);
    double err = 0;
    for (size_t j = 0; j < P; ++j) {
      e[j] = 1.0;
      const auto fd = hvp_finite_difference_ref(t.net, t.params, rows, e);
      for (size_t i = 0; i < P; ++i) err = std::max(err, std::abs(fd[i] - h[i * P + j]));
      e[j] = 0.0;
    }
    EXPECT_LE(err, 1e-6 * scale) << what;
    // Lanczos on the products finds the dense eigen-solver's extremes.
    const auto eig = eigenvalues(h, P);
    auto hw = make_hvp_workspace<double>(t.net);
    const SymmetricOp op = [&](std::span<const double> v, std::span<double> out) {
      hessian_vector_product<double>(t.net, t.params, rows, v, out, hw);
    };
    const LanczosResult r = lanczos_extremes(op, P, 1, static_cast<int>(P), 1e-12, 3);
    EXPECT_NEAR(r.top[0], eig.back(), 1e-8 * scale) << what;
    EXPECT_NEAR(r.lambda_min, eig.front(), 1e-8 * scale) << what;
  }
}

// A linear model (depth 1) with the regression mse (1/K)·Σ(f − t)² has the Hessian
// (2/K)·X̃ᵀX̃/n ⊗ I_K, X̃ = [X, 1]: the same for every output row of W and b.
TEST(HessianVectorProduct, LinearModelWithMseIsTheScaledGramMatrix) {
  const int64_t n = 40, dim = 5, K = 2;
  const Tiny t = tiny(Activation::relu, K, true, n, 1, 1, dim, 5);
  LossRows rows = t.rows();
  rows.loss = Loss::mse;
  const size_t P = t.net.num_params;
  const int64_t D = dim + 1;
  std::vector<double> g(static_cast<size_t>(D * D), 0.0);  // X̃ᵀX̃/n
  for (int64_t i = 0; i < n; ++i)
    for (int64_t a = 0; a < D; ++a)
      for (int64_t b = 0; b < D; ++b) {
        const double xa = a < dim ? t.x[static_cast<size_t>(i * dim + a)] : 1.0;
        const double xb = b < dim ? t.x[static_cast<size_t>(i * dim + b)] : 1.0;
        g[static_cast<size_t>(a * D + b)] += xa * xb / n;
      }
  const auto h = dense_hessian(t, rows);
  const LayerSlice& l = t.net.layers[0];
  // parameter index of (output o, input a), a = dim meaning the bias
  const auto at = [&](int64_t o, int64_t a) {
    return a < dim ? l.w_offset + static_cast<size_t>(o * dim + a)
                   : l.b_offset + static_cast<size_t>(o);
  };
  double err = 0;
  for (int64_t o = 0; o < K; ++o)
    for (int64_t q = 0; q < K; ++q)
      for (int64_t a = 0; a < D; ++a)
        for (int64_t b = 0; b < D; ++b) {
          const double want = o == q ? 2.0 / K * g[static_cast<size_t>(a * D + b)] : 0.0;
          err = std::max(err, std::abs(h[at(o, a) * P + at(q, b)] - want));
        }
  EXPECT_LE(err, 1e-13);
  // λ_max = (2/K)·λ_max(X̃ᵀX̃/n), by Lanczos on the float products to float accuracy.
  const auto eig = eigenvalues(g, static_cast<size_t>(D));
  std::vector<float> pf(t.params.begin(), t.params.end());
  auto hw = make_hvp_workspace<float>(t.net);
  std::vector<float> vf(P);
  const SymmetricOp op = [&](std::span<const double> v, std::span<double> out) {
    std::copy(v.begin(), v.end(), vf.begin());
    hessian_vector_product<float>(t.net, pf, rows, vf, out, hw);
  };
  const LanczosResult r = lanczos_extremes(op, P, 1, 12, 1e-7, 1);
  EXPECT_NEAR(r.top[0] / (2.0 / K * eig.back()), 1.0, 1e-5);
}

// The float product (the measures') agrees with the double one on a network of real size.
TEST(HessianVectorProduct, FloatAgreesWithDouble) {
  for (Activation act : {Activation::relu, Activation::tanh}) {
    const Tiny t = tiny(act, 10, false, 300, 64, 4, 40, 9);
    LossRows rows = t.rows();
    rows.loss = Loss::ce;
    const size_t P = t.net.num_params;
    Rng r(4);
    std::vector<double> v(P), hd(P), hf(P);
    for (auto& x : v) x = r.normal();
    std::vector<float> vf(v.begin(), v.end()), pf(t.params.begin(), t.params.end());
    std::vector<double> vd(vf.begin(), vf.end()), pd(pf.begin(), pf.end());
    auto hwd = make_hvp_workspace<double>(t.net, 128);
    auto hwf = make_hvp_workspace<float>(t.net, 128);
    const double ld = hessian_vector_product<double>(t.net, pd, rows, vd, hd, hwd);
    const double lf = hessian_vector_product<float>(t.net, pf, rows, vf, hf, hwf);
    double num = 0, den = 0;
    for (size_t i = 0; i < P; ++i) {
      num += (hd[i] - hf[i]) * (hd[i] - hf[i]);
      den += hd[i] * hd[i];
    }
    EXPECT_LE(std::sqrt(num / den), 1e-4) << to_string(act);
    EXPECT_NEAR(lf / ld, 1.0, 1e-5);
  }
}

// Dinh et al.: a ReLU network with layer 1 scaled by α (weights and bias) and layer 2's weights
// by 1/α computes the same function, so its loss is unchanged, but its curvature is not: λ_max
// is not invariant to this reparametrization.
TEST(HessianVectorProduct, RescalingKeepsTheLossButMovesLambdaMax) {
  Tiny t = tiny(Activation::relu, 3, false, 20, 6, 3, 4, 31);
  LossRows rows = t.rows();
  rows.loss = Loss::ce;
  const size_t P = t.net.num_params;
  const auto top = [&](const std::vector<double>& w, double* loss) {
    auto hw = make_hvp_workspace<double>(t.net);
    const SymmetricOp op = [&](std::span<const double> v, std::span<double> out) {
      *loss = hessian_vector_product<double>(t.net, w, rows, v, out, hw);
    };
    return lanczos_extremes(op, P, 1, static_cast<int>(P), 1e-10, 1).top[0];
  };
  double loss = 0, loss_scaled = 0;
  const double lambda = top(t.params, &loss);
  std::vector<double> scaled = t.params;
  const double alpha = 5.0;
  const LayerSlice& l0 = t.net.layers[0];
  const LayerSlice& l1 = t.net.layers[1];
  for (size_t i = 0; i < l0.w_size(); ++i) scaled[l0.w_offset + i] *= alpha;
  for (int64_t i = 0; i < l0.out; ++i) scaled[l0.b_offset + static_cast<size_t>(i)] *= alpha;
  for (size_t i = 0; i < l1.w_size(); ++i) scaled[l1.w_offset + i] /= alpha;
  const double lambda_scaled = top(scaled, &loss_scaled);
  EXPECT_NEAR(loss_scaled, loss, 1e-12 * loss);
  EXPECT_GT(std::abs(lambda_scaled / lambda - 1.0), 0.1) << lambda << " vs " << lambda_scaled;
}

}  // namespace
}  // namespace initscope
