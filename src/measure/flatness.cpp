// PAC-Bayes σ, sharpness α and Keskar's ε-sharpness (flatness.hpp).
#include "measure/flatness.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/rng.hpp"

namespace initscope {

namespace {

// Sample s's stream: its own seed, so that draw s is the same at every σ (common random numbers).
uint64_t sample_seed(uint64_t seed, uint64_t s) {
  return seed ^ (0x9E3779B97F4A7C15ull * (s + 1));
}

// Bisection on x in [lo, hi] for deviation(x) − base = target (see BisectionOptions).
template <class Deviation>
BisectionResult bisect(const BisectionOptions& o, double base, Deviation deviation) {
  IS_CHECK(o.hi > o.lo && o.lo >= 0.0 && o.max_steps >= 1);
  BisectionResult r;
  r.base = base;
  r.lo = o.lo;
  r.hi = o.hi;
  for (int step = 0; step < o.max_steps; ++step) {
    const double x = 0.5 * (r.lo + r.hi);
    const double d = deviation(x) - base;
    r.value = x;
    r.deviation = d;
    r.steps = step + 1;
    if (std::abs(d - o.target) <= o.tolerance) {
      r.hit_target = true;
      break;
    }
    (d > o.target ? r.hi : r.lo) = x;
    if (r.hi - r.lo <= o.rel_width * r.hi) break;
  }
  return r;
}

double box_half_width(BoxKind box, double alpha, double w, double eps) {
  switch (box) {
    case BoxKind::plain:
      return alpha;
    case BoxKind::keskar:
      return alpha * (std::abs(w) + 1.0);
    case BoxKind::magnitude:
      return alpha * std::abs(w) + eps;
  }
  return alpha;  // not reached
}

// The projected sign-gradient ascent of flatness.hpp in the box b (num_params) around w: calls
// seen(w + Δ, loss) after every step (the loss at the step's start point for the first), and
// returns nothing; the caller keeps its worst case.
template <class Seen>
void ascend(std::span<const float> w, std::span<const double> b, const LossAndGradient& loss_grad,
            const SharpnessOptions& o, Seen seen) {
  const size_t P = w.size();
  std::vector<double> delta(P);
  std::vector<float> wp(P), g(P);
  for (int r = 0; r < o.restarts; ++r) {
    Rng rng(sample_seed(o.seed, static_cast<uint64_t>(r)));
    for (size_t i = 0; i < P; ++i) delta[i] = r == 0 ? 0.0 : b[i] * (2.0 * rng.uniform() - 1.0);
    for (int t = 0; t < o.ascent_steps; ++t) {
      for (size_t i = 0; i < P; ++i) wp[i] = static_cast<float>(w[i] + delta[i]);
      loss_grad(wp, g);
      const double step = t == 0 ? 1.0 : 0.25;
      for (size_t i = 0; i < P; ++i) {
        const double s = g[i] > 0.0f ? 1.0 : g[i] < 0.0f ? -1.0 : 0.0;
        delta[i] = std::clamp(delta[i] + step * b[i] * s, -b[i], b[i]);
      }
      for (size_t i = 0; i < P; ++i) wp[i] = static_cast<float>(w[i] + delta[i]);
      seen(std::span<const float>(wp));
    }
  }
}

}  // namespace

BisectionResult pacbayes_sigma(std::span<const float> w, const WeightsStatistic& error,
                               const PacBayesOptions& o) {
  IS_CHECK(o.samples >= 1);
  const size_t P = w.size();
  std::vector<float> wp(P);
  const double base = error(w);
  return bisect(o.search, base, [&](double sigma) {
    double sum = 0.0;
    for (int s = 0; s < o.samples; ++s) {
      Rng rng(sample_seed(o.seed, static_cast<uint64_t>(s)));
      for (size_t i = 0; i < P; ++i) {
        const double wi = w[i];
        double sd = sigma;
        switch (o.noise) {
          case NoiseKind::isotropic:
            break;
          case NoiseKind::magnitude:
            sd = std::sqrt(sigma * sigma * wi * wi + o.eps * o.eps);
            break;
        }
        wp[i] = static_cast<float>(wi + sd * rng.normal());
      }
      sum += error(wp);
    }
    return sum / o.samples;
  });
}

BisectionResult sharpness_alpha(std::span<const float> w, const WeightsStatistic& error,
                                const LossAndGradient& loss_grad, const SharpnessOptions& o) {
  IS_CHECK(o.restarts >= 1 && o.ascent_steps >= 1);
  std::vector<double> b(w.size());
  const double base = error(w);
  return bisect(o.search, base, [&](double alpha) {
    for (size_t i = 0; i < w.size(); ++i) b[i] = box_half_width(o.box, alpha, w[i], o.eps);
    double worst = base;
    ascend(w, b, loss_grad, o,
           [&](std::span<const float> wp) { worst = std::max(worst, error(wp)); });
    return worst;
  });
}

KeskarResult keskar_sharpness(std::span<const float> w, const LossAndGradient& loss_grad,
                              double eps, const SharpnessOptions& o) {
  std::vector<double> b(w.size());
  for (size_t i = 0; i < w.size(); ++i) b[i] = box_half_width(BoxKind::keskar, eps, w[i], 0.0);
  std::vector<float> g(w.size());
  KeskarResult k;
  k.loss = loss_grad(w, g);
  k.max_loss = k.loss;
  ascend(w, b, loss_grad, o,
         [&](std::span<const float> wp) { k.max_loss = std::max(k.max_loss, loss_grad(wp, g)); });
  k.sharpness = 100.0 * (k.max_loss - k.loss) / (1.0 + k.loss);
  return k;
}

const std::vector<std::string>& flatness_measure_names() {
  static const std::vector<std::string> names{"lambda_max", "trace", "sharpness", "pacbayes"};
  return names;
}

std::vector<FlatnessMeasure> parse_flatness(const std::string& list) {
  std::vector<FlatnessMeasure> out;
  const auto& names = flatness_measure_names();
  for (size_t start = 0; !list.empty() && start <= list.size();) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, end - start);
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end())
      throw Error(
          fmt::format("--flatness {}: unknown measure '{}' (expected a comma-separated list of "
                      "lambda_max, trace, sharpness, pacbayes)",
                      list, name));
    const auto m = static_cast<FlatnessMeasure>(it - names.begin());
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
    start = end + 1;
  }
  return out;
}

