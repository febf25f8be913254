// The NK17 study's sections: what it shows, in what order, and what the paper expects of each
// figure (see nk17.hpp). Experiments are matched to the paper's figures by their settings
// (paper_figure) and drawn with the paper's numbering and sub-figures; figures the paper does
// not have are numbered S1, S2, … Numbers come from aggregate and nk17_claims, the page draws
// the figures.
#include "report/studies/nk17.hpp"
#include "report/studies/rm23.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/core.h>

#include "common/rng.hpp"
#include "report/aggregate.hpp"
#include "report/html.hpp"
#include "report/plots.hpp"
#include "report/studies/nk17_claims.hpp"

namespace initscope::report::nk17 {

namespace {

namespace h = html;

constexpr const char* k_error_bars =
    " Points are means over seeds; error bars ±1 sd where a cell has more than one seed.";

// ---- which paper figure an experiment is ---------------------------------------------------

// Figure 1: cross-entropy on MNIST; Figures 2–4 (Appendix D.1): squared loss against one-hot
// labels, A on MNIST with momentum, B on CIFAR-10, C on MNIST at lr ≥ 0.5 without momentum;
// Figure 5 (D.2): random ±1 labels; Figure 6 (D.3): two classes with squared loss.
enum class PaperFigure { fig1, fig2, fig3, fig4, fig5, fig6, none };

PaperFigure paper_figure(const Experiment& e) {
  const nlohmann::json& k = e.key;
  const std::string loss = k.value("loss", "ce");
  const std::string dataset = k.value("dataset", "mnist");
  const bool binary = k.value("classes", nlohmann::json::array()).size() == 2;
  if (k.value("labels", "given") == "random-pm1")
    return loss == "mse" ? PaperFigure::fig5 : PaperFigure::none;
  if (k.value("activation", "relu") != "relu" || k.value("depth", 5) != 5) return PaperFigure::none;
  if (loss == "ce") return dataset == "mnist" && !binary ? PaperFigure::fig1 : PaperFigure::none;
  if (loss != "mse") return PaperFigure::none;
  if (binary) return dataset == "mnist" ? PaperFigure::fig6 : PaperFigure::none;
  if (dataset == "cifar10") return PaperFigure::fig3;
  if (dataset != "mnist") return PaperFigure::none;
  const double momentum = k.value("momentum", 0.9), lr = k.value("lr", 0.01);
  if (momentum == 0.0 && lr >= 0.5) return PaperFigure::fig4;
  return momentum > 0.0 ? PaperFigure::fig2 : PaperFigure::none;
}

// ---- analysis: everything the claims and the sections read, computed once ------------------

struct Analysis {
  std::vector<Experiment> experiments;   // trained, converged runs by experiment_key
  std::vector<PaperFigure> figure_of;    // per experiment
  std::vector<ClaimContext> context_of;  // per experiment: its bootstrap seed
  std::vector<const RunRecord*> trained;
  std::vector<TheoryGroup> groups;  // the initializations, by init_key
  std::vector<TheoryCheck> checks;
  std::vector<Experiment> rademacher;  // init-only runs with a Theorem 5.1 estimate
  ClaimContext base;                   // the study's resamples and seed
};

Analysis analyse(const std::vector<const RunRecord*>& runs, const StudyContext& context) {
  Analysis a;
  a.base = ClaimContext{context.resamples, context.seed};
  std::vector<const RunRecord*> init_only, rademacher;
  for (const RunRecord* r : runs) {
    const RunUse use = classify(*r, context.include_capped);
    if (use == RunUse::trained) a.trained.push_back(r);
    if (use == RunUse::init_only) {
      init_only.push_back(r);
      if (r->metrics.count("rademacher")) rademacher.push_back(r);
    }
  }
  a.experiments = group_runs(a.trained, experiment_key);
  // Excluded training runs, by experiment: counted beside the claims, never in a statistic.
  std::vector<const RunRecord*> excluded;
  for (const RunRecord* r : context.excluded)
    if (!is_init_only(*r)) excluded.push_back(r);
  attach_excluded(a.experiments, excluded, experiment_key);
  for (const auto& e : a.experiments) {
    a.figure_of.push_back(paper_figure(e));
    a.context_of.push_back(
        ClaimContext{context.resamples, derive_seed(context.seed, e.key.dump())});
  }
  a.groups = theory_groups(init_only, a.trained);
  a.checks = theory_checks(a.groups, a.trained,
                           ClaimContext{context.resamples, derive_seed(context.seed, "theory")});
  a.rademacher = group_runs(rademacher, experiment_key);
  return a;
}

// The experiments of one paper figure, with their claim contexts.
std::vector<std::pair<const Experiment*, ClaimContext>> of_figure(const Analysis& a,
                                                                  PaperFigure f) {
  std::vector<std::pair<const Experiment*, ClaimContext>> out;
  for (size_t i = 0; i < a.experiments.size(); ++i)
    if (a.figure_of[i] == f) out.emplace_back(&a.experiments[i], a.context_of[i]);
  return out;
}

// One claim over the experiments of a figure: the check on each, merged (combine()); a SKIP
// line naming the figure's experiment files when none was run.
template <class Check>
Claim figure_claim(const Analysis& a, PaperFigure f, const std::string& id, const std::string& rule,
                   const char* files, Check check) {
  std::vector<std::pair<std::string, Claim>> per;
  for (const auto& [e, c] : of_figure(a, f)) per.emplace_back(e->label, check(*e, c));
  if (per.empty())
    return skip_claim(id, rule, fmt::format("no converged runs of this figure ({})", files));
  return combine(id, rule, per);
}

// The runs of every experiment that measured `metric` (single-output networks: Theorems C.1
// and C.2), and the claim over them.
Claim bound_claim(const Analysis& a, const std::string& id, const std::string& what,
                  const std::string& metric) {
  const Region region{.hi = k_flat_exponent};
  std::vector<std::pair<std::string, Claim>> per;
  for (size_t i = 0; i < a.experiments.size(); ++i) {
    const auto& e = a.experiments[i];
    if (std::none_of(e.runs.begin(), e.runs.end(),
                     [&](const RunRecord* r) { return r->metrics.count(metric) > 0; }))
      continue;
    per.emplace_back(
        e.label, check_metric_exponent_in_width(id, what, e.runs, metric, region, a.context_of[i]));
  }
  const std::string rule = rule_metric_exponent_in_width(what, region) +
                           " Trained networks with one output (Figures 5 and 6).";
  if (per.empty())
    return skip_claim(id, rule,
                      "no trained single-output runs with " + metric +
                          " (nk17-fig5-quick.toml, nk17-fig6-quick.toml)");
  return combine(id, rule, per);
}

std::vector<Claim> claims_of(const Analysis& a) {
  using F = PaperFigure;
  std::vector<Claim> out;
  // Figure 1 (Section 4).
  const char* f1 = "nk17-fig1-quick.toml, nk17-fig1-quick-more-m.toml";
  out.push_back(figure_claim(a, F::fig1, "fig1-r-flat-in-H", rule_r_flat_in_width(), f1,
                             [](const Experiment& e, const ClaimContext& c) {
                               return check_r_flat_in_width("fig1-r-flat-in-H", e, c);
                             }));
  out.push_back(figure_claim(a, F::fig1, "fig1-r-growth-exponent", rule_r_growth_exponent(), f1,
                             [](const Experiment& e, const ClaimContext& c) {
                               return check_r_growth_exponent("fig1-r-growth-exponent", e, c);
                             }));
  out.push_back(figure_claim(a, F::fig1, "fig1-r-increases-with-noise", rule_r_rises_with_noise(),
                             f1, [](const Experiment& e, const ClaimContext& c) {
                               return check_r_rises_with_noise("fig1-r-increases-with-noise", e, c);
                             }));
  out.push_back(figure_claim(a, F::fig1, "fig1-gen-error-flat-in-H", rule_gen_error_flat_in_width(),
                             f1, [](const Experiment& e, const ClaimContext& c) {
                               return check_gen_error_flat_in_width("fig1-gen-error-flat-in-H", e,
                                                                    c);
                             }));
  // Figures 2–4 (Appendix D.1): (a) gen error vs H, (c) r vs H, (d) r vs m.
  const std::pair<F, const char*> real[] = {{F::fig2, "nk17-expA-quick.toml"},
                                            {F::fig3, "nk17-expB.toml, CIFAR-10"},
                                            {F::fig4, "nk17-expC-quick.toml"}};
  for (const auto& [f, files] : real) {
    const int n = f == F::fig2 ? 2 : f == F::fig3 ? 3 : 4;
    const std::string a_id = fmt::format("fig{}a-gen-error-flat-in-H", n);
    const std::string c_id = fmt::format("fig{}c-r-flat-in-H", n);
    const std::string d_id = fmt::format("fig{}d-r-growth-exponent", n);
    out.push_back(figure_claim(a, f, a_id, rule_gen_error_flat_in_width(), files,
                               [&](const Experiment& e, const ClaimContext& c) {
                                 return check_gen_error_flat_in_width(a_id, e, c);
                               }));
    out.push_back(figure_claim(a, f, c_id, rule_r_flat_in_width(), files,
                               [&](const Experiment& e, const ClaimContext& c) {
                                 return check_r_flat_in_width(c_id, e, c);
                               }));
    out.push_back(figure_claim(a, f, d_id, rule_r_growth_exponent(), files,
                               [&](const Experiment& e, const ClaimContext& c) {
                                 return check_r_growth_exponent(d_id, e, c);
                               }));
  }
  // Figure 5 (D.2): random labels. (a) r vs H, (b) r vs m: faster for small H, and faster than
  // on clean labels (Figure 2).
  const char* f5 = "nk17-fig5-quick.toml";
  out.push_back(figure_claim(a, F::fig5, "fig5a-r-flat-in-H", rule_r_flat_in_width(), f5,
                             [](const Experiment& e, const ClaimContext& c) {
                               return check_r_flat_in_width("fig5a-r-flat-in-H", e, c);
                             }));
  out.push_back(figure_claim(
      a, F::fig5, "fig5b-r-growth-faster-for-small-H", rule_growth_faster_for_small_width(), f5,
      [](const Experiment& e, const ClaimContext& c) {
        return check_growth_faster_for_small_width("fig5b-r-growth-faster-for-small-H", e, c);
      }));
  {
    const std::string id = "fig5b-r-growth-faster-with-noise";
    const auto clean = of_figure(a, F::fig2);
    std::vector<std::pair<std::string, Claim>> per;
    for (const auto& [e, c] : of_figure(a, F::fig5))
      for (const auto& [ce, cc] : clean)
        per.emplace_back(e->label + " vs " + ce->label,
                         check_growth_faster_with_noise(id, *e, *ce, c));
    out.push_back(per.empty() ? skip_claim(id, rule_growth_faster_with_noise(),
                                           "needs runs of Figure 5 and of Figure 2 "
                                           "(nk17-fig5-quick.toml, nk17-expA-quick.toml)")
                              : combine(id, rule_growth_faster_with_noise(), per));
  }
  // Figure 6 (D.3): r against the fraction of noisy labels, more so at larger m.
  const char* f6 = "nk17-fig6-quick.toml";
  out.push_back(figure_claim(a, F::fig6, "fig6-r-increases-with-noise", rule_r_rises_with_noise(),
                             f6, [](const Experiment& e, const ClaimContext& c) {
                               return check_r_rises_with_noise("fig6-r-increases-with-noise", e, c);
                             }));
  out.push_back(
      figure_claim(a, F::fig6, "fig6-noise-effect-grows-with-m", rule_noise_effect_grows_with_m(),
                   f6, [](const Experiment& e, const ClaimContext& c) {
                     return check_noise_effect_grows_with_m("fig6-noise-effect-grows-with-m", e, c);
                   }));
  // The initialization (Corollary A.2.1, Propositions 6.1 and 6.2).
  out.push_back(check_theory(a.checks));
  out.push_back(check_prop62(a.checks));
  // Theorem 5.1 on linear networks.
  {
    const Region flat{-k_flat_exponent, k_flat_exponent};
    const Region sqrt_m{-0.5 - k_sqrt_m_tol, -0.5 + k_sqrt_m_tol};
    const std::string what = "the Rademacher estimate R̂ (a lower bound)";
    std::vector<std::pair<std::string, Claim>> in_h, in_m;
    for (const auto& e : a.rademacher) {
      const ClaimContext c{a.base.resamples, derive_seed(a.base.seed, e.key.dump())};
      in_h.emplace_back(e.label, check_metric_exponent_in_width("thm5.1-rademacher-flat-in-H", what,
                                                                e.runs, "rademacher", flat, c));
      in_m.emplace_back(e.label, check_metric_exponent_in_m("thm5.1-rademacher-falls-as-1/sqrt(m)",
                                                            what, e.runs, "rademacher", sqrt_m, c));
    }
    const char* why = "no init-only runs with a Rademacher estimate (nk17-thm51-quick.toml)";
    const std::string rule_h = rule_metric_exponent_in_width(what, flat);
    const std::string rule_m = rule_metric_exponent_in_m(what, sqrt_m);
    out.push_back(in_h.empty() ? skip_claim("thm5.1-rademacher-flat-in-H", rule_h, why)
                               : combine("thm5.1-rademacher-flat-in-H", rule_h, in_h));
    out.push_back(in_m.empty() ? skip_claim("thm5.1-rademacher-falls-as-1/sqrt(m)", rule_m, why)
                               : combine("thm5.1-rademacher-falls-as-1/sqrt(m)", rule_m, in_m));
  }
  // Theorems C.1 and C.2 on trained single-output networks.
  out.push_back(bound_claim(a, "thmC1-max-output-flat-in-H", "max |f(x)|", "out_abs_max"));
  out.push_back(
      bound_claim(a, "thmC2-gradient-norm-flat-in-H", "max ‖∂f(x)/∂W‖", "grad_w_norm_max"));
  return out;
}

// ---- the "Runs" section: what counts, and the experiments ----------------------------------

std::string list_of(const std::set<double>& v) {
  std::string s;
  for (double x : v) {
    if (!s.empty()) s += ", ";
    s += num(x);
  }
  return s.empty() ? "–" : s;
}

const char* figure_name(PaperFigure f) {
  switch (f) {
    case PaperFigure::fig1:
      return "Figure 1";
    case PaperFigure::fig2:
      return "Figure 2 (Experiment A)";
    case PaperFigure::fig3:
      return "Figure 3 (Experiment B)";
    case PaperFigure::fig4:
      return "Figure 4 (Experiment C)";
    case PaperFigure::fig5:
      return "Figure 5";
    case PaperFigure::fig6:
      return "Figure 6";
    case PaperFigure::none:
      return "–";
  }
  return "–";
}

// "#, paper figure, experiment, runs, widths H, m, noise, seeds per cell".
std::vector<std::string> experiment_row(size_t number, const Experiment& e, PaperFigure f) {
  std::set<double> ws, ms, ns;
  std::map<Coord, int> per_cell;
  for (const RunRecord* r : e.runs) {
    const Coord c = coord_of(*r);
    ws.insert(static_cast<double>(c.width));
    ms.insert(static_cast<double>(c.m));
    ns.insert(c.noise);
    ++per_cell[c];
  }
  int lo = per_cell.empty() ? 0 : 1 << 30, hi = 0;
  for (const auto& [c, n] : per_cell) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  const auto capped =
      std::count_if(e.runs.begin(), e.runs.end(), [](const RunRecord* r) { return is_capped(*r); });
  std::string used = std::to_string(e.runs.size());
  if (capped > 0) used += fmt::format(" ({} capped, included)", capped);
  const std::string excluded =
      e.excluded.empty() ? "0"
                         : fmt::format("{} ({})", e.excluded.size(), exclusion_summary(e.excluded));
  return {std::to_string(number),
          figure_name(f),
          h::escape(e.label),
          h::escape(used),
          h::escape(excluded),
          h::escape(list_of(ws)),
          h::escape(list_of(ms)),
          h::escape(list_of(ns)),
          lo == hi ? std::to_string(lo) : fmt::format("{}–{}", lo, hi)};
}

std::string runs_note(const Analysis& a) {
  std::string s =
      "<p>Only <b>completed, converged</b> runs (a stopping criterion, not a cap, ended them) "
      "enter the plots and claims; initialization-only runs (<code>max_steps = 0</code>) enter "
      "the theory checks. Every other run is listed under <a href=\"#excluded\">Excluded "
      "runs</a>. Runs that differ only in their seed are replicates of one sweep cell; an "
      "<i>experiment</i> is everything in the configuration except width, m, noise, the seed, "
      "threads and the caps. Each experiment is matched to the paper's figure by its settings "
      "(cross-entropy: Figure 1; squared loss on MNIST with momentum: Figure 2; on CIFAR-10: "
      "Figure 3; lr ≥ 0.5 without momentum: Figure 4; random ±1 labels: Figure 5; two classes: "
      "Figure 6), and the figures carry the paper's numbers and sub-figures; figures the paper "
      "does not have are numbered S1, S2, …</p>\n";
  if (a.experiments.empty()) return s;
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < a.experiments.size(); ++i)
    rows.push_back(experiment_row(i + 1, a.experiments[i], a.figure_of[i]));
  return s + "<h3>Experiments</h3>\n" +
         h::table({"#", "paper figure", "experiment", "runs used", "runs excluded", "widths H", "m",
                   "noise", "seeds per cell"},
                  rows);
}

// ---- the figures of one experiment ---------------------------------------------------------

// r vs H, one line per m, clean labels.
void r_vs_width_figure(Page& page, const std::map<Coord, std::vector<double>>& r_cells,
                       const std::string& name, const std::string& label, const std::string& paper,
                       const std::string& labels = "clean labels") {
  const PlotSpec spec{
      .name = name,
      .title = "Distance from initialization vs width (" + labels + ")",
      .xlabel = "width H",
      .ylabel = "distance from initialization r",
      .x_name = "width H",
      .y_name = "r",
      .log_x = true,
      .y_from_zero = true,
      .lines = lines_from(make_series(r_cells, Axis::width, Axis::m, clean_labels), "m = ")};
  page.figure(spec,
              "Distance r = ‖(W,B) − (Z,C)‖<sub>F</sub> against width, one line per training-set "
              "size. <b>Paper (" +
                  paper +
                  "):</b> r stays constant or even decreases as H grows, with at most a slight, "
                  "logarithmic rise at very large H." +
                  k_error_bars,
              "needs ≥ 2 widths at one m on clean labels", label);
}

// The m with the most noise levels (ties: the largest m), with its number of levels.
std::pair<int64_t, int> noise_sweep_m(const std::map<Coord, std::vector<double>>& cells) {
  std::map<int64_t, std::set<double>> levels;
  for (const auto& [c, v] : cells)
    if (!v.empty()) levels[c.m].insert(c.noise);
  std::pair<int64_t, int> best{0, 0};
  for (const auto& [m, l] : levels)
    if (static_cast<int>(l.size()) >= best.second) best = {m, static_cast<int>(l.size())};
  return best;
}

// r vs label noise at one m, one line per H.
void r_vs_noise_figure(Page& page, const std::map<Coord, std::vector<double>>& r_cells, int64_t m,
                       const std::string& name, const std::string& label,
                       const std::string& paper) {
  PlotSpec spec{.name = name,
                .title = fmt::format("Distance from initialization vs label noise (m = {})", m),
                .xlabel = "fraction of corrupted training labels",
                .ylabel = "distance from initialization r",
                .x_name = "noise",
                .y_name = "r",
                .y_from_zero = true,
                .lines = lines_from(make_series(r_cells, Axis::noise, Axis::width,
                                                [m](const Coord& c) { return c.m == m; }),
                                    "H = ")};
  // Widths seen at one noise level only are not part of the noise sweep.
  std::erase_if(spec.lines, [](const PlotLine& l) { return l.points.size() < 2; });
  page.figure(spec,
              fmt::format("r against the fraction of training labels replaced by random labels, "
                          "at m = {}, one line per width. <b>Paper ({}):</b> r grows with the "
                          "noise level, more so for larger m: memorizing takes a longer path.{}",
                          m, paper, k_error_bars),
              "needs ≥ 2 noise levels at one m", label);
}

// Generalization error vs H (per m) or vs m (per H), clean labels.
void gen_error_figure(Page& page, const std::map<Coord, std::vector<double>>& gen_cells,
                      bool vs_width, const std::string& name, const std::string& label,
                      const std::string& paper) {
  const PlotSpec spec{
      .name = name,
      .title = vs_width ? "Generalization error vs width (clean labels)"
                        : "Generalization error vs training-set size (clean labels)",
      .xlabel = vs_width ? "width H" : "training-set size m",
      .ylabel = "test error − train error (%)",
      .x_name = vs_width ? "width H" : "m",
      .y_name = "gen error (%)",
      .log_x = true,
      .y_from_zero = true,
      .lines = vs_width ? lines_from(make_series(gen_cells, Axis::width, Axis::m, clean_labels),
                                     "m = ", 100.0)
                        : lines_from(make_series(gen_cells, Axis::m, Axis::width, clean_labels),
                                     "H = ", 100.0)};
  page.figure(
      spec,
      (vs_width ? "Generalization error (test − train error, in percent) against width, one line "
                  "per m. <b>Paper (" +
                      paper + "):</b> it only decreases or stays constant as H grows."
                : "Generalization error against m, one line per width. <b>Paper (" + paper +
                      "):</b> it falls as m grows, for every width.") +
          k_error_bars,
      vs_width ? "needs ≥ 2 widths at one m on clean labels"
               : "needs ≥ 2 values of m at one width on clean labels",
      label);
}

// r vs m, log-log, with the fitted power laws.
void r_vs_m_figure(Page& page, const std::map<Coord, std::vector<double>>& r_cells,
                   const std::vector<LineFit>& fits, const std::string& name,
                   const std::string& label, const std::string& paper,
                   const std::string& labels = "clean labels") {
  PlotSpec spec{
      .name = name,
      .title = "Distance from initialization vs training-set size (" + labels + ")",
      .xlabel = "training-set size m",
      .ylabel = "distance from initialization r",
      .x_name = "m",
      .y_name = "r",
      .log_x = true,
      .log_y = true,
      .lines = lines_from(make_series(r_cells, Axis::m, Axis::width, clean_labels), "H = ")};
  for (const auto& f : fits)
    for (size_t i = 0; i < spec.lines.size(); ++i)
      if (spec.lines[i].title == "H = " + num(f.key))
        spec.curves.push_back(curve_for(spec.lines[i], f.fit, static_cast<int>(i),
                                        fmt::format("fit: k = {:.3f}", f.fit.k)));
  page.figure(spec,
              fmt::format("r against m on log–log axes, one line per width, with the "
                          "least-squares power law r ∝ m<sup>k</sup> (dashed) wherever a width "
                          "has ≥ {} values of m. <b>Paper ({}):</b> r grows with m, typically "
                          "between m<sup>0.25</sup> and m<sup>0.4</sup> on clean labels, faster "
                          "for smaller H and with noisy labels.{}",
                          k_min_ms, paper, k_error_bars),
              "needs ≥ 2 values of m at one width on clean labels", label);
}

// "H, m values, seeds per m, k, CI, prefactor, R², in range" for one width's fit.
std::vector<std::string> fit_row(const LineFit& f) {
  std::string seeds;
  std::set<double> ms;
  for (const auto& p : f.data.points) {
    if (!seeds.empty()) seeds += ", ";
    seeds += std::to_string(p.y.n);
    ms.insert(p.x);
  }
  return {num(f.key),
          h::escape(list_of(ms)),
          seeds,
          fmt::format("{:.3f}", f.fit.k),
          f.ci ? fmt::format("[{:.3f}, {:.3f}]", f.ci->lo, f.ci->hi) : "–",
          fmt::format("{:.4g}", std::exp(f.fit.log_c)),
          fmt::format("{:.4f}", f.fit.r2)};
}

void fits_table(Page& page, const std::vector<LineFit>& fits) {
  page.heading(3, "Power-law fits r ∝ m<sup>k</sup> (clean labels)");
  if (fits.empty()) {
    page.add(fmt::format(
        "<p class=\"muted\">No width has ≥ {} values of m on clean labels; nothing to fit.</p>\n",
        k_min_ms));
    return;
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(fits.size());
  for (const auto& f : fits) rows.push_back(fit_row(f));
  page.table({"H", "m values", "seeds per m", "k", "95% CI (bootstrap)", "prefactor c", "R² (log)"},
             rows, "num");
  page.add(
      "<p class=\"muted\">Least squares of log r on log m over the seed-mean r at each m. CI: "
      "2.5th and 97.5th percentiles of k over bootstrap resamples that redraw the seeds within "
      "each m with replacement; with one seed per m the interval collapses to the point "
      "estimate.</p>\n");
}

// One init-free norm of the trained networks against H (one line per m), with the
// initialization's value for reference.
struct NormFigure {
  const char* metric;    // of the trained network
  const char* z_metric;  // of its initialization
  const char* title;
  const char* ylabel;
  const char* y_name;
  const char* caption;
};

constexpr NormFigure k_norm_figures[] = {
    {"prod_fro2_w", "prod_fro2_z", "Π‖W_k‖_F² vs width (clean labels)", "Π_k ‖W_k‖_F^2",
     "Π‖W_k‖_F²",
     "The product of squared Frobenius norms, an initialization-blind ℓ<sub>2</sub> norm, for the "
     "trained networks (one line per m) and at their initialization (black). <b>Paper (Section "
     "6, Proposition 6.1):</b> it grows with H — already at initialization, as "
     "Ω(H<sup>d−2</sup>) — so a capacity bound built on it grows with H although the "
     "generalization error does not."},
    {"prod_spec_w", "prod_spec_z", "Π‖W_k‖₂ vs width (clean labels)", "Π_k ‖W_k‖_2", "Π‖W_k‖₂",
     "The product of spectral norms for the trained networks and at initialization (black). "
     "<b>Paper (Section 6, Proposition 6.2):</b> Π‖W_k‖₂ ≤ Π(‖Z_k‖₂ + r) with ‖Z_k‖₂ = Θ(1), so "
     "it stays H-independent when r does; it is the factor H<sup>d−1</sup> of the spectral "
     "complexity (spec_complexity_w) that grows with H."},
};

void norm_figure(Page& page, const Experiment& e, const std::string& prefix, const NormFigure& n) {
  PlotSpec spec{.name = prefix + n.metric + "_vs_width",
                .title = n.title,
                .xlabel = "width H",
                .ylabel = n.ylabel,
                .x_name = "width H",
                .y_name = n.y_name,
                .log_x = true,
                .log_y = true,
                .geometric = true,
                .lines = lines_from(
                    make_series(cell_values(e.runs, n.metric), Axis::width, Axis::m, clean_labels),
                    "trained, m = ")};
  PlotLine z = width_line(e.runs, n.z_metric, "initialization Z");
  z.reference = true;
  if (!z.points.empty()) spec.lines.push_back(z);
  page.figure(spec,
              std::string(n.caption) +
                  " Points are geometric means over seeds with bars ×/÷ one geometric standard "
                  "deviation (on a log axis a mean ± sd falls below zero and one large run sets "
                  "the mean); runs more than 3× from their cell's median are circled in red.",
              "needs ≥ 2 widths on clean labels");
}

// ---- the paper's figures, one section each --------------------------------------------------

// A figure's label: "Figure 2(c)", with " [k]" for the k-th experiment of the same figure.
std::string sub_label(int figure, const std::string& sub, size_t index) {
  return fmt::format("Figure {}{}{}", figure, sub,
                     index == 0 ? "" : fmt::format(" [{}]", index + 1));
}

void experiment_heading(Page& page, const std::string& title, const Experiment& e) {
  page.heading(2, title);
  page.add(fmt::format("<p class=\"muted\">Runs: {}</p>\n", h::escape(e.label)));
}

void figure1_section(Page& page, const Experiment& e, const ClaimContext& c, size_t index,
                     const std::string& prefix) {
  experiment_heading(page,
                     "Figure 1: cross-entropy on MNIST, to margin ≥ 10 (Section 4)" +
                         (index ? fmt::format(" [{}]", index + 1) : std::string()),
                     e);
  const auto r_cells = cell_values(e.runs, "dist_init");
  r_vs_width_figure(page, r_cells, prefix + "r_vs_width", sub_label(1, " (left)", index),
                    "Section 4, Figure 1 left");
  r_vs_noise_figure(page, r_cells, noise_sweep_m(r_cells).first, prefix + "r_vs_noise",
                    sub_label(1, " (right)", index), "Section 4, Figure 1 right");
  const auto fits = fit_lines(e.runs, "dist_init", Axis::m, Axis::width, clean_labels, k_min_ms,
                              c.resamples, c.seed);
  r_vs_m_figure(page, r_cells, fits, prefix + "r_vs_m", "", "Section 4");
  fits_table(page, fits);
  gen_error_figure(page, cell_values(e.runs, "gen_error"), true, prefix + "gen_vs_width", "",
                   "Appendix D");
  for (const auto& n : k_norm_figures) norm_figure(page, e, prefix, n);
}

// Figures 2–4 (Appendix D.1): (a) gen error vs H, (b) gen error vs m, (c) r vs H, (d) r vs m.
void real_data_section(Page& page, int figure, const std::string& title, const Experiment& e,
                       const ClaimContext& c, size_t index, const std::string& prefix) {
  experiment_heading(page,
                     fmt::format("Figure {}: {}{}", figure, title,
                                 index ? fmt::format(" [{}]", index + 1) : std::string()),
                     e);
  const std::string paper = fmt::format("Appendix D.1, Figure {}", figure);
  const auto gen = cell_values(e.runs, "gen_error");
  const auto r_cells = cell_values(e.runs, "dist_init");
  gen_error_figure(page, gen, true, prefix + "gen_vs_width", sub_label(figure, "(a)", index),
                   paper + "(a)");
  gen_error_figure(page, gen, false, prefix + "gen_vs_m", sub_label(figure, "(b)", index),
                   paper + "(b)");
  r_vs_width_figure(page, r_cells, prefix + "r_vs_width", sub_label(figure, "(c)", index),
                    paper + "(c)");
  const auto fits = fit_lines(e.runs, "dist_init", Axis::m, Axis::width, clean_labels, k_min_ms,
                              c.resamples, c.seed);
  r_vs_m_figure(page, r_cells, fits, prefix + "r_vs_m", sub_label(figure, "(d)", index),
                paper + "(d)");
  fits_table(page, fits);
  for (const auto& n : k_norm_figures) norm_figure(page, e, prefix, n);
}

// Figure 5 (Appendix D.2): random ±1 labels; (a)/(c) r vs H, (b)/(d) r vs m for MNIST/CIFAR-10.
void figure5_section(Page& page, const Experiment& e, const ClaimContext& c, size_t index,
                     const std::string& prefix) {
  const bool cifar = e.key.value("dataset", "mnist") == "cifar10";
  experiment_heading(page,
                     fmt::format("Figure 5{}: random ±1 labels on {} (Appendix D.2){}",
                                 cifar ? " (c), (d)" : " (a), (b)", cifar ? "CIFAR-10" : "MNIST",
                                 index ? fmt::format(" [{}]", index + 1) : std::string()),
                     e);
  const auto r_cells = cell_values(e.runs, "dist_init");
  r_vs_width_figure(page, r_cells, prefix + "r_vs_width",
                    sub_label(5, cifar ? "(c)" : "(a)", index), "Appendix D.2, Figure 5 left",
                    "random ±1 labels");
  const auto fits = fit_lines(e.runs, "dist_init", Axis::m, Axis::width, clean_labels, k_min_ms,
                              c.resamples, c.seed);
  r_vs_m_figure(page, r_cells, fits, prefix + "r_vs_m", sub_label(5, cifar ? "(d)" : "(b)", index),
                "Appendix D.2, Figure 5 right", "random ±1 labels");
  fits_table(page, fits);
}

// Figure 6 (Appendix D.3): r vs noise per H, one sub-figure per m.
void figure6_section(Page& page, const Experiment& e, size_t index, const std::string& prefix) {
  experiment_heading(page,
                     "Figure 6: two classes of MNIST with noisy labels (Appendix D.3)" +
                         (index ? fmt::format(" [{}]", index + 1) : std::string()),
                     e);
  const auto r_cells = cell_values(e.runs, "dist_init");
  std::map<int64_t, std::set<double>> levels;
  for (const auto& [co, v] : r_cells)
    if (!v.empty()) levels[co.m].insert(co.noise);
  char sub = 'a';
  for (const auto& [m, l] : levels) {
    if (l.size() < 2) continue;
    r_vs_noise_figure(page, r_cells, m, prefix + fmt::format("r_vs_noise_m{}", m),
                      sub_label(6, fmt::format("({})", sub), index), "Appendix D.3, Figure 6");
    ++sub;
  }
  if (sub == 'a')
    page.add("<div class=\"missing\">No m has ≥ 2 noise levels: nothing to draw.</div>\n");
}

// An experiment the paper has no figure for: the generic figures, numbered S….
void other_section(Page& page, const Experiment& e, const ClaimContext& c,
                   const std::string& prefix) {
  experiment_heading(page, "Another experiment (no figure of the paper)", e);
  const auto r_cells = cell_values(e.runs, "dist_init");
  r_vs_width_figure(page, r_cells, prefix + "r_vs_width", "", "Section 4");
  r_vs_noise_figure(page, r_cells, noise_sweep_m(r_cells).first, prefix + "r_vs_noise", "",
                    "Section 4");
  gen_error_figure(page, cell_values(e.runs, "gen_error"), true, prefix + "gen_vs_width", "",
                   "Appendix D");
  const auto fits = fit_lines(e.runs, "dist_init", Axis::m, Axis::width, clean_labels, k_min_ms,
                              c.resamples, c.seed);
  r_vs_m_figure(page, r_cells, fits, prefix + "r_vs_m", "", "Section 4");
  fits_table(page, fits);
}

void experiment_sections(Page& page, const Analysis& a) {
  if (a.experiments.empty()) {
    page.heading(2, "Distance from initialization and generalization");
    page.add(
        "<div class=\"missing\">No completed, converged training runs: the figures of Section 4 "
        "and Appendix D need trained runs.</div>\n");
    return;
  }
  using F = PaperFigure;
  for (const F f : {F::fig1, F::fig2, F::fig3, F::fig4, F::fig5, F::fig6, F::none}) {
    size_t index = 0;
    for (size_t i = 0; i < a.experiments.size(); ++i) {
      if (a.figure_of[i] != f) continue;
      const auto& e = a.experiments[i];
      const auto& c = a.context_of[i];
      const std::string prefix = fmt::format("e{}_", i + 1);
      switch (f) {
        case F::fig1:
          figure1_section(page, e, c, index, prefix);
          break;
        case F::fig2:
          real_data_section(page, 2,
                            "Experiment A, MNIST, squared loss, SGD lr 0.01 with momentum 0.9 "
                            "(Appendix D.1)",
                            e, c, index, prefix);
          break;
        case F::fig3:
          real_data_section(page, 3, "Experiment B, CIFAR-10, squared loss (Appendix D.1)", e, c,
                            index, prefix);
          break;
        case F::fig4:
          real_data_section(page, 4,
                            "Experiment C, MNIST, squared loss, SGD lr 1.0 without momentum "
                            "(Appendix D.1)",
                            e, c, index, prefix);
          break;
        case F::fig5:
          figure5_section(page, e, c, index, prefix);
          break;
        case F::fig6:
          figure6_section(page, e, index, prefix);
          break;
        case F::none:
          other_section(page, e, c, prefix);
          break;
      }
      ++index;
    }
  }
}

// ---- the theory checks on the initialization (Corollary A.2.1, Propositions 6.1, 6.2) ------

// ‖Z_k‖₂ and ‖Z_k‖_F of the hidden layers against H, with power-law fits of the latter.
void hidden_layer_figures(Page& page, const TheoryGroup& g, const std::string& prefix) {
  const auto& runs = g.runs.runs;
  const int d = g.runs.depth;
  PlotSpec spec{.name = prefix + "spec_z_vs_width",
                .title = "Spectral norms ‖Z_k‖₂ of the initialization vs width",
                .xlabel = "width H",
                .ylabel = "‖Z_{k}‖_{2}",
                .x_name = "width H",
                .y_name = "‖Z_k‖₂",
                .log_x = true,
                .y_from_zero = true};
  PlotSpec fro{.name = prefix + "fro_z_vs_width",
               .title = "Frobenius norms ‖Z_k‖_F of the initialization vs width",
               .xlabel = "width H",
               .ylabel = "‖Z_{k}‖_{F}",
               .x_name = "width H",
               .y_name = "‖Z_k‖_F",
               .log_x = true,
               .log_y = true};
  for (int k = 2; k <= d - 1; ++k) {
    spec.lines.push_back(
        width_line(runs, fmt::format("spec_z{}", k), fmt::format("layer k = {}", k)));
    fro.lines.push_back(
        width_line(runs, fmt::format("fro_z{}", k), fmt::format("layer k = {}", k)));
    const auto& l = fro.lines.back();
    if (static_cast<int>(l.points.size()) >= k_min_widths)
      if (const auto f = fit_line(l))
        fro.curves.push_back(curve_for(l, *f, static_cast<int>(fro.lines.size()) - 1,
                                       fmt::format("fit: ∝ H^{:.3f}", f->k)));
  }
  const std::string why =
      d < 3 ? fmt::format("depth {} has no hidden-to-hidden layer", d)
            : fmt::format("needs ≥ 2 widths (≥ {} for the exponent checks)", k_min_widths);
  const std::string src = g.init_only ? "init-only runs (max_steps = 0)"
                                      : "the initialization norms stored with the trained runs";
  page.figure(spec,
              fmt::format("Spectral norm of each hidden layer's initial weight matrix against "
                          "width, from {}. <b>Paper (Corollary A.2.1):</b> "
                          "‖Z<sub>k</sub>‖<sub>2</sub> = Θ̃(1), independent of H (for Xavier's "
                          "Gaussian H×H matrices it tends to 2).{}",
                          src, k_error_bars),
              why);
  page.figure(fro,
              fmt::format("Frobenius norm of each hidden layer's initial weight matrix against "
                          "width (log–log), with least-squares power laws (dashed). <b>Paper "
                          "(Corollary A.2.1):</b> ‖Z<sub>k</sub>‖<sub>F</sub> = Θ̃(√H) for 1 &lt; "
                          "k &lt; d.{}",
                          k_error_bars),
              why);
}

// Π‖Z_k‖_F² over all layers against H, with its power-law fit.
void product_figure(Page& page, const TheoryGroup& g, const std::string& prefix) {
  const int d = g.runs.depth;
  PlotSpec prod{.name = prefix + "prod_fro2_z_vs_width",
                .title = "Π‖Z_k‖_F² of the initialization vs width",
                .xlabel = "width H",
                .ylabel = "Π_k ‖Z_k‖_F^2",
                .x_name = "width H",
                .y_name = "Π‖Z_k‖_F²",
                .log_x = true,
                .log_y = true,
                .lines = {width_line(g.runs.runs, "prod_fro2_z", "initialization")}};
  if (static_cast<int>(prod.lines[0].points.size()) >= k_min_widths)
    if (const auto f = fit_line(prod.lines[0]))
      prod.curves.push_back(curve_for(prod.lines[0], *f, 0,
                                      fmt::format("fit: ∝ H^{:.3f} (d − 2 = {})", f->k, d - 2)));
  page.figure(
      prod,
      fmt::format(
          "The product of squared Frobenius norms over all {} layers at initialization (log–log) "
          "with its power-law fit. <b>Paper (Proposition 6.1):</b> it grows as "
          "Ω̃(H<sup>d−2</sup>) although the untrained network's generalization error does not "
          "depend on H. The hidden layers give H<sup>d−2</sup>; Xavier's std √(2/(fan_in + "
          "fan_out)) also makes the input layer's ‖Z<sub>1</sub>‖<sub>F</sub>² = 2nH/(n + H) "
          "grow while H is not ≫ n (n = input size), so over small widths the fitted exponent "
          "lies above d − 2.{}",
          d, k_error_bars),
      "needs ≥ 2 widths with prod_fro2_z");
}

std::vector<std::string> check_row(const TheoryCheck& c) {
  std::string measured = "–";
  if (c.measured)
    measured = c.kind == TheoryCheck::Kind::prop62 ? fmt::format("{:.0f}%", 100 * *c.measured)
               : c.ci ? fmt::format("{:.3f} [{:.3f}, {:.3f}]", *c.measured, c.ci->lo, c.ci->hi)
                      : fmt::format("{:.3f}", *c.measured);
  return {h::escape(c.group),
          h::escape(c.what),
          measured,
          h::escape(c.expected),
          c.verdict ? h::badge(*c.verdict) : "<span class=\"muted\">info</span>",
          h::escape(c.note)};
}

void checks_table(Page& page, const std::vector<TheoryCheck>& checks) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(checks.size());
  for (const auto& c : checks) rows.push_back(check_row(c));
  page.heading(3, "Checks");
  page.table({"runs", "quantity", "measured", "rule", "result", "note"}, rows, "num");
  page.add(
      "<p class=\"muted\">Exponents are least-squares slopes of log(norm) on log H over the seed "
      "means per width (one value per seed and width: runs sharing both drew the same "
      "initialization). Rows marked info are not checked; they show why Π‖Z_k‖_F²'s exponent can "
      "differ from d − 2.</p>\n");
}

void theory_section(Page& page, const Analysis& a) {
  page.heading(2, "Theory checks on the initialization");
  const auto& groups = a.groups;
  const bool one = groups.size() == 1;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (!one) page.heading(3, h::escape(groups[i].runs.label));
    const std::string prefix = one ? "init_" : fmt::format("init{}_", i + 1);
    hidden_layer_figures(page, groups[i], prefix);
    product_figure(page, groups[i], prefix);
  }
  checks_table(page, a.checks);
}

