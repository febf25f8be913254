// The registered measures. Each entry says when it runs and what it needs; its function is in
// its own file (weights.cpp) or, when it is a few lines over an evaluation, here.
#include "measure/registry.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "measure/flatness.hpp"
#include "measure/mechanism.hpp"
#include "measure/norms.hpp"
#include "measure/output_bounds.hpp"
#include "measure/rademacher.hpp"
#include "measure/spectrum.hpp"
#include "measure/weights.hpp"

namespace initscope {

namespace {

// Distance from initialization and norms (weights.hpp): the initialization's norms once, the
// cheap ones (no spectral norms) during training, everything at the end.
void weights_measure(const MeasureInput& in, Metrics& out) {
  Metrics m;
  switch (in.when) {
    case k_at_init:
      m = measure_init(*in.net, in.init);
      break;
    case k_during:
      for (auto& [name, value] : measure_weights(*in.net, in.params, in.init, *in.init_metrics,
                                                 /*spectral=*/false))
        if (name.rfind("dist_", 0) == 0 || name.rfind("fro_w", 0) == 0) m[name] = value;
      break;
    case k_at_end:
      m = measure_weights(*in.net, in.params, in.init, *in.init_metrics, /*spectral=*/true);
      break;
  }
  // After pretraining: the distance from the pretrained start as well (dist_init stays the
  // distance from the random initialization), and at the end how far pretraining went.
  if (!in.pretrained.empty() && in.when != k_at_init) {
    double d2 = 0.0, p2 = 0.0;
    for (size_t i = 0; i < in.params.size(); ++i) {
      const double d = static_cast<double>(in.params[i]) - in.pretrained[i];
      const double q = static_cast<double>(in.pretrained[i]) - in.init[i];
      d2 += d * d;
      p2 += q * q;
    }
    m["dist_pretrain"] = std::sqrt(d2);
    if (in.when == k_at_end) m["pretrain_dist_init"] = std::sqrt(p2);
  }
  out.insert(m.begin(), m.end());
}

// Test loss and error during training; at the end also the training set's, the generalization
// error and the training margins' minimum, 10th percentile and median.
// A regression task has no error or margins: its fit is the mean squared error, and the PSNR
// where the signal's range is known (images).
void fit_metrics(const Evaluation& e, const char* split, Metrics& out) {
  out[fmt::format("{}_loss", split)] = e.loss;
  out[fmt::format("{}_mse", split)] = e.mse;
  if (std::isfinite(e.psnr)) out[fmt::format("{}_psnr", split)] = e.psnr;
}

void errors_measure(const MeasureInput& in, Metrics& out) {
  if (in.when == k_during) {
    const Evaluation te = in.evaluate(Split::test, false);
    if (te.regression) {
      fit_metrics(te, "test", out);
      return;
    }
    out["test_loss"] = te.loss;
    out["test_error"] = te.error;
    return;
  }
  Evaluation tr = in.evaluate(Split::train, true);
  if (tr.regression) {
    const Evaluation te = in.evaluate(Split::test, false);
    fit_metrics(tr, "train", out);
    fit_metrics(te, "test", out);
    out["gen_mse"] = te.mse - tr.mse;
    return;
  }
  const Evaluation te = in.evaluate(Split::test, false);
  std::sort(tr.margins.begin(), tr.margins.end());
  out["train_loss"] = tr.loss;
  out["train_error"] = tr.error;
  out["test_loss"] = te.loss;
  out["test_error"] = te.error;
  out["gen_error"] = te.error - tr.error;
  out["margin_min"] = tr.margins.empty() ? NAN : tr.margins.front();
  out["margin_p10"] = quantile_sorted(tr.margins, 0.10);
  out["margin_median"] = quantile_sorted(tr.margins, 0.50);
}

// Theorems C.1 and C.2 (output_bounds.hpp), for networks with one output: max |f(x)| and the
// weights' gradient norm over the training and test sets.
void output_bounds_measure(const MeasureInput& in, Metrics& out) {
  if (in.net->layers.back().out != 1 || !in.train) return;
  OutputBounds acc;
  for (const Dataset* d : {in.train, in.test})
    if (d && d->n > 0) accumulate_output_bounds(*in.net, in.params, d->x, d->n, acc);
  add_output_bound_metrics(acc, out);
}

// Theorem 5.1 (rademacher.hpp), only when the run asks for it with rademacher_radius > 0: the
// ball around the initialization, over the training inputs, whatever training did.
void rademacher_measure(const MeasureInput& in, Metrics& out) {
  const double radius = in.options.value("rademacher_radius", 0.0);
  if (!(radius > 0.0) || !in.train) return;
  RademacherOptions o;
  o.radius = radius;
  o.draws = in.options.value("rademacher_draws", o.draws);
  o.seed = derive_seed(in.options.value("seed", uint64_t{1}), "rademacher");
  const RademacherEstimate e = estimate_rademacher(*in.net, in.init, in.train->x, in.train->n, o);
  add_rademacher_metrics(e, *in.net, radius, in.train->n, out);
}

}  // namespace

const std::vector<Measure>& measures() {
  static const std::vector<Measure> all{
      {"weights", k_at_init | k_during | k_at_end, k_needs_weights, weights_measure},
      {"errors", k_during | k_at_end, k_needs_weights | k_needs_data, errors_measure},
      {"fourier", k_during | k_at_end, k_needs_weights, fourier_measure},
      // Opt-in (--line-segments): classifiers' spectra along segments through input space.
      {"line_spectrum", k_during | k_at_end, k_needs_weights | k_needs_data, line_spectrum_measure},
      // Opt-in (--mechanism): RM23 E4's ‖G(ξ, θ)‖ and rate bound on signal1d.
      {"mechanism", k_during | k_at_end, k_needs_weights | k_needs_data, mechanism_measure},
      {"output_bounds", k_at_end, k_needs_weights | k_needs_data, output_bounds_measure},
      {"rademacher", k_at_end, k_needs_weights | k_needs_data, rademacher_measure},
      // Opt-in (initscope measure --measures norms): Jiang et al.'s norm and margin measures.
      {"norms", k_at_end, k_needs_weights | k_needs_data, norms_measure},
      // Opt-in (--flatness): adds nothing unless measures are asked for.
      {"flatness", k_at_end, k_needs_weights | k_needs_gradient, flatness_measure},
  };
  return all;
}

void run_measures(const MeasureInput& in, Metrics& out) {
  for (const Measure& m : measures()) {
    if (!(m.when & in.when)) continue;
    if (!in.only.empty() && std::find(in.only.begin(), in.only.end(), m.name) == in.only.end())
      continue;
    if ((m.needs & k_needs_data) && !in.evaluate)
      throw Error(
          fmt::format("measure '{}' needs data, which this caller does not provide", m.name));
    if ((m.needs & k_needs_gradient) && !in.gradient_rows.x)
      throw Error(
          fmt::format("measure '{}' needs gradients, which this caller does not provide", m.name));
    m.fn(in, out);
  }
}

double quantile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return NAN;
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace initscope
