// Fourier against flatness measures, and the rescaling check (rm23_flatness.hpp).
#include "report/studies/rm23_flatness.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/core.h>

#include "common/rng.hpp"
#include "data/dataset.hpp"
#include "report/aggregate.hpp"
#include "report/html.hpp"
#include "report/plots.hpp"
#include "report/ranking.hpp"
#include "train/trainer.hpp"

namespace initscope::report::rm23 {

namespace {

namespace h = html;

constexpr int64_t k_min_runs = 6;  // fewer runs than this: not enough to rank

const char* const k_rule =
    "Over the converged runs that have a generalization gap (gen_error; gen_mse for regression "
    "tasks, ranked apart), a Fourier metric (fourier_*, but the fits to the target "
    "fourier_fit_*/fourier_reach_*, which are the test error in disguise) and a flatness "
    "metric, each measure's "
    "Kendall τ-b against the gap with a 95% bootstrap interval, every measure signed so that a "
    "larger value predicts a larger gap (σ and α, larger when flatter, negated). PASS if the "
    "best Fourier τ exceeds the best flatness τ and their intervals do not overlap, FAIL if "
    "the best flatness τ exceeds the best Fourier τ so, INCONCLUSIVE otherwise; SKIP with "
    "fewer than 6 such runs.";

double metric(const RunRecord& r, const std::string& name) {
  const auto it = r.metrics.find(name);
  return it == r.metrics.end() ? NAN : it->second;
}

// A Fourier measure of the learned function: fourier_* but the per-frequency fit to the target
// (fourier_fit_f{k}, fourier_reach_f{k}), which compare the function with the target on the test
// grid and so are the test error in disguise: ranking the gap by them would be circular.
bool is_fourier(const std::string& name) {
  return name.rfind("fourier_", 0) == 0 && name.rfind("fourier_fit_", 0) != 0 &&
         name.rfind("fourier_reach_", 0) != 0;
}

bool is_flatness(const std::string& name) {
  for (const auto& [n, d] : flatness_directions())
    if (n == name) return true;
  return false;
}

// τ of every Fourier and flatness measure against `target` over `runs`.
std::vector<MeasureTau> rank_views(const std::vector<const RunRecord*>& runs,
                                   const std::string& target, const StudyContext& context) {
  std::map<std::string, int> names;  // measure → direction
  for (const RunRecord* r : runs)
    for (const auto& [name, value] : r->metrics) {
      if (is_fourier(name)) names.emplace(name, 1);
      for (const auto& [n, d] : flatness_directions())
        if (n == name) names.emplace(name, d);
    }
  std::vector<MeasureTau> out;
  for (const auto& [name, direction] : names) {
    std::vector<double> mu, g;
    for (const RunRecord* r : runs) {
      const double x = metric(*r, name), y = metric(*r, target);
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      mu.push_back(direction * x);
      g.push_back(y);
    }
    MeasureTau t;
    t.measure = name;
    t.fourier = !is_flatness(name);
    t.direction = direction;
    t.runs = static_cast<int64_t>(mu.size());
    if (t.runs < k_min_runs) continue;
    const TauInterval ti = kendall_tau_interval(mu, g, TauKind::b, context.resamples,
                                                derive_seed(context.seed, target + "/" + name));
    t.tau = ti.tau;
    t.lo = ti.lo;
    t.hi = ti.hi;
    out.push_back(t);
  }
  return out;
}

const MeasureTau* best(const std::vector<MeasureTau>& taus, bool fourier) {
  const MeasureTau* b = nullptr;
  for (const auto& t : taus)
    if (t.fourier == fourier && std::isfinite(t.tau) && (!b || t.tau > b->tau)) b = &t;
  return b;
}

std::string tau_text(const MeasureTau& t) {
  return fmt::format("{} τ = {:.3f} [{:.3f}, {:.3f}] over {} runs", t.measure, t.tau, t.lo, t.hi,
                     t.runs);
}

}  // namespace

const std::vector<std::pair<std::string, int>>& flatness_directions() {
  static const std::vector<std::pair<std::string, int>> d{
      {"hessian_lambda_max", 1}, {"hessian_trace", 1},        {"sharpness_eps", 1},
      {"sharpness_alpha", -1},   {"sharpness_mag_alpha", -1}, {"pacbayes_sigma", -1},
      {"pacbayes_mag_sigma", -1}};
  return d;
}

RescalingCheck rescaling_check() {
  // A ReLU network fitted to signal1d, then layer 1 × α and layer 2 × 1/α.
  TrainConfig c;
  c.dataset = "signal1d";
  c.signal_freqs = {1.0, 2.0};
  c.m = 32;
  c.width = 64;
  c.depth = 3;
  c.activation = Activation::relu;
  c.optimizer = Optimizer::gd;
  c.lr = 0.01;
  c.momentum = 0.9;
  c.stop = {"mse<=1e-3"};
  c.max_epochs = 3000;
  c.loss = Loss::mse;
  c.flatness = "lambda_max,trace";
  SignalSpec s;
  s.freqs = c.signal_freqs;
  s.n = c.m;
  s.seed = c.seed;
  const PreparedData data = prepare_data(c, make_signal1d(s));
  Trainer fit(c, data);
  const RunOutcome trained = fit.run();
  RescalingCheck check;
  check.stopped_by = trained.stopped_by;
  check.steps = trained.metrics.count("steps") ? trained.metrics.at("steps") : NAN;
  const Mlp& net = fit.net();
  const std::vector<float> w(fit.params().begin(), fit.params().end());
  for (const double alpha : {1.0, 4.0, 16.0, 64.0}) {
    std::vector<float> v = w;
    const LayerSlice &l1 = net.layers[0], &l2 = net.layers[1];
    const auto a = static_cast<float>(alpha);
    for (size_t i = 0; i < l1.w_size(); ++i) v[l1.w_offset + i] *= a;
    for (int64_t i = 0; i < l1.out; ++i) v[l1.b_offset + static_cast<size_t>(i)] *= a;
    for (size_t i = 0; i < l2.w_size(); ++i) v[l2.w_offset + i] /= a;
    TrainConfig cm = c;
    cm.init_from = "(rescaled)";  // start from v, as initscope measure does
    Trainer t(cm, data, Engine::fused, v);
    check.rows.push_back({alpha, t.measure_only({}, {"errors", "fourier", "flatness"}).metrics});
  }
  return check;
}

Verdict fourier_vs_flatness_verdict(const std::vector<MeasureTau>& taus) {
  const MeasureTau* f = best(taus, true);
  const MeasureTau* s = best(taus, false);
  if (!f || !s) return Verdict::skip;
  if (f->tau > s->tau && f->lo > s->hi) return Verdict::pass;
  if (s->tau > f->tau && s->lo > f->hi) return Verdict::fail;
  return Verdict::inconclusive;
}

Claim flatness_section(const std::vector<const RunRecord*>& runs, const StudyContext& context,
                       Page& page) {
  Claim c;
  c.id = "rm23-fourier-vs-flatness";
  c.rule = k_rule;
  page.heading(2, "RM23: Fourier measures against flatness measures (our test)");
  page.add("<p>" +
           h::escape(
               "RM23 argues that the Fourier view explains generalization more reliably than the "
               "flat-minima view. Here both kinds of measure rank the same runs by their "
               "generalization gap (Kendall's τ-b, report/ranking.hpp; 95% percentile bootstrap "
               "over runs). Flatness measures are taken only where a run asked for them "
               "(--flatness); Fourier measures exist for coordinate tasks (and for MNIST once line "
               "spectra are measured). Rule: " +
               std::string(k_rule)) +
           "</p>");
  // The candidate runs, by the gap they have.
  std::map<std::string, std::vector<const RunRecord*>> by_target;
  for (const RunRecord* r : runs) {
    if (classify(*r) != RunUse::trained) continue;
    bool fourier = false, flat = false;
    for (const auto& [name, value] : r->metrics) {
      if (!std::isfinite(value)) continue;
      fourier = fourier || is_fourier(name);
      flat = flat || is_flatness(name);
    }
    if (!fourier || !flat) continue;
    const char* target = std::isfinite(metric(*r, "gen_error")) ? "gen_error"
                         : std::isfinite(metric(*r, "gen_mse")) ? "gen_mse"
                                                                : nullptr;
    if (target) by_target[target].push_back(r);
  }
  std::vector<Verdict> parts;
  std::vector<std::string> figures;
  PlotSpec spec;
  spec.name = "rm23_fourier_vs_flatness";
  spec.title = "Kendall tau-b of each measure against the generalization gap";
  spec.xlabel = "measure (see the table)";
  spec.ylabel = "Kendall {/Symbol t}_b against the gap";
  spec.x_name = "measure number";
  spec.y_name = "tau-b (bar: larger side of the 95% interval)";
  int number = 0;
  for (const auto& [target, group] : by_target) {
    if (static_cast<int64_t>(group.size()) < k_min_runs) {
      figures.push_back(
          fmt::format("{}: not enough runs ({} < {})", target, group.size(), k_min_runs));
      continue;
    }
    const std::vector<MeasureTau> taus = rank_views(group, target, context);
    std::vector<std::vector<std::string>> rows;
    PlotLine fl, sl;
    fl.title = fmt::format("Fourier measures ({})", target);
    sl.title = fmt::format("flatness measures ({})", target);
    for (const MeasureTau& t : taus) {
      ++number;
      rows.push_back({std::to_string(number), t.measure, t.fourier ? "Fourier" : "flatness",
                      t.direction > 0 ? "+" : "−", target, std::to_string(t.runs),
                      fmt::format("{:.3f}", t.tau), fmt::format("[{:.3f}, {:.3f}]", t.lo, t.hi)});
      if (!std::isfinite(t.tau)) continue;
      SeriesPoint p;
      p.x = number;
      p.y.n = 2;  // drawn with its bar
      p.y.mean = t.tau;
      p.y.sd = std::max(t.tau - t.lo, t.hi - t.tau);
      p.values = {t.tau};
      (t.fourier ? fl : sl).points.push_back(p);
    }
    page.table({"#", "measure", "view", "sign", "gap", "runs", "τ-b", "95% interval"}, rows);
    spec.lines.push_back(fl);
    spec.lines.push_back(sl);
    const Verdict v = fourier_vs_flatness_verdict(taus);
    parts.push_back(v);
    const MeasureTau* f = best(taus, true);
    const MeasureTau* s = best(taus, false);
    figures.push_back(fmt::format("{} over {} runs: best Fourier {}; best flatness {}", target,
                                  group.size(), f ? tau_text(*f) : "none",
                                  s ? tau_text(*s) : "none"));
  }
  page.figure(spec,
              "Kendall's τ-b of each measure (numbered as in the table) against the "
              "generalization gap, each signed so that a larger value predicts a larger gap. "
              "Bars reach the farther end of the 95% bootstrap interval on both sides (the "
              "table gives both ends).",
              "no population of runs with Fourier and flatness measures to rank");
  const RescalingCheck check = rescaling_check();
  const std::vector<std::string> shown = {"train_mse",           "test_mse",
                                          "fourier_hf_fraction", "fourier_centroid",
                                          "hessian_lambda_max",  "hessian_trace"};
  std::vector<std::vector<std::string>> rescaled;
  for (const Rescaled& r : check.rows) {
    std::vector<std::string> row{fmt::format("{:g}", r.alpha)};
    for (const auto& name : shown) {
      const auto it = r.metrics.find(name);
      row.push_back(it == r.metrics.end() ? "-" : fmt::format("{:.6g}", it->second));
    }
    rescaled.push_back(row);
  }
  page.heading(3, "Dinh et al.'s rescaling check");
  page.add("<p>" +
           h::escape(fmt::format(
               "A 1-64-64-1 ReLU network fitted to sin(2πx + φ₁) + sin(4πx + φ₂) from 32 points "
               "by gradient descent (stopped by {} after {:.0f} steps), then its first layer "
               "(weights and biases) multiplied by α and its second layer's weights by 1/α. ReLU "
               "is positively homogeneous, so the function is unchanged; with α a power of two "
               "every float product scales exactly, so it is unchanged to the last bit, and so "
               "are its errors and its Fourier measures. The Hessian of the same loss at the "
               "rescaled weights is not: flatness measures of the loss surface depend on the "
               "parameterization, not only on the function.",
               check.stopped_by, check.steps)) +
           "</p>");
  page.table({"α", "train MSE", "test MSE", "Fourier HF fraction", "Fourier centroid",
              "Hessian λ_max", "Hessian trace"},
             rescaled);
  if (parts.empty()) {
    c.verdict = Verdict::skip;
    c.figure = figures.empty()
                   ? "not enough runs: no converged run has a Fourier metric, a flatness "
                     "metric (--flatness) and a generalization gap"
                   : first_items(figures, 4);
    return c;
  }
  c.verdict = combine_verdicts(parts);
  c.figure = first_items(figures, 4);
  return c;
}

}  // namespace initscope::report::rm23