// ---- Theorem 5.1: the Rademacher complexity of linear networks near their initialization ---

double metric_mean(const std::vector<const RunRecord*>& runs, const std::string& metric) {
  std::vector<double> v;
  for (const RunRecord* r : runs)
    if (const auto it = r->metrics.find(metric); it != r->metrics.end()) v.push_back(it->second);
  return stats(v).mean;
}

void rademacher_table(Page& page, const Experiment& e) {
  const double n = e.key.value("dataset", "mnist") == "cifar10" ? 3072.0 : 784.0;  // input size
  std::map<Coord, std::vector<const RunRecord*>> cells;
  for (const RunRecord* r : e.runs) cells[coord_of(*r)].push_back(r);
  std::vector<std::vector<std::string>> rows;
  for (const auto& [c, runs] : cells) {
    const double est = metric_mean(runs, "rademacher");
    const double shape = metric_mean(runs, "rademacher_bound_shape");
    rows.push_back({num(static_cast<double>(c.width)), num(static_cast<double>(c.m)),
                    std::to_string(runs.size()), fmt::format("{:.4g}", est),
                    fmt::format("{:.2g}", metric_mean(runs, "rademacher_se")),
                    fmt::format("{:.2g}", metric_mean(runs, "rademacher_centre")),
                    fmt::format("{:.2g}", metric_mean(runs, "rademacher_start_gap")),
                    fmt::format("{:.4g}", shape), fmt::format("{:.3g}", est / shape),
                    fmt::format("{:.4g}", est / std::sqrt(2.0 * c.width / (n + c.width)))});
  }
  page.table({"H", "m", "seeds", "R̂ (mean over seeds)", "SE over ξ (per run)", "centre term",
              "gap between starts", "d(r+1)^d max‖x‖/√m", "R̂ / bound shape", "R̂ / √(2H/(n+H))"},
             rows, "num");
  page.add(
      "<p class=\"muted\">The last column divides out Xavier's first-layer gain on a typical "
      "input, ‖Z<sub>1</sub>v‖ ≈ √(2H/(n + H))·‖v‖ (std √(2/(n + H)), n inputs): it grows with "
      "H until H ≫ n and makes R̂ grow with it, as it makes Π‖Z<sub>k</sub>‖<sub>F</sub>² grow "
      "faster than H<sup>d−2</sup> in the theory checks. The theorem's bound uses "
      "‖Z<sub>1</sub>‖<sub>2</sub> = Θ̃(1), which this gain stays below.</p>\n");
}

