// The NK17 claim and theory checks (see nk17_claims.hpp).
#include "report/studies/nk17_claims.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include <fmt/core.h>

#include "common/rng.hpp"

namespace initscope::report::nk17 {

namespace {

std::string list_values(const std::set<double>& values) {
  std::string s;
  for (double v : values) {
    if (!s.empty()) s += ", ";
    s += num(v);
  }
  return s.empty() ? "none" : s;
}

const char* axis_name(Axis a) {
  switch (a) {
    case Axis::width:
      return "H";
    case Axis::m:
      return "m";
    case Axis::noise:
      return "p";
  }
  return "?";
}

// One part of a claim (a width, an m): its estimate, interval and verdict.
struct Part {
  std::string where;
  double estimate = 0.0;
  Interval ci;
  Verdict verdict = Verdict::skip;
};

Part part(std::string where, double estimate, const std::optional<Interval>& ci,
          const Region& region) {
  const Interval i = ci ? *ci : Interval{estimate, estimate};  // one seed: the point itself
  return Part{std::move(where), estimate, i, ci_verdict(i.lo, i.hi, region)};
}

std::string with_ci_rule(const std::string& quantity) {
  return quantity + " Rule: " + k_ci_rule +
         "; parts (widths, sizes) combine: FAIL if any fails, else INCONCLUSIVE if any is, else "
         "PASS. 95% CI: percentile bootstrap redrawing the seeds of every sweep cell.";
}

Claim finish(const std::string& id, const std::string& rule, const std::vector<Part>& parts,
             const std::string& symbol, const std::string& why_skip) {
  if (parts.empty()) return Claim{id, Verdict::skip, why_skip, rule};
  std::vector<Verdict> verdicts;
  std::vector<std::string> texts;
  for (const auto& p : parts) {
    verdicts.push_back(p.verdict);
    texts.push_back(fmt::format("{}: {}={:.3f} [{:.3f}, {:.3f}] {}", p.where, symbol, p.estimate,
                                p.ci.lo, p.ci.hi, verdict_name(p.verdict)));
  }
  return Claim{id, combine_verdicts(verdicts), first_items(texts, 12), rule};
}

std::optional<double> power_exponent(const std::vector<double>& x, const std::vector<double>& y) {
  const auto f = fit_power_law(x, y);
  return f ? std::optional<double>(f->k) : std::nullopt;
}

std::vector<double> xs_of(const Series& s) {
  std::vector<double> x;
  for (const auto& p : s.points) x.push_back(p.x);
  return x;
}

std::vector<std::vector<double>> groups_of_points(const Series& s) {
  std::vector<std::vector<double>> g;
  for (const auto& p : s.points) g.push_back(p.values);
  return g;
}

// The noise series (r against p) per width at one m, those with ≥ 2 levels.
std::vector<Series> noise_series(const std::map<Coord, std::vector<double>>& cells, int64_t m) {
  auto all = make_series(cells, Axis::noise, Axis::width, [m](const Coord& c) { return c.m == m; });
  std::erase_if(all, [](const Series& s) { return s.points.size() < 2; });
  return all;
}

std::set<int64_t> ms_of(const std::map<Coord, std::vector<double>>& cells) {
  std::set<int64_t> ms;
  for (const auto& [c, v] : cells)
    if (!v.empty()) ms.insert(c.m);
  return ms;
}

std::string clean_widths(const std::map<Coord, std::vector<double>>& cells) {
  std::set<double> w;
  for (const auto& [c, v] : cells)
    if (!v.empty() && clean_labels(c)) w.insert(static_cast<double>(c.width));
  return list_values(w);
}

}  // namespace

std::vector<LineFit> fit_lines(const std::vector<const RunRecord*>& runs, const std::string& metric,
                               Axis x, Axis line, const std::function<bool(const Coord&)>& keep,
                               int min_points, int resamples, uint64_t seed) {
  std::vector<LineFit> out;
  for (const auto& s : make_series(cell_values(runs, metric), x, line, keep)) {
    if (static_cast<int>(s.points.size()) < min_points) continue;
    const std::vector<double> xs = xs_of(s);
    std::vector<double> means;
    for (const auto& p : s.points) means.push_back(p.y.mean);
    const auto fit = fit_power_law(xs, means);
    if (!fit) continue;
    const auto ci = bootstrap_statistic(
        groups_of_points(s), [&xs](const std::vector<double>& y) { return power_exponent(xs, y); },
        resamples,
        derive_seed(seed,
                    fmt::format("{}/{}/{}={}", metric, axis_name(x), axis_name(line), num(s.key))));
    out.push_back(LineFit{s.key, *fit, ci, s});
  }
  return out;
}

// ---- rules -------------------------------------------------------------------------------

std::string rule_r_flat_in_width() {
  return with_ci_rule(fmt::format(
      "On clean labels, at every m with ≥ {} widths: the exponent a of r ∝ H^a (least squares of "
      "log mean r on log H), claimed a {} (r constant or decreasing in H, at most a slight rise).",
      k_min_widths, region_text(Region{.hi = k_flat_exponent})));
}
std::string rule_r_growth_exponent() {
  return with_ci_rule(fmt::format(
      "On clean labels, at every width with ≥ {} values of m: the exponent k of r ∝ m^k, claimed "
      "k {} (the paper's 0.25–0.4, widened by 0.05 each side for its \"typically\").",
      k_min_ms, region_text(Region{k_exponent_lo, k_exponent_hi})));
}
std::string rule_gen_error_flat_in_width() {
  return with_ci_rule(fmt::format(
      "On clean labels, at every m with ≥ 2 widths: Δ = mean gen error (test − train error) at "
      "the largest width minus at the smallest, claimed Δ {}.",
      region_text(Region{.hi = k_gen_error_slack})));
}
std::string rule_r_rises_with_noise() {
  return with_ci_rule(
      "For every width and m with ≥ 2 noise levels: the least-squares slope s of mean r against "
      "the fraction p of noisy labels, claimed s > 0.");
}
std::string rule_noise_effect_grows_with_m() {
  return with_ci_rule(
      "For every width with noise sweeps at ≥ 2 values of m: Δ = slope of r against p at the "
      "largest m minus at the smallest, claimed Δ > 0 (the rise with noise is larger at larger "
      "m).");
}
std::string rule_growth_faster_for_small_width() {
  return with_ci_rule(fmt::format(
      "Δ = k(smallest H) − k(largest H) of r ∝ m^k (each width with ≥ {} values of m), claimed "
      "Δ > 0 (r grows faster with m for smaller H).",
      k_min_ms));
}
std::string rule_growth_faster_with_noise() {
  return with_ci_rule(fmt::format(
      "At every width both have (≥ {} values of m each): Δ = k on random labels (Figure 5) − k "
      "on clean labels with the same loss and lr (Figure 2, Experiment A), claimed Δ > 0.",
      k_min_ms));
}
std::string rule_metric_exponent_in_width(const std::string& what, const Region& region) {
  return with_ci_rule(fmt::format(
      "At every m (clean cells) with ≥ {} widths: the exponent a of {} ∝ H^a over seed means, "
      "claimed a {}.",
      k_min_widths, what, region_text(region)));
}
std::string rule_metric_exponent_in_m(const std::string& what, const Region& region) {
  return with_ci_rule(fmt::format(
      "At every width with ≥ {} values of m: the exponent b of {} ∝ m^b over seed means, claimed "
      "b {}.",
      k_min_ms_other, what, region_text(region)));
}

Claim skip_claim(const std::string& id, const std::string& rule, const std::string& why) {
  return Claim{id, Verdict::skip, why, rule};
}

// ---- checks ------------------------------------------------------------------------------

Claim check_r_flat_in_width(const std::string& id, const Experiment& e, const ClaimContext& c) {
  const Region region{.hi = k_flat_exponent};
  std::vector<Part> parts;
  for (const auto& f : fit_lines(e.runs, "dist_init", Axis::width, Axis::m, clean_labels,
                                 k_min_widths, c.resamples, c.seed))
    parts.push_back(part(fmt::format("m={}", num(f.key)), f.fit.k, f.ci, region));
  return finish(id, rule_r_flat_in_width(), parts, "a",
                fmt::format("needs ≥ {} widths at one m on clean labels (clean widths: {})",
                            k_min_widths, clean_widths(cell_values(e.runs, "dist_init"))));
}

Claim check_r_growth_exponent(const std::string& id, const Experiment& e, const ClaimContext& c) {
  const Region region{k_exponent_lo, k_exponent_hi};
  std::vector<Part> parts;
  for (const auto& f : fit_lines(e.runs, "dist_init", Axis::m, Axis::width, clean_labels, k_min_ms,
                                 c.resamples, c.seed))
    parts.push_back(part(fmt::format("H={}", num(f.key)), f.fit.k, f.ci, region));
  std::set<double> ms;
  for (int64_t m : ms_of(cell_values(e.runs, "dist_init"))) ms.insert(static_cast<double>(m));
  return finish(id, rule_r_growth_exponent(), parts, "k",
                fmt::format("needs ≥ {} values of m at one width on clean labels (m: {})", k_min_ms,
                            list_values(ms)));
}

Claim check_gen_error_flat_in_width(const std::string& id, const Experiment& e,
                                    const ClaimContext& c) {
  const Region region{.hi = k_gen_error_slack};
  const auto cells = cell_values(e.runs, "gen_error");
  std::vector<Part> parts;
  for (const auto& s : make_series(cells, Axis::width, Axis::m, clean_labels)) {
    if (s.points.size() < 2) continue;
    const auto& small = s.points.front();
    const auto& large = s.points.back();
    const auto ci = bootstrap_statistic(
        {small.values, large.values},
        [](const std::vector<double>& y) { return std::optional<double>(y[1] - y[0]); },
        c.resamples, derive_seed(c.seed, fmt::format("gen/m={}", num(s.key))));
    parts.push_back(part(fmt::format("m={} (H {}→{})", num(s.key), num(small.x), num(large.x)),
                         large.y.mean - small.y.mean, ci, region));
  }
  return finish(id, rule_gen_error_flat_in_width(), parts, "Δ",
                fmt::format("needs ≥ 2 widths at one m on clean labels (clean widths: {})",
                            clean_widths(cells)));
}

Claim check_r_rises_with_noise(const std::string& id, const Experiment& e, const ClaimContext& c) {
  const Region region{.lo = 0.0, .strict = true};
  const auto cells = cell_values(e.runs, "dist_init");
  std::vector<Part> parts;
  for (int64_t m : ms_of(cells))
    for (const auto& s : noise_series(cells, m)) {
      const std::vector<double> xs = xs_of(s);
      std::vector<double> means;
      for (const auto& p : s.points) means.push_back(p.y.mean);
      const auto ci = bootstrap_statistic(
          groups_of_points(s), [&xs](const std::vector<double>& y) { return slope(xs, y); },
          c.resamples, derive_seed(c.seed, fmt::format("noise/m={}/H={}", m, num(s.key))));
      parts.push_back(
          part(fmt::format("m={}, H={}", m, num(s.key)), *slope(xs, means), ci, region));
    }
  return finish(id, rule_r_rises_with_noise(), parts, "s",
                "needs ≥ 2 noise levels at one m and width");
}

Claim check_noise_effect_grows_with_m(const std::string& id, const Experiment& e,
                                      const ClaimContext& c) {
  const Region region{.lo = 0.0, .strict = true};
  const auto cells = cell_values(e.runs, "dist_init");
  // width → (m → its noise series)
  std::map<double, std::map<int64_t, Series>> by_width;
  for (int64_t m : ms_of(cells))
    for (const auto& s : noise_series(cells, m)) by_width[s.key][m] = s;
  std::vector<Part> parts;
  for (const auto& [width, per_m] : by_width) {
    if (per_m.size() < 2) continue;
    const auto& [m_lo, lo] = *per_m.begin();
    const auto& [m_hi, hi] = *per_m.rbegin();
    const std::vector<double> x_lo = xs_of(lo), x_hi = xs_of(hi);
    auto groups = groups_of_points(lo);
    for (auto& g : groups_of_points(hi)) groups.push_back(g);
    const size_t n_lo = lo.points.size();
    const auto stat = [&](const std::vector<double>& y) -> std::optional<double> {
      const auto a = slope(x_lo, std::span<const double>(y).first(n_lo));
      const auto b = slope(x_hi, std::span<const double>(y).subspan(n_lo));
      if (!a || !b) return std::nullopt;
      return *b - *a;
    };
    std::vector<double> means;
    for (const auto& g : groups) means.push_back(stats(g).mean);
    const auto ci = bootstrap_statistic(
        groups, stat, c.resamples, derive_seed(c.seed, fmt::format("noise-m/H={}", num(width))));
    parts.push_back(
        part(fmt::format("H={}, m {}→{}", num(width), m_lo, m_hi), *stat(means), ci, region));
  }
  return finish(id, rule_noise_effect_grows_with_m(), parts, "Δ",
                "needs noise sweeps at ≥ 2 values of m for one width");
}

namespace {

// Δ = k_a − k_b of two fits, with the interval over both fits' cells.
Part exponent_difference(const std::string& where, const LineFit& a, const LineFit& b,
                         const Region& region, const ClaimContext& c, const std::string& name) {
  const std::vector<double> xa = xs_of(a.data), xb = xs_of(b.data);
  auto groups = groups_of_points(a.data);
  for (auto& g : groups_of_points(b.data)) groups.push_back(g);
  const size_t na = xa.size();
  const auto stat = [&](const std::vector<double>& y) -> std::optional<double> {
    const auto ka = power_exponent(xa, std::vector<double>(y.begin(), y.begin() + na));
    const auto kb = power_exponent(xb, std::vector<double>(y.begin() + na, y.end()));
    if (!ka || !kb) return std::nullopt;
    return *ka - *kb;
  };
  const auto ci = bootstrap_statistic(groups, stat, c.resamples, derive_seed(c.seed, name));
  return part(where, a.fit.k - b.fit.k, ci, region);
}

}  // namespace

Claim check_growth_faster_for_small_width(const std::string& id, const Experiment& e,
                                          const ClaimContext& c) {
  const auto fits = fit_lines(e.runs, "dist_init", Axis::m, Axis::width, clean_labels, k_min_ms,
                              c.resamples, c.seed);
  std::vector<Part> parts;
  if (fits.size() >= 2)
    parts.push_back(exponent_difference(
        fmt::format("k(H={}) {:.3f} − k(H={}) {:.3f}", num(fits.front().key), fits.front().fit.k,
                    num(fits.back().key), fits.back().fit.k),
        fits.front(), fits.back(), Region{.lo = 0.0, .strict = true}, c, "faster-small-H"));
  return finish(id, rule_growth_faster_for_small_width(), parts, "Δ",
                fmt::format("needs ≥ 2 widths with ≥ {} values of m each", k_min_ms));
}

Claim check_growth_faster_with_noise(const std::string& id, const Experiment& random_labels,
                                     const Experiment& clean, const ClaimContext& c) {
  const auto noisy = fit_lines(random_labels.runs, "dist_init", Axis::m, Axis::width, clean_labels,
                               k_min_ms, c.resamples, c.seed);
  const auto plain = fit_lines(clean.runs, "dist_init", Axis::m, Axis::width, clean_labels,
                               k_min_ms, c.resamples, c.seed);
  std::vector<Part> parts;
  for (const auto& a : noisy)
    for (const auto& b : plain)
      if (a.key == b.key)
        parts.push_back(exponent_difference(
            fmt::format("H={}: k {:.3f} − {:.3f}", num(a.key), a.fit.k, b.fit.k), a, b,
            Region{.lo = 0.0, .strict = true}, c, fmt::format("faster-noise/H={}", num(a.key))));
  return finish(id, rule_growth_faster_with_noise(), parts, "Δ",
                fmt::format("needs a width with ≥ {} values of m in both experiments", k_min_ms));
}

Claim check_metric_exponent_in_width(const std::string& id, const std::string& what,
                                     const std::vector<const RunRecord*>& runs,
                                     const std::string& metric, const Region& region,
                                     const ClaimContext& c) {
  std::vector<Part> parts;
  for (const auto& f : fit_lines(runs, metric, Axis::width, Axis::m, clean_labels, k_min_widths,
                                 c.resamples, c.seed))
    parts.push_back(part(fmt::format("m={}", num(f.key)), f.fit.k, f.ci, region));
  return finish(id, rule_metric_exponent_in_width(what, region), parts, "a",
                fmt::format("needs ≥ {} widths at one m with {}", k_min_widths, metric));
}

Claim check_metric_exponent_in_m(const std::string& id, const std::string& what,
                                 const std::vector<const RunRecord*>& runs,
                                 const std::string& metric, const Region& region,
                                 const ClaimContext& c) {
  std::vector<Part> parts;
  for (const auto& f : fit_lines(runs, metric, Axis::m, Axis::width, clean_labels, k_min_ms_other,
                                 c.resamples, c.seed))
    parts.push_back(part(fmt::format("H={}", num(f.key)), f.fit.k, f.ci, region));
  return finish(id, rule_metric_exponent_in_m(what, region), parts, "b",
                fmt::format("needs ≥ {} values of m at one width with {}", k_min_ms_other, metric));
}

// ---- the theory checks on the initialization ----------------------------------------------

std::string claim_rule(const std::string& id) {
  if (id == k_claim_theory)
    return fmt::format(
        "On the initialization (init-only runs, else the trained runs' stored Z norms), with ≥ {} "
        "widths: exponent of ‖Z_k‖₂ in H within ±{} for hidden layers k = 2..d−1; of ‖Z_k‖_F in "
        "[{}, {}]; of Π‖Z_k‖_F² at least d−2 − {} (a lower bound, Proposition 6.1); and Π‖W_k‖₂ ≤ "
        "Π(‖Z_k‖₂ + r) "
        "(prop62_holds = 1) for every trained converged run. PASS iff every check that ran passes.",
        k_min_widths, k_spec_exponent_tol, k_fro_exponent_lo, k_fro_exponent_hi, k_prod_fro_tol);
  return "";
}

namespace {

Claim make(const char* id, Verdict v, std::string figure) {
  return Claim{id, v, std::move(figure), claim_rule(id)};
}

}  // namespace

std::vector<TheoryGroup> theory_groups(const std::vector<const RunRecord*>& init_only,
                                       const std::vector<const RunRecord*>& trained) {
  std::vector<TheoryGroup> out;
  const auto init_groups = group_runs(init_only, init_key);
  for (const auto& g : init_groups) out.push_back(TheoryGroup{g, true});
  for (const auto& g : group_runs(trained, init_key)) {
    const bool covered = std::any_of(init_groups.begin(), init_groups.end(),
                                     [&](const Experiment& i) { return i.key == g.key; });
    if (!covered) out.push_back(TheoryGroup{g, false});
  }
  for (auto& g : out)
    g.runs.label += g.init_only ? " (init-only runs)" : " (initialization of trained runs)";
  return out;
}

namespace {

struct WidthFit {
  std::optional<PowerFit> fit;
  std::string note;  // widths used, or why there is no fit
};

WidthFit fit_in_width(const TheoryGroup& g, const std::string& metric) {
  const auto values = width_values_unique_seed(g.runs.runs, metric);
  std::vector<double> x, y;
  std::set<double> widths;
  for (const auto& [w, v] : values) {
    if (v.empty()) continue;
    x.push_back(static_cast<double>(w));
    y.push_back(stats(v).mean);
    widths.insert(static_cast<double>(w));
  }
  if (static_cast<int>(x.size()) < k_min_widths)
    return {std::nullopt, fmt::format("needs ≥ {} widths with {} (found: {})", k_min_widths, metric,
                                      list_values(widths))};
  auto fit = fit_power_law(x, y);
  if (!fit) return {std::nullopt, fmt::format("{} has non-positive values", metric)};
  return {fit, fmt::format("H = {}", list_values(widths))};
}

}  // namespace

namespace {

using Kind = TheoryCheck::Kind;

// The exponent in H of `metric` over a group's widths, checked by `rule` (none: information).
TheoryCheck exponent_check(const TheoryGroup& g, Kind kind, const std::string& metric,
                           const std::string& what, const std::string& expected,
                           const std::function<bool(double)>& rule) {
  const WidthFit f = fit_in_width(g, metric);
  TheoryCheck c{kind, g.runs.label, what, std::nullopt, expected, std::nullopt, f.note};
  if (f.fit) {
    c.measured = f.fit->k;
    if (rule) c.verdict = rule(f.fit->k) ? Verdict::pass : Verdict::fail;
  } else if (rule) {
    c.verdict = Verdict::skip;
  }
  return c;
}

// Corollary A.2.1 on the hidden layers k = 2..d−1: ‖Z_k‖₂ = Θ(1), ‖Z_k‖_F ∝ √H.
void add_hidden_layer_checks(const TheoryGroup& g, std::vector<TheoryCheck>& out) {
  const int d = g.runs.depth;
  if (d < 3) {
    out.push_back(TheoryCheck{Kind::spec, g.runs.label, "hidden layers", std::nullopt, "",
                              Verdict::skip,
                              fmt::format("depth {} has no hidden-to-hidden layer", d)});
  }
  for (int k = 2; k <= d - 1; ++k) {
    out.push_back(exponent_check(g, Kind::spec, fmt::format("spec_z{}", k),
                                 fmt::format("‖Z_{}‖₂: exponent in H", k),
                                 fmt::format("|k| ≤ {}", k_spec_exponent_tol),
                                 [](double e) { return std::fabs(e) <= k_spec_exponent_tol; }));
  }
  for (int k = 2; k <= d - 1; ++k) {
    out.push_back(exponent_check(
        g, Kind::fro, fmt::format("fro_z{}", k), fmt::format("‖Z_{}‖_F: exponent in H", k),
        fmt::format("k ∈ [{}, {}]", k_fro_exponent_lo, k_fro_exponent_hi),
        [](double e) { return e >= k_fro_exponent_lo && e <= k_fro_exponent_hi; }));
  }
}

// Proposition 6.1: Π‖Z_k‖_F² = Ω̃(H^(d−2)), with the input and output layers' exponents as
// information rows.
void add_product_checks(const TheoryGroup& g, std::vector<TheoryCheck>& out) {
  const int d = g.runs.depth;
  if (d < 2) return;
  const double target = d - 2;
  TheoryCheck prod =
      exponent_check(g, Kind::prod_fro, "prod_fro2_z", "Π‖Z_k‖_F²: exponent in H",
                     fmt::format("k ≥ {} − {} (Proposition 6.1: Ω̃(H^(d−2)), d − 2 = {})", d - 2,
                                 k_prod_fro_tol, d - 2),
                     [target](double e) { return e >= target - k_prod_fro_tol; });
  // The input and output layers' Frobenius norms explain where the product's exponent departs
  // from d − 2: Xavier's std √(2/(fan_in + fan_out)) makes ‖Z_1‖_F² = 2·n·H/(n + H), which
  // still grows with H while H is not ≫ n. Shown, not checked.
  const TheoryCheck in = exponent_check(g, Kind::info, "fro_z1",
                                        "‖Z_1‖_F (input layer): exponent in H", "information", {});
  const TheoryCheck last =
      exponent_check(g, Kind::info, fmt::format("fro_z{}", d),
                     fmt::format("‖Z_{}‖_F (output layer): exponent in H", d), "information", {});
  if (in.measured && last.measured && prod.measured)
    prod.note += fmt::format(
        "; hidden layers give {}, input and output layers add 2 × ({:.3f} + {:.3f}) = {:.3f}: "
        "together {:.3f}",
        d - 2, *in.measured, *last.measured, 2 * (*in.measured + *last.measured),
        d - 2 + 2 * (*in.measured + *last.measured));
  out.push_back(prod);
  out.push_back(in);
  out.push_back(last);
}

// Proposition 6.2 (prop62_holds) on every trained, converged run.
TheoryCheck prop62_check(const std::vector<const RunRecord*>& trained) {
  int holds = 0, total = 0, missing = 0;
  std::vector<std::string> broken;
  for (const RunRecord* r : trained) {
    const auto it = r->metrics.find("prop62_holds");
    if (it == r->metrics.end() || !std::isfinite(it->second)) {
      ++missing;
      continue;
    }
    ++total;
    if (it->second == 1.0)
      ++holds;
    else
      broken.push_back(fmt::format("run {}", r->id));
  }
  TheoryCheck p{Kind::prop62,
                "trained, converged runs",
                "Π‖W_k‖₂ ≤ Π(‖Z_k‖₂ + r) (prop62_holds)",
                std::nullopt,
                "holds for every run",
                std::nullopt,
                ""};
  if (total == 0) {
    p.verdict = Verdict::skip;
    p.note = missing ? fmt::format("{} trained runs lack prop62_holds", missing)
                     : "no trained, converged runs";
    return p;
  }
  p.measured = static_cast<double>(holds) / total;
  p.verdict = holds == total ? Verdict::pass : Verdict::fail;
  p.note = fmt::format("{}/{} runs hold", holds, total);
  if (!broken.empty()) p.note += "; fails in " + first_items(broken);
  if (missing) p.note += fmt::format("; {} runs lack the metric", missing);
  return p;
}

}  // namespace

std::vector<TheoryCheck> theory_checks(const std::vector<TheoryGroup>& groups,
                                       const std::vector<const RunRecord*>& trained) {
  std::vector<TheoryCheck> out;
  for (const auto& g : groups) {
    add_hidden_layer_checks(g, out);
    add_product_checks(g, out);
  }
  out.push_back(prop62_check(trained));
  return out;
}

namespace {

// What check_theory reads off the checks that carry a verdict.
struct Tally {
  int ran = 0, failed = 0;
  std::vector<std::string> fails, skips;
  std::map<Kind, std::pair<double, double>> ranges;  // min, max measured exponent per kind
  std::string prop;                                  // Proposition 6.2's note
};

std::string failure_text(const TheoryCheck& c) {
  if (c.kind == Kind::prop62) return fmt::format("Prop. 6.2 {}", c.note);
  if (c.kind == Kind::prod_fro)  // its note says where the exponent comes from
    return fmt::format("{} = {:.3f}, rule {} ({})", c.what, *c.measured, c.expected, c.note);
  return fmt::format("{} = {:.3f}, rule {}", c.what, *c.measured, c.expected);
}

Tally tally(const std::vector<TheoryCheck>& checks) {
  Tally t;
  for (const auto& c : checks) {
    if (!c.verdict) continue;
    if (*c.verdict == Verdict::skip) {
      t.skips.push_back(fmt::format("{}: {}", c.what, c.note));
      continue;
    }
    ++t.ran;
    if (*c.verdict == Verdict::fail) {
      ++t.failed;
      t.fails.push_back(failure_text(c));
    }
    if (c.kind == Kind::prop62) {
      t.prop = c.note;
    } else if (c.measured) {
      auto [it, fresh] = t.ranges.try_emplace(c.kind, *c.measured, *c.measured);
      if (!fresh)
        it->second = {std::min(it->second.first, *c.measured),
                      std::max(it->second.second, *c.measured)};
    }
  }
  return t;
}

// "‖Z_k‖₂ exponents 0.000; ...; Prop. 6.2 56/56 runs hold": the ranges of exponents per kind.
std::vector<std::string> measured_parts(const Tally& t) {
  auto range = [&](Kind k, const char* name) -> std::string {
    const auto it = t.ranges.find(k);
    if (it == t.ranges.end()) return "";
    const auto [lo, hi] = it->second;
    return lo == hi ? fmt::format("{} {:.3f}", name, lo)
                    : fmt::format("{} {:.3f}..{:.3f}", name, lo, hi);
  };
  std::vector<std::string> parts;
  for (const auto& s :
       {range(Kind::spec, "‖Z_k‖₂ exponents"), range(Kind::fro, "‖Z_k‖_F exponents"),
        range(Kind::prod_fro, "Π‖Z_k‖_F² exponent")})
    if (!s.empty()) parts.push_back(s);
  if (!t.prop.empty()) parts.push_back("Prop. 6.2 " + t.prop);
  return parts;
}

}  // namespace

Claim check_theory(const std::vector<TheoryCheck>& checks) {
  const Tally t = tally(checks);
  if (t.ran == 0) {
    // One reason per distinct note is enough.
    std::set<std::string> seen;
    std::vector<std::string> why;
    for (const auto& s : t.skips)
      if (seen.insert(s).second) why.push_back(s);
    return make(k_claim_theory, Verdict::skip, "no theory check could run: " + first_items(why, 3));
  }
  const auto parts = measured_parts(t);
  std::string fig = fmt::format("{}/{} checks pass", t.ran - t.failed, t.ran);
  if (!parts.empty()) fig += " (" + first_items(parts, 8) + ")";
  if (!t.fails.empty()) fig += "; failing: " + first_items(t.fails);
  if (!t.skips.empty()) fig += fmt::format("; skipped: {}", first_items(t.skips, 2));
  return make(k_claim_theory, t.failed ? Verdict::fail : Verdict::pass, fig);
}

}  // namespace initscope::report::nk17
