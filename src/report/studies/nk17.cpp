// The NK17 study's sections: what it shows, in what order, and what the paper expects of each
// figure (see nk17.hpp). Numbers come from aggregate and nk17_claims, the page draws the figures.
#include "report/studies/nk17.hpp"

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

// ---- analysis: everything the claims and the sections read, computed once ------------------

struct Analysis {
  std::vector<Experiment> experiments;  // trained, converged runs by experiment_key
  std::vector<std::vector<RFit>> fits;  // r ∝ m^k per width, one list per experiment
  std::vector<const RunRecord*> trained;
  std::vector<TheoryGroup> groups;  // the initializations, by init_key
  std::vector<TheoryCheck> checks;
};

Analysis analyse(const std::vector<const RunRecord*>& runs, const StudyContext& context) {
  Analysis a;
  std::vector<const RunRecord*> init_only;
  for (const RunRecord* r : runs) {
    const RunUse use = classify(*r);
    if (use == RunUse::trained) a.trained.push_back(r);
    if (use == RunUse::init_only) init_only.push_back(r);
  }
  a.experiments = group_runs(a.trained, experiment_key);
  for (const auto& e : a.experiments)
    a.fits.push_back(fit_r_vs_m(e, context.resamples, derive_seed(context.seed, e.key.dump())));
  a.groups = theory_groups(init_only, a.trained);
  a.checks = theory_checks(a.groups, a.trained);
  return a;
}

// Claims 1-4 per experiment, merged into one line each; claim 5 over all theory groups.
std::vector<Claim> claims_of(const Analysis& a) {
  std::vector<std::pair<std::string, Claim>> c1, c2, c3, c4;
  for (size_t i = 0; i < a.experiments.size(); ++i) {
    const auto& e = a.experiments[i];
    c1.emplace_back(e.label, check_r_not_increasing_with_width(e));
    c2.emplace_back(e.label, check_r_growth_exponent(a.fits[i]));
    c3.emplace_back(e.label, check_r_increases_with_noise(e));
    c4.emplace_back(e.label, check_gen_error_not_increasing_with_width(e));
  }
  return {combine(k_claim_r_width, claim_rule(k_claim_r_width), c1),
          combine(k_claim_r_exponent, claim_rule(k_claim_r_exponent), c2),
          combine(k_claim_r_noise, claim_rule(k_claim_r_noise), c3),
          combine(k_claim_gen_width, claim_rule(k_claim_gen_width), c4), check_theory(a.checks)};
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

// "#, experiment, runs, widths H, m, noise, seeds per cell" for experiment number `number`.
std::vector<std::string> experiment_row(size_t number, const Experiment& e) {
  std::set<double> ws, ms, ns;
  std::map<Coord, int> per_cell;
  for (const RunRecord* r : e.runs) {
    const Coord c = coord_of(*r);
    ws.insert(static_cast<double>(c.width));
    ms.insert(static_cast<double>(c.m));
    ns.insert(c.noise);
    ++per_cell[c];
  }
  int lo = 1 << 30, hi = 0;
  for (const auto& [c, n] : per_cell) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  return {std::to_string(number),
          h::escape(e.label),
          std::to_string(e.runs.size()),
          h::escape(list_of(ws)),
          h::escape(list_of(ms)),
          h::escape(list_of(ns)),
          lo == hi ? std::to_string(lo) : fmt::format("{}–{}", lo, hi)};
}

std::string runs_note(const std::vector<Experiment>& experiments) {
  std::string s =
      "<p>Only <b>completed, converged</b> runs (a stopping criterion, not a cap, ended them) "
      "enter the plots and claims; initialization-only runs (<code>max_steps = 0</code>) enter "
      "the theory checks. Every other run is listed under <a href=\"#excluded\">Excluded "
      "runs</a>. Runs that differ only in their seed are replicates of one sweep cell; an "
      "<i>experiment</i> is everything in the configuration except width, m, noise, the seed, "
      "threads and the caps.</p>\n";
  if (experiments.empty()) return s;
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < experiments.size(); ++i)
    rows.push_back(experiment_row(i + 1, experiments[i]));
  return s + "<h3>Experiments (trained, converged runs)</h3>\n" +
         h::table({"#", "experiment", "runs", "widths H", "m", "noise", "seeds per cell"}, rows);
}

// ---- one experiment's figures (Section 4, Appendix D, Section 6) ---------------------------

// 1. r vs H, one line per m, clean labels.
void r_vs_width_figure(Page& page, const std::map<Coord, std::vector<double>>& r_cells,
                       const std::string& prefix) {
  const PlotSpec spec{
      .name = prefix + "r_vs_width",
      .title = "Distance from initialization vs width (clean labels)",
      .xlabel = "width H",
      .ylabel = "distance from initialization r",
      .x_name = "width H",
      .y_name = "r",
      .log_x = true,
      .y_from_zero = true,
      .lines = lines_from(make_series(r_cells, Axis::width, Axis::m, clean_labels), "m = ")};
  page.figure(
      spec,
      std::string(
          "Distance r = ‖(W,B) − (Z,C)‖<sub>F</sub> against width, one line per training-set "
          "size. <b>Paper (Section 4; Figure 1 left; Figures 2–4 (c)):</b> r stays constant or "
          "even decreases as H grows, with at most a slight, logarithmic rise at very large H.") +
          k_error_bars,
      "needs ≥ 2 widths at one m on clean labels");
}