void rademacher_section(Page& page, const Analysis& a) {
  page.heading(2, "Theorem 5.1: Rademacher complexity of linear networks near the initialization");
  if (a.rademacher.empty()) {
    page.add(
        "<div class=\"missing\">No initialization-only runs with a Rademacher estimate (run "
        "<code>experiments/nk17-thm51-quick.toml</code>).</div>\n");
    return;
  }
  page.add(
      "<p>For networks with linear activations (the paper's network otherwise, one output) the "
      "estimate is R̂ = E<sub>ξ</sub> sup<sub>‖θ − θ₀‖ ≤ r</sub> (1/m) Σ ξ<sub>i</sub> "
      "f<sub>θ</sub>(x<sub>i</sub>) on the training inputs, the ball centred on the Xavier "
      "initialization θ₀. The supremum is found by projected gradient ascent from several starts, "
      "so it is a <b>lower bound</b> on the true supremum, and R̂ a lower bound on the Rademacher "
      "complexity up to its Monte Carlo error over ξ (the standard error in the table). <b>Paper "
      "(Theorem 5.1):</b> R̂ = Õ(d·c<sup>d</sup>(r + 1)<sup>d</sup> max‖x‖/√m), independent of "
      "H.</p>\n");
  for (size_t i = 0; i < a.rademacher.size(); ++i) {
    const auto& e = a.rademacher[i];
    if (a.rademacher.size() > 1) page.heading(3, h::escape(e.label));
    const std::string prefix = fmt::format("thm51_{}_", i + 1);
    const auto cells = cell_values(e.runs, "rademacher");
    const PlotSpec vs_h{
        .name = prefix + "vs_width",
        .title = "Rademacher estimate vs width (linear networks, radius r)",
        .xlabel = "width H",
        .ylabel = "R̂ (lower bound)",
        .x_name = "width H",
        .y_name = "R̂",
        .log_x = true,
        .y_from_zero = true,
        .lines = lines_from(make_series(cells, Axis::width, Axis::m, clean_labels), "m = ")};
    page.figure(vs_h,
                std::string("The estimate against width, one line per m. <b>Paper (Theorem "
                            "5.1):</b> flat in H.") +
                    k_error_bars,
                "needs ≥ 2 widths at one m");
    const ClaimContext c{a.base.resamples, derive_seed(a.base.seed, e.key.dump())};
    PlotSpec vs_m{
        .name = prefix + "vs_m",
        .title = "Rademacher estimate vs training-set size (log–log)",
        .xlabel = "training-set size m",
        .ylabel = "R̂ (lower bound)",
        .x_name = "m",
        .y_name = "R̂",
        .log_x = true,
        .log_y = true,
        .lines = lines_from(make_series(cells, Axis::m, Axis::width, clean_labels), "H = ")};
    for (const auto& f : fit_lines(e.runs, "rademacher", Axis::m, Axis::width, clean_labels,
                                   k_min_ms_other, c.resamples, c.seed))
      for (size_t l = 0; l < vs_m.lines.size(); ++l)
        if (vs_m.lines[l].title == "H = " + num(f.key))
          vs_m.curves.push_back(curve_for(vs_m.lines[l], f.fit, static_cast<int>(l),
                                          fmt::format("fit: ∝ m^{:.3f}", f.fit.k)));
    if (!vs_m.lines.empty() && !vs_m.lines[0].points.empty()) {  // the 1/√m reference, in black
      const auto& p = vs_m.lines[0].points.front();
      const PowerFit ref{-0.5, std::log(p.y.mean) + 0.5 * std::log(p.x), 0, 1.0};
      vs_m.curves.push_back(curve_for(vs_m.lines[0], ref, -1, "∝ 1/√m"));
    }
    page.figure(vs_m,
                std::string("The estimate against m on log–log axes, one line per width, with "
                            "least-squares power laws (dashed) and 1/√m (black). <b>Paper (Theorem "
                            "5.1):</b> it falls like 1/√m.") +
                    k_error_bars,
                "needs ≥ 2 values of m at one width");
    rademacher_table(page, e);
  }
}