bool needs_training_error(FlatnessMeasure m) {
  switch (m) {
    case FlatnessMeasure::lambda_max:
    case FlatnessMeasure::trace:
      return false;
    case FlatnessMeasure::sharpness:
    case FlatnessMeasure::pacbayes:
      return true;
  }
  return true;  // not reached
}

namespace {

// Jiang et al.'s PAC-Bayes forms from σ (measures-reference.md §3.1), over the weights only
// (no biases), before their final sqrt(·/m): with ref = w − w0 (init) or w (origin),
//   isotropic: ‖ref‖²/(4σ²) + log(m/σ) + 10;
//   magnitude: ¼ Σ_i log[(ε² + (σ² + 1)‖ref‖²/ω) / (ε² + σ²(w_i − w0_i)²)] + log(m/σ) + 10,
// whose denominator is the distance from the initialization in both variants, as in the code.
void pacbayes_forms(const MeasureInput& in, double sigma, double mag_sigma, double eps,
                    Metrics& out) {
  const double m = static_cast<double>(in.gradient_rows.n);
  double d2 = 0.0, w2 = 0.0, omega = 0.0;
  for (const LayerSlice& l : in.net->layers)
    for (size_t i = l.w_offset; i < l.w_offset + l.w_size(); ++i) {
      const double d = static_cast<double>(in.params[i]) - in.init[i];
      d2 += d * d;
      w2 += static_cast<double>(in.params[i]) * in.params[i];
      omega += 1.0;
    }
  if (std::isfinite(sigma)) {
    out["pacbayes_init"] = d2 / (4 * sigma * sigma) + std::log(m / sigma) + 10;
    out["pacbayes_origin"] = w2 / (4 * sigma * sigma) + std::log(m / sigma) + 10;
  }
  if (std::isfinite(mag_sigma)) {
    const double s2 = mag_sigma * mag_sigma, e2 = eps * eps;
    double sum_init = 0.0, sum_origin = 0.0;
    for (const LayerSlice& l : in.net->layers)
      for (size_t i = l.w_offset; i < l.w_offset + l.w_size(); ++i) {
        const double d = static_cast<double>(in.params[i]) - in.init[i];
        const double den = e2 + s2 * d * d;
        sum_init += std::log((e2 + (s2 + 1) * d2 / omega) / den);
        sum_origin += std::log((e2 + (s2 + 1) * w2 / omega) / den);
      }
    out["pacbayes_mag_init"] = 0.25 * sum_init + std::log(m / mag_sigma) + 10;
    out["pacbayes_mag_origin"] = 0.25 * sum_origin + std::log(m / mag_sigma) + 10;
  }
}

void store_search(const BisectionResult& r, const std::string& name, Metrics& out) {
  out[name] = r.value;
  out[name + "_lo"] = r.lo;
  out[name + "_hi"] = r.hi;
  out[name + "_deviation"] = r.deviation;
}

}  // namespace