// 2. r vs label noise, one line per H, at the m with the most noise levels.
void r_vs_noise_figure(Page& page, const Experiment& e,
                       const std::map<Coord, std::vector<double>>& r_cells,
                       const std::string& prefix) {
  const auto at = noise_sweep_m(e);
  const int64_t m_noise = at ? at->first : 0;
  PlotSpec spec{
      .name = prefix + "r_vs_noise",
      .title = fmt::format("Distance from initialization vs label noise (m = {})", m_noise),
      .xlabel = "fraction of corrupted training labels",
      .ylabel = "distance from initialization r",
      .x_name = "noise",
      .y_name = "r",
      .y_from_zero = true,
      .lines = lines_from(make_series(r_cells, Axis::noise, Axis::width,
                                      [m_noise](const Coord& c) { return c.m == m_noise; }),
                          "H = ")};
  // Widths seen at one noise level only are not part of the noise sweep.
  std::erase_if(spec.lines, [](const PlotLine& l) { return l.points.size() < 2; });
  page.figure(
      spec,
      fmt::format(
          "r against the fraction of training labels replaced by random labels, at m = {} (the m "
          "with the most noise levels), one line per width. <b>Paper (Section 4; Figure 1 right; "
          "Figure 6):</b> r grows with the noise level, more so for larger m: memorizing takes a "
          "longer path.{}",
          m_noise, k_error_bars),
      "needs ≥ 2 noise levels at one m");
}

// 3. Generalization error vs H and vs m, clean labels.
void gen_error_figures(Page& page, const std::map<Coord, std::vector<double>>& gen_cells,
                       const std::string& prefix) {
  const PlotSpec vs_width{
      .name = prefix + "gen_vs_width",
      .title = "Generalization error vs width (clean labels)",
      .xlabel = "width H",
      .ylabel = "test error − train error (%)",
      .x_name = "width H",
      .y_name = "gen error (%)",
      .log_x = true,
      .y_from_zero = true,
      .lines =
          lines_from(make_series(gen_cells, Axis::width, Axis::m, clean_labels), "m = ", 100.0)};
  page.figure(
      vs_width,
      std::string(
          "Generalization error (test − train error, in percent) against width, one line per m. "
          "<b>Paper (Appendix D; Figures 2–4 (a)):</b> it only decreases or stays constant as H "
          "grows.") +
          k_error_bars,
      "needs ≥ 2 widths at one m on clean labels");
  const PlotSpec vs_m{
      .name = prefix + "gen_vs_m",
      .title = "Generalization error vs training-set size (clean labels)",
      .xlabel = "training-set size m",
      .ylabel = "test error − train error (%)",
      .x_name = "m",
      .y_name = "gen error (%)",
      .log_x = true,
      .y_from_zero = true,
      .lines =
          lines_from(make_series(gen_cells, Axis::m, Axis::width, clean_labels), "H = ", 100.0)};
  page.figure(vs_m,
              std::string("The same against m, one line per width. <b>Paper (Appendix D; Figures "
                          "2–4 (b)):</b> it falls as m grows, for every width.") +
                  k_error_bars,
              "needs ≥ 2 values of m at one width on clean labels");
}

// 4. r vs m, log-log, with the fitted power laws.
void r_vs_m_figure(Page& page, const std::map<Coord, std::vector<double>>& r_cells,
                   const std::string& prefix, const std::vector<RFit>& fits) {
  PlotSpec spec{
      .name = prefix + "r_vs_m",
      .title = "Distance from initialization vs training-set size (clean labels)",
      .xlabel = "training-set size m",
      .ylabel = "distance from initialization r",
      .x_name = "m",
      .y_name = "r",
      .log_x = true,
      .log_y = true,
      .lines = lines_from(make_series(r_cells, Axis::m, Axis::width, clean_labels), "H = ")};
  for (const auto& f : fits) {
    for (size_t i = 0; i < spec.lines.size(); ++i)
      if (spec.lines[i].title == "H = " + num(static_cast<double>(f.width)))
        spec.curves.push_back(curve_for(spec.lines[i], f.fit, static_cast<int>(i),
                                        fmt::format("fit H = {}: k = {:.3f}", f.width, f.fit.k)));
  }
  page.figure(spec,
              std::string("r against m on log–log axes, one line per width, with the "
                          "least-squares power law r ∝ m<sup>k</sup> (dashed) wherever a width has "
                          "≥ 3 values of m. <b>Paper (Section 4; Figures 2–4 (d)):</b> r grows "
                          "with m, typically between m<sup>0.25</sup> and m<sup>0.4</sup> on clean "
                          "labels, faster for smaller H.") +
                  k_error_bars,
              "needs ≥ 2 values of m at one width on clean labels");
}