// ---- Theorems C.1 and C.2 on trained single-output networks --------------------------------

void bounds_section(Page& page, const Analysis& a) {
  page.heading(2, "Theorems C.1 and C.2: output and gradient of trained networks against width");
  bool any = false;
  for (size_t i = 0; i < a.experiments.size(); ++i) {
    const auto& e = a.experiments[i];
    const auto out = cell_values(e.runs, "out_abs_max");
    if (out.empty()) continue;
    any = true;
    page.heading(3, h::escape(e.label));
    const std::string prefix = fmt::format("e{}_", i + 1);
    const struct {
      const char* metric;
      const char* title;
      const char* y;
      const char* caption;
    } figures[] = {
        {"out_abs_max", "max |f(x)| over the training and test sets vs width", "max_x |f(x)|",
         "The largest |f(x)| over the training and test inputs, one line per m. <b>Paper (Theorem "
         "C.1):</b> |f(x)| ≤ Õ(c<sup>d</sup>(r + 1)<sup>d</sup>(‖x‖ + 1)) with c independent of "
         "H, so at a fixed distance r it does not grow with H."},
        {"grad_w_norm_max", "max ‖∂f(x)/∂W‖ over the training and test sets vs width",
         "max_x ‖∂f/∂W‖",
         "The largest norm of the gradient of f(x) with respect to the weights W<sub>1</sub>..W"
         "<sub>d</sub> over the same inputs. <b>Paper (Theorem C.2):</b> ≤ "
         "Õ(d·c<sup>d</sup>(r + 1)<sup>d</sup>(‖x‖ + 1)), independent of H at a fixed r."},
    };
    for (const auto& f : figures) {
      const PlotSpec spec{.name = prefix + f.metric + "_vs_width",
                          .title = f.title,
                          .xlabel = "width H",
                          .ylabel = f.y,
                          .x_name = "width H",
                          .y_name = f.y,
                          .log_x = true,
                          .y_from_zero = true,
                          .lines = lines_from(make_series(cell_values(e.runs, f.metric),
                                                          Axis::width, Axis::m, clean_labels),
                                              "m = ")};
      page.figure(spec,
                  std::string(f.caption) +
                      " At a fixed m, r itself hardly changes with H (the r-against-H figure of "
                      "the same runs)." +
                      k_error_bars,
                  "needs ≥ 2 widths at one m");
    }
  }
  if (!any)
    page.add(
        "<div class=\"missing\">No trained single-output runs (Figures 5 and 6 measure "
        "out_abs_max and grad_w_norm_max).</div>\n");
}