void flatness_measure(const MeasureInput& in, Metrics& out) {
  const std::vector<FlatnessMeasure> which = parse_flatness(in.flatness);
  if (which.empty()) return;
  // Diverged weights have no curvature or flatness worth a number: none is stored.
  for (float p : in.params)
    if (!std::isfinite(p)) return;
  const auto t_start = std::chrono::steady_clock::now();
  const Mlp& net = *in.net;
  const TrainingRows& t = in.gradient_rows;
  const uint64_t seed = derive_seed(in.seed, "flatness");
  // The rows: a seeded subset of flatness_rows (all if 0 or ≥ n), in ascending order.
  std::vector<int64_t> idx(static_cast<size_t>(t.n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  const int64_t k = in.flatness_rows > 0 ? std::min(in.flatness_rows, t.n) : t.n;
  if (k < t.n) {
    Rng rng(seed);
    for (int64_t i = 0; i < k; ++i)
      std::swap(idx[static_cast<size_t>(i)],
                idx[static_cast<size_t>(i) + rng.below(static_cast<uint64_t>(t.n - i))]);
    idx.resize(static_cast<size_t>(k));
    std::sort(idx.begin(), idx.end());
  }
  const LossRows rows{t.x, t.y, t.targets, idx, t.loss};
  out["flatness_rows"] = static_cast<double>(k);
  const size_t P = net.num_params;
  HvpWorkspace<float> hw;
  std::vector<float> vf;
  int64_t products = 0;
  double hvp_seconds = 0.0;
  const SymmetricOp hessian = [&](std::span<const double> v, std::span<double> o) {
    if (hw.sum.empty()) hw = make_hvp_workspace<float>(net);
    vf.resize(P);
    std::copy(v.begin(), v.end(), vf.begin());
    const auto t0 = std::chrono::steady_clock::now();
    hessian_vector_product<float>(net, in.params, rows, vf, o, hw);
    hvp_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++products;
  };
  std::optional<RowsEvaluator> ev;
  double sigma = NAN, mag_sigma = NAN;
  PacBayesOptions pb;
  for (FlatnessMeasure m : which) {
    if (needs_training_error(m) && !ev) {
      if (t.targets)
        throw Error(fmt::format(
            "--flatness {}: needs a classification task (it holds the training error within "
            "0.1 of its value); expected lambda_max or trace for a regression task",
            flatness_measure_names()[static_cast<size_t>(m)]));
      ev.emplace(net, rows);
      out["flatness_train_error"] = ev->error(in.params);
    }
    switch (m) {
      case FlatnessMeasure::lambda_max: {
        const LanczosResult r = lanczos_extremes(hessian, P, 1, k_flatness_lanczos_steps, 1e-3,
                                                 derive_seed(seed, "lanczos"),
                                                 /*want_min=*/false);
        out["hessian_lambda_max"] = r.top[0];
        out["hessian_lambda_max_residual"] = r.top_residual[0];
        out["hessian_lambda_min"] = r.lambda_min;
        out["hessian_lambda_min_residual"] = r.lambda_min_residual;
        out["hessian_lanczos_steps"] = r.steps;
        break;
      }
      case FlatnessMeasure::trace: {
        const TraceResult r =
            hutchinson_trace(hessian, P, 10, 100, 0.01, derive_seed(seed, "hutchinson"));
        out["hessian_trace"] = r.trace;
        out["hessian_trace_se"] = r.se;
        out["hessian_probes"] = r.probes;
        break;
      }
      case FlatnessMeasure::sharpness: {
        SharpnessOptions o;
        o.seed = derive_seed(seed, "sharpness");
        store_search(sharpness_alpha(in.params, ev->error_fn(), ev->loss_fn(), o),
                     "sharpness_alpha", out);
        o.box = BoxKind::magnitude;
        store_search(sharpness_alpha(in.params, ev->error_fn(), ev->loss_fn(), o),
                     "sharpness_mag_alpha", out);
        out["sharpness_eps"] = keskar_sharpness(in.params, ev->loss_fn(), 1e-3, o).sharpness;
        break;
      }
      case FlatnessMeasure::pacbayes: {
        pb.seed = derive_seed(seed, "pacbayes");
        const BisectionResult iso = pacbayes_sigma(in.params, ev->error_fn(), pb);
        store_search(iso, "pacbayes_sigma", out);
        PacBayesOptions mag = pb;
        mag.noise = NoiseKind::magnitude;
        const BisectionResult r = pacbayes_sigma(in.params, ev->error_fn(), mag);
        store_search(r, "pacbayes_mag_sigma", out);
        sigma = iso.value;
        mag_sigma = r.value;
        pacbayes_forms(in, sigma, mag_sigma, mag.eps, out);
        break;
      }
    }
  }
  if (products > 0) {
    out["hessian_products"] = static_cast<double>(products);
    out["hessian_product_seconds"] = hvp_seconds / static_cast<double>(products);
  }
  out["flatness_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
}

RowsEvaluator::RowsEvaluator(const Mlp& net, const LossRows& rows)
    : net_(net),
      rows_(rows),
      ws_(make_workspace(net, k_gradient_chunk, /*backward=*/false)),
      gw_(make_gradient_workspace(net)),
      row_ptrs_(static_cast<size_t>(k_gradient_chunk)) {}

double RowsEvaluator::error(std::span<const float> w) {
  IS_CHECK(!rows_.targets, "the training error is defined for classification only");
  const int64_t n = static_cast<int64_t>(rows_.indices.size()), dim = net_.spec.input_dim,
                K = net_.spec.outputs;
  int64_t wrong = 0;
  for (int64_t i0 = 0; i0 < n; i0 += k_gradient_chunk) {
    const int64_t B = std::min(k_gradient_chunk, n - i0);
    for (int64_t i = 0; i < B; ++i)
      row_ptrs_[static_cast<size_t>(i)] =
          rows_.x + rows_.indices[static_cast<size_t>(i0 + i)] * dim;
    const float* f = mlp_forward(net_, w.data(), row_ptrs_.data(), B, ws_);
    for (int64_t i = 0; i < B; ++i)
      wrong += example_error(f + i * K, rows_.y[rows_.indices[static_cast<size_t>(i0 + i)]], K);
  }
  return static_cast<double>(wrong) / static_cast<double>(n);
}

double RowsEvaluator::loss_gradient(std::span<const float> w, std::span<float> grad) {
  return initscope::loss_gradient(net_, w, rows_.loss, rows_.x, rows_.y, rows_.targets,
                                  rows_.indices, grad, gw_);
}

}  // namespace initscope