// "H, m values, seeds per m, k, CI, prefactor, R², in range" for one width's fit.
std::vector<std::string> fit_row(const RFit& f) {
  std::string seeds;
  std::set<double> ms;
  for (const auto& p : f.data.points) {
    if (!seeds.empty()) seeds += ", ";
    seeds += std::to_string(p.y.n);
    ms.insert(p.x);
  }
  return {std::to_string(f.width),
          h::escape(list_of(ms)),
          seeds,
          fmt::format("{:.3f}", f.fit.k),
          f.ci ? fmt::format("[{:.3f}, {:.3f}]", f.ci->lo, f.ci->hi) : "–",
          fmt::format("{:.4g}", std::exp(f.fit.log_c)),
          fmt::format("{:.4f}", f.fit.r2),
          f.fit.k >= k_exponent_lo && f.fit.k <= k_exponent_hi ? "yes" : "<b>no</b>"};
}

void fits_table(Page& page, const std::vector<RFit>& fits) {
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
  page.table({"H", "m values", "seeds per m", "k", "95% CI (bootstrap)", "prefactor c", "R² (log)",
              fmt::format("k in [{}, {}]", k_exponent_lo, k_exponent_hi)},
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
                .lines = lines_from(
                    make_series(cell_values(e.runs, n.metric), Axis::width, Axis::m, clean_labels),
                    "trained, m = ")};
  PlotLine z = width_line(e.runs, n.z_metric, "initialization Z");
  z.reference = true;
  if (!z.points.empty()) spec.lines.push_back(z);
  page.figure(spec, std::string(n.caption) + k_error_bars, "needs ≥ 2 widths on clean labels");
}

void experiment_section(Page& page, const Experiment& e, const std::string& prefix,
                        const std::vector<RFit>& fits) {
  const auto r_cells = cell_values(e.runs, "dist_init");
  r_vs_width_figure(page, r_cells, prefix);
  r_vs_noise_figure(page, e, r_cells, prefix);
  gen_error_figures(page, cell_values(e.runs, "gen_error"), prefix);
  r_vs_m_figure(page, r_cells, prefix, fits);
  fits_table(page, fits);
  for (const auto& n : k_norm_figures) norm_figure(page, e, prefix, n);
}

// One section per experiment; a single experiment gets the section's plain title.
void experiment_sections(Page& page, const Analysis& a) {
  const auto& experiments = a.experiments;
  if (experiments.empty()) {
    page.heading(2, "Distance from initialization and generalization");
    page.add(
        "<div class=\"missing\">No completed, converged training runs: the figures of Section 4 "
        "and Appendix D need trained runs.</div>\n");
    return;
  }
  const bool one = experiments.size() == 1;
  for (size_t i = 0; i < experiments.size(); ++i) {
    const auto& e = experiments[i];
    if (one) {
      page.heading(2, "Distance from initialization and generalization");
      page.add(fmt::format("<p class=\"muted\">{}</p>\n", h::escape(e.label)));
    } else {
      page.heading(2, fmt::format("Experiment {}: {}", i + 1, h::escape(e.label)));
    }
    experiment_section(page, e, one ? "" : fmt::format("e{}_", i + 1), a.fits[i]);
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
                                       fmt::format("fit k = {}: ∝ H^{:.3f}", k, f->k)));
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

class Nk17Study final : public Study {
 public:
  std::string name() const override { return "nk17"; }

  // Every run: the paper's setup is the toolkit's default. Its claims and sections appear (as
  // SKIP lines and notices) even when no run is usable.
  std::vector<const RunRecord*> select(const std::vector<RunRecord>& all) const override {
    std::vector<const RunRecord*> out;
    out.reserve(all.size());
    for (const auto& r : all) {  // the coordinate tasks are the RM23 study's
      const std::string dataset = r.config.value("dataset", std::string("mnist"));
      if (dataset != "signal1d" && dataset.rfind("image:", 0) != 0) out.push_back(&r);
    }
    return out;
  }

  std::vector<Claim> build(const std::vector<const RunRecord*>& runs, const StudyContext& context,
                           Page& page) const override {
    const Analysis a = analyse(runs, context);
    page.cite(
        "reproducing Nagarajan &amp; Kolter, <i>Generalization in Deep Networks: The Role of "
        "Distance from Initialization</i>");
    page.add_runs_note(runs_note(a.experiments));
    experiment_sections(page, a);
    theory_section(page, a);
    return claims_of(a);
  }
};

}  // namespace

std::unique_ptr<Study> make_study() {
  return std::make_unique<Nk17Study>();
}

}  // namespace initscope::report::nk17