class Nk17Study final : public Study {
 public:
  std::string name() const override { return "nk17"; }

  // Every run: the paper's setup is the toolkit's default. Its claims and sections appear (as
  // SKIP lines and notices) even when no run is usable.
  std::vector<const RunRecord*> select(const std::vector<RunRecord>& all) const override {
    std::vector<const RunRecord*> out;
    out.reserve(all.size());
    for (const auto& r : all)  // coordinate tasks and line-spectrum classifiers are RM23's
      if (!rm23::is_rm23_run(r)) out.push_back(&r);
    return out;
  }

  std::vector<Claim> build(const std::vector<const RunRecord*>& runs, const StudyContext& context,
                           Page& page) const override {
    const Analysis a = analyse(runs, context);
    page.cite(
        "reproducing Nagarajan &amp; Kolter, <i>Generalization in Deep Networks: The Role of "
        "Distance from Initialization</i>");
    page.set_unlabeled_prefix("S");
    page.add_runs_note(runs_note(a));
    experiment_sections(page, a);
    theory_section(page, a);
    rademacher_section(page, a);
    bounds_section(page, a);
    return claims_of(a);
  }
};

}  // namespace

std::unique_ptr<Study> make_study() {
  return std::make_unique<Nk17Study>();
}

}  // namespace initscope::report::nk17
