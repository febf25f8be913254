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

// One part of a claim (a width, an m): its estimate, interval and verdict, or why the runs left
// cannot decide it (`thin`: the part is INCONCLUSIVE whatever its interval).
struct Part {
  std::string where;
  double estimate = 0.0;
  Interval ci;
  Verdict verdict = Verdict::skip;
  std::string thin = {};
  bool has_estimate = true;
};

// A cell of `series` (one of the series a part reads) left with a single seed: its interval
// would be the point estimate itself.
std::optional<std::string> one_seed_cell(const Series& s, Axis x, Axis line) {
  for (const auto& p : s.points)
    if (p.values.size() < 2)
      return fmt::format("the cell {}={}, {}={} has {} seed", axis_name(line), num(s.key),
                         axis_name(x), num(p.x), p.values.size());
  return std::nullopt;
}

Part part(std::string where, double estimate, const std::optional<Interval>& ci,
          const Region& region, const std::vector<const Series*>& used = {}, Axis x = Axis::m,
          Axis line = Axis::width) {
  const Interval i = ci ? *ci : Interval{estimate, estimate};  // one seed: the point itself
  Part p{std::move(where), estimate, i, ci_verdict(i.lo, i.hi, region)};
  for (const Series* s : used)
    if (const auto why = one_seed_cell(*s, x, line)) {
      p.thin = *why;
      p.verdict = Verdict::inconclusive;
      break;
    }
  return p;
}

// A part the design asked for (its runs, excluded ones included, span enough values) that the
// runs left cannot fit.
Part thin_part(std::string where, std::string why) {
  Part p{std::move(where), 0.0, {}, Verdict::inconclusive, std::move(why)};
  p.has_estimate = false;
  return p;
}

std::string with_ci_rule(const std::string& quantity) {
  return quantity + " Rule: " + k_ci_rule +
         "; INCONCLUSIVE also when the runs left after exclusions are too thin (fewer than the "
         "widths or values of m above, a cell with one seed, or half of the cells' runs "
         "excluded); parts (widths, sizes) combine: FAIL if any fails, else INCONCLUSIVE if any "
         "is, else PASS. 95% CI: percentile bootstrap redrawing the seeds of every sweep cell.";
}

// The runs of `e` in the cells `keep` accepts: used (with a finite `metric`) and excluded.
Coverage coverage_of(const Experiment& e, const std::function<bool(const Coord&)>& keep,
                     const std::string& metric) {
  Coverage c;
  std::vector<const RunRecord*> out;
  for (const RunRecord* r : e.runs) {
    if (keep && !keep(coord_of(*r))) continue;
    const auto it = r->metrics.find(metric);
    if (it == r->metrics.end() || !std::isfinite(it->second)) continue;
    ++c.used;
    if (is_capped(*r)) ++c.capped_used;
  }
  for (const RunRecord* r : e.excluded)
    if (!keep || keep(coord_of(*r))) out.push_back(r);
  c.excluded = static_cast<int>(out.size());
  c.why = exclusion_summary(out);
  return c;
}

// The claim from its parts under the CI rule, with coverage: no part → INCONCLUSIVE with
// `why_none` if the experiment has runs in the claim's cells (too thin to decide), SKIP if it
// has none; half or more of the cells' runs excluded → INCONCLUSIVE (what is left is a
// selection, not a sample).
Claim finish(const std::string& id, const std::string& rule, const std::vector<Part>& parts,
             const std::string& symbol, const Region& region, const std::string& why_none,
             const Coverage& coverage) {
  Claim out{
      id,    Verdict::skip, "", rule, fmt::format("95% CI of {} {}", symbol, region_text(region)),
      false, coverage};
  if (parts.empty()) {
    if (coverage.used + coverage.excluded == 0) {
      out.figure = why_none;
      return out;
    }
    out.verdict = Verdict::inconclusive;
    out.figure = "too thin to decide: " + why_none;
    return out;
  }
  std::vector<Verdict> verdicts;
  std::vector<std::string> texts;
  for (const auto& p : parts) {
    verdicts.push_back(p.verdict);
    std::string t = p.has_estimate
                        ? fmt::format("{}: {}={:.3f} [{:.3f}, {:.3f}] {}", p.where, symbol,
                                      p.estimate, p.ci.lo, p.ci.hi, verdict_name(p.verdict))
                        : fmt::format("{}: {}", p.where, verdict_name(p.verdict));
    if (!p.thin.empty()) t += " (" + p.thin + ")";
    texts.push_back(t);
  }
  out.verdict = combine_verdicts(verdicts);
  out.figure = first_items(texts, 12);
  const int total = coverage.used + coverage.excluded;
  if (coverage.excluded > 0 && 2 * coverage.excluded >= total &&
      out.verdict != Verdict::inconclusive) {
    out.figure += fmt::format("; would be {}, but {} of the cells' {} runs were excluded",
                              verdict_name(out.verdict), coverage.excluded, total);
    out.verdict = Verdict::inconclusive;
  }
  return out;
}

// The lines of the experiment's design (every run, excluded ones included) along `x`, per value
// of `line`, over the cells `keep` accepts: line key → the x values the sweep asked for.
std::map<double, std::set<double>> design_lines(const Experiment& e, Axis x, Axis line,
                                                const std::function<bool(const Coord&)>& keep) {
  std::map<double, std::set<double>> out;
  const auto add = [&](const RunRecord* r) {
    const Coord c = coord_of(*r);
    if (!keep || keep(c)) out[axis_value(c, line)].insert(axis_value(c, x));
  };
  for (const RunRecord* r : e.runs) add(r);
  for (const RunRecord* r : e.excluded) add(r);
  return out;
}

// Parts of a power-law claim along `x`, one per line of the design with ≥ min_points values
// of x: the CI rule on the line's fit, or INCONCLUSIVE if the runs left have too few values
// of x or a cell of one seed.
std::vector<Part> power_parts(const Experiment& e, const std::string& metric, Axis x, Axis line,
                              const std::function<bool(const Coord&)>& keep, int min_points,
                              const Region& region, const ClaimContext& c) {
  const auto fits = fit_lines(e.runs, metric, x, line, keep, min_points, c.resamples, c.seed);
  std::vector<Part> parts;
  for (const auto& [key, xs] : design_lines(e, x, line, keep)) {
    const auto it =
        std::find_if(fits.begin(), fits.end(), [key](const LineFit& f) { return f.key == key; });
    const std::string where = fmt::format("{}={}", axis_name(line), num(key));
    if (it != fits.end()) {
      parts.push_back(part(where, it->fit.k, it->ci, region, {&it->data}, x, line));
      continue;
    }
    if (static_cast<int>(xs.size()) < min_points) continue;  // the sweep never asked for it
    std::set<double> left;
    for (const auto& s : make_series(cell_values(e.runs, metric), x, line, keep))
      if (s.key == key)
        for (const auto& p : s.points) left.insert(p.x);
    parts.push_back(thin_part(
        where,
        fmt::format("{} value{} of {} left after exclusions ({}), needs {}", left.size(),
                    left.size() == 1 ? "" : "s", axis_name(x), list_values(left), min_points)));
  }
  return parts;
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
      "On clean labels, at every m with ≥ {} widths: Δ = mean gen error (test − train error, a "
      "fraction) at the largest width minus at the smallest, claimed Δ {}.",
      k_min_widths, region_text(Region{.hi = k_gen_error_slack})));
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
  const auto parts =
      power_parts(e, "dist_init", Axis::width, Axis::m, clean_labels, k_min_widths, region, c);
  return finish(id, rule_r_flat_in_width(), parts, "a", region,
                fmt::format("needs ≥ {} widths at one m on clean labels (clean widths left: {})",
                            k_min_widths, clean_widths(cell_values(e.runs, "dist_init"))),
                coverage_of(e, clean_labels, "dist_init"));
}

Claim check_r_growth_exponent(const std::string& id, const Experiment& e, const ClaimContext& c) {
  const Region region{k_exponent_lo, k_exponent_hi};
  const auto parts =
      power_parts(e, "dist_init", Axis::m, Axis::width, clean_labels, k_min_ms, region, c);
  std::set<double> ms;
  for (int64_t m : ms_of(cell_values(e.runs, "dist_init"))) ms.insert(static_cast<double>(m));
  return finish(id, rule_r_growth_exponent(), parts, "k", region,
                fmt::format("needs ≥ {} values of m at one width on clean labels (m left: {})",
                            k_min_ms, list_values(ms)),
                coverage_of(e, clean_labels, "dist_init"));
}

Claim check_gen_error_flat_in_width(const std::string& id, const Experiment& e,
                                    const ClaimContext& c) {
  const Region region{.hi = k_gen_error_slack};
  const auto cells = cell_values(e.runs, "gen_error");
  const auto design = design_lines(e, Axis::width, Axis::m, clean_labels);
  std::vector<Part> parts;
  for (const auto& s : make_series(cells, Axis::width, Axis::m, clean_labels)) {
    if (static_cast<int>(s.points.size()) < k_min_widths) {
      const auto d = design.find(s.key);
      if (d != design.end() && static_cast<int>(d->second.size()) >= k_min_widths)
        parts.push_back(thin_part(fmt::format("m={}", num(s.key)),
                                  fmt::format("{} widths left after exclusions, needs {}",
                                              s.points.size(), k_min_widths)));
      continue;
    }
    const auto& small = s.points.front();
    const auto& large = s.points.back();
    const auto ci = bootstrap_statistic(
        {small.values, large.values},
        [](const std::vector<double>& y) { return std::optional<double>(y[1] - y[0]); },
        c.resamples, derive_seed(c.seed, fmt::format("gen/m={}", num(s.key))));
    parts.push_back(part(fmt::format("m={} (H {}→{})", num(s.key), num(small.x), num(large.x)),
                         large.y.mean - small.y.mean, ci, region, {&s}, Axis::width, Axis::m));
  }
  return finish(id, rule_gen_error_flat_in_width(), parts, "Δ", region,
                fmt::format("needs ≥ {} widths at one m on clean labels (clean widths left: {})",
                            k_min_widths, clean_widths(cells)),
                coverage_of(e, clean_labels, "gen_error"));
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
      parts.push_back(part(fmt::format("m={}, H={}", m, num(s.key)), *slope(xs, means), ci, region,
                           {&s}, Axis::noise, Axis::width));
    }
  return finish(id, rule_r_rises_with_noise(), parts, "s", region,
                "needs ≥ 2 noise levels at one m and width", coverage_of(e, {}, "dist_init"));
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
    parts.push_back(part(fmt::format("H={}, m {}→{}", num(width), m_lo, m_hi), *stat(means), ci,
                         region, {&lo, &hi}, Axis::noise, Axis::width));
  }
  return finish(id, rule_noise_effect_grows_with_m(), parts, "Δ", region,
                "needs noise sweeps at ≥ 2 values of m for one width",
                coverage_of(e, {}, "dist_init"));
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
  return part(where, a.fit.k - b.fit.k, ci, region, {&a.data, &b.data});
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
                Region{.lo = 0.0, .strict = true},
                fmt::format("needs ≥ 2 widths with ≥ {} values of m each", k_min_ms),
                coverage_of(e, clean_labels, "dist_init"));
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
  Coverage cov = coverage_of(random_labels, clean_labels, "dist_init");
  const Coverage other = coverage_of(clean, clean_labels, "dist_init");
  cov.used += other.used;
  cov.capped_used += other.capped_used;
  cov.excluded += other.excluded;
  if (!other.why.empty()) cov.why += (cov.why.empty() ? "" : "; ") + other.why;
  return finish(id, rule_growth_faster_with_noise(), parts, "Δ", Region{.lo = 0.0, .strict = true},
                fmt::format("needs a width with ≥ {} values of m in both experiments", k_min_ms),
                cov);
}

Claim check_metric_exponent_in_width(const std::string& id, const std::string& what,
                                     const std::vector<const RunRecord*>& runs,
                                     const std::string& metric, const Region& region,
                                     const ClaimContext& c) {
  const Experiment e{{}, "", 0, runs};
  const auto parts =
      power_parts(e, metric, Axis::width, Axis::m, clean_labels, k_min_widths, region, c);
  return finish(id, rule_metric_exponent_in_width(what, region), parts, "a", region,
                fmt::format("needs ≥ {} widths at one m with {}", k_min_widths, metric),
                coverage_of(e, clean_labels, metric));
}

Claim check_metric_exponent_in_m(const std::string& id, const std::string& what,
                                 const std::vector<const RunRecord*>& runs,
                                 const std::string& metric, const Region& region,
                                 const ClaimContext& c) {
  const Experiment e{{}, "", 0, runs};
  const auto parts =
      power_parts(e, metric, Axis::m, Axis::width, clean_labels, k_min_ms_other, region, c);
  return finish(id, rule_metric_exponent_in_m(what, region), parts, "b", region,
                fmt::format("needs ≥ {} values of m at one width with {}", k_min_ms_other, metric),
                coverage_of(e, clean_labels, metric));
}

// ---- the theory checks on the initialization ----------------------------------------------

std::string claim_rule(const std::string& id) {
  if (id == k_claim_theory)
    return fmt::format(
        "On the initialization (init-only runs, else the trained runs' stored Z norms), with ≥ {} "
        "widths: the exponent in H of ‖Z_k‖₂ in [−{}, {}] for hidden layers k = 2..d−1; of "
        "‖Z_k‖_F in [{}, {}]; of Π‖Z_k‖_F² at least d−2 − {} (a lower bound, Proposition 6.1). "
        "Each exponent: least squares over the seed means per width, with a 95% percentile "
        "bootstrap interval over seeds; PASS if the interval lies inside the region, FAIL if "
        "outside, INCONCLUSIVE if it straddles an end or a width has one seed. The claim: FAIL "
        "if any check fails, else INCONCLUSIVE if any is, else PASS.",
        k_min_widths, k_spec_exponent_tol, k_spec_exponent_tol, k_fro_exponent_lo,
        k_fro_exponent_hi, k_prod_fro_tol);
  if (id == k_claim_prop62)
    return "Proposition 6.2: Π‖W_k‖₂ ≤ Π(‖Z_k‖₂ + r) (prop62_holds = 1) in every trained run. It "
           "holds by the triangle inequality and submultiplicativity unless a norm is computed "
           "wrongly: a consistency check of the code, not a reproduced claim.";
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
  std::optional<Interval> ci;  // over seeds (bootstrap_statistic)
  bool one_seed = false;       // a width with a single seed: no interval
  std::string note;            // widths used, or why there is no fit
};

WidthFit fit_in_width(const TheoryGroup& g, const std::string& metric, const ClaimContext& ctx) {
  const auto values = width_values_unique_seed(g.runs.runs, metric);
  std::vector<double> x, y;
  std::vector<std::vector<double>> groups;
  std::set<double> widths;
  bool one_seed = false;
  for (const auto& [w, v] : values) {
    if (v.empty()) continue;
    x.push_back(static_cast<double>(w));
    y.push_back(stats(v).mean);
    groups.push_back(v);
    one_seed = one_seed || v.size() < 2;
    widths.insert(static_cast<double>(w));
  }
  WidthFit out;
  if (static_cast<int>(x.size()) < k_min_widths) {
    out.note = fmt::format("needs ≥ {} widths with {} (found: {})", k_min_widths, metric,
                           list_values(widths));
    return out;
  }
  out.fit = fit_power_law(x, y);
  if (!out.fit) {
    out.note = fmt::format("{} has non-positive values", metric);
    return out;
  }
  out.ci = bootstrap_statistic(
      groups, [&x](const std::vector<double>& means) { return power_exponent(x, means); },
      ctx.resamples, derive_seed(ctx.seed, g.runs.key.dump() + "/" + metric));
  out.one_seed = one_seed;
  out.note = fmt::format("H = {}{}", list_values(widths),
                         one_seed ? "; a width has one seed: no interval" : "");
  return out;
}

using Kind = TheoryCheck::Kind;

// The exponent in H of `metric` over a group's widths with its interval over seeds, judged by
// the CI rule against `region` (none: information).
TheoryCheck exponent_check(const TheoryGroup& g, Kind kind, const std::string& metric,
                           const std::string& what, const std::optional<Region>& region,
                           const ClaimContext& ctx, const std::string& why = "") {
  const WidthFit f = fit_in_width(g, metric, ctx);
  TheoryCheck c;
  c.kind = kind;
  c.group = g.runs.label;
  c.what = what;
  c.expected = region ? "95% CI " + region_text(*region) + why : "information";
  c.note = f.note;
  if (f.fit) {
    c.measured = f.fit->k;
    c.ci = f.ci;
    if (region) {
      const Interval i = f.ci ? *f.ci : Interval{f.fit->k, f.fit->k};
      c.verdict = f.one_seed ? Verdict::inconclusive : ci_verdict(i.lo, i.hi, *region);
    }
  } else if (region) {
    c.verdict = Verdict::skip;
  }
  return c;
}

// Corollary A.2.1 on the hidden layers k = 2..d−1: ‖Z_k‖₂ = Θ(1), ‖Z_k‖_F ∝ √H.
void add_hidden_layer_checks(const TheoryGroup& g, const ClaimContext& ctx,
                             std::vector<TheoryCheck>& out) {
  const int d = g.runs.depth;
  if (d < 3) {
    TheoryCheck c;
    c.kind = Kind::spec;
    c.group = g.runs.label;
    c.what = "hidden layers";
    c.verdict = Verdict::skip;
    c.note = fmt::format("depth {} has no hidden-to-hidden layer", d);
    out.push_back(c);
  }
  for (int k = 2; k <= d - 1; ++k)
    out.push_back(exponent_check(g, Kind::spec, fmt::format("spec_z{}", k),
                                 fmt::format("‖Z_{}‖₂: exponent in H", k),
                                 Region{-k_spec_exponent_tol, k_spec_exponent_tol}, ctx));
  for (int k = 2; k <= d - 1; ++k)
    out.push_back(exponent_check(g, Kind::fro, fmt::format("fro_z{}", k),
                                 fmt::format("‖Z_{}‖_F: exponent in H", k),
                                 Region{k_fro_exponent_lo, k_fro_exponent_hi}, ctx));
}

// Proposition 6.1: Π‖Z_k‖_F² = Ω̃(H^(d−2)), with the input and output layers' exponents as
// information rows.
void add_product_checks(const TheoryGroup& g, const ClaimContext& ctx,
                        std::vector<TheoryCheck>& out) {
  const int d = g.runs.depth;
  if (d < 2) return;
  TheoryCheck prod = exponent_check(
      g, Kind::prod_fro, "prod_fro2_z", "Π‖Z_k‖_F²: exponent in H",
      Region{.lo = d - 2 - k_prod_fro_tol}, ctx,
      fmt::format(" (Proposition 6.1: Ω̃(H^(d−2)), d − 2 = {}, less {})", d - 2, k_prod_fro_tol));
  // The input and output layers' Frobenius norms explain where the product's exponent departs
  // from d − 2: Xavier's std √(2/(fan_in + fan_out)) makes ‖Z_1‖_F² = 2·n·H/(n + H), which
  // still grows with H while H is not ≫ n. Shown, not checked.
  const TheoryCheck in = exponent_check(g, Kind::info, "fro_z1",
                                        "‖Z_1‖_F (input layer): exponent in H", std::nullopt, ctx);
  const TheoryCheck last =
      exponent_check(g, Kind::info, fmt::format("fro_z{}", d),
                     fmt::format("‖Z_{}‖_F (output layer): exponent in H", d), std::nullopt, ctx);
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
  TheoryCheck p;
  p.kind = Kind::prop62;
  p.group = "trained, converged runs";
  p.what = "Π‖W_k‖₂ ≤ Π(‖Z_k‖₂ + r) (prop62_holds)";
  p.expected = "holds for every run (consistency check)";
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
                                       const std::vector<const RunRecord*>& trained,
                                       const ClaimContext& ctx) {
  std::vector<TheoryCheck> out;
  for (const auto& g : groups) {
    add_hidden_layer_checks(g, ctx, out);
    add_product_checks(g, ctx, out);
  }
  out.push_back(prop62_check(trained));
  return out;
}

namespace {

// What check_theory reads off the checks that carry a verdict (Proposition 6.2 apart).
struct Tally {
  int ran = 0, failed = 0, open = 0;
  std::vector<std::string> fails, opens, skips;
  std::map<Kind, std::pair<double, double>> ranges;  // min, max measured exponent per kind
  std::map<Kind, std::pair<double, double>> cis;     // lowest and highest interval end per kind
};

std::string check_text(const TheoryCheck& c) {
  std::string s = fmt::format("{} = {:.3f}", c.what, *c.measured);
  if (c.ci) s += fmt::format(" [{:.3f}, {:.3f}]", c.ci->lo, c.ci->hi);
  s += ", rule " + c.expected;
  if (c.kind == Kind::prod_fro) s += " (" + c.note + ")";  // says where the exponent comes from
  return s;
}

Tally tally(const std::vector<TheoryCheck>& checks) {
  Tally t;
  for (const auto& c : checks) {
    if (!c.verdict || c.kind == Kind::prop62) continue;
    if (*c.verdict == Verdict::skip) {
      t.skips.push_back(fmt::format("{}: {}", c.what, c.note));
      continue;
    }
    ++t.ran;
    if (*c.verdict == Verdict::fail) {
      ++t.failed;
      t.fails.push_back(check_text(c));
    }
    if (*c.verdict == Verdict::inconclusive) {
      ++t.open;
      t.opens.push_back(check_text(c) + (c.note.empty() ? "" : "; " + c.note));
    }
    if (c.measured) {
      auto [it, fresh] = t.ranges.try_emplace(c.kind, *c.measured, *c.measured);
      if (!fresh)
        it->second = {std::min(it->second.first, *c.measured),
                      std::max(it->second.second, *c.measured)};
    }
    if (c.ci) {
      auto [it, fresh] = t.cis.try_emplace(c.kind, c.ci->lo, c.ci->hi);
      if (!fresh)
        it->second = {std::min(it->second.first, c.ci->lo), std::max(it->second.second, c.ci->hi)};
    }
  }
  return t;
}

// "‖Z_k‖₂ exponents 0.000; ...": the ranges of exponents per kind.
std::vector<std::string> measured_parts(const Tally& t) {
  auto range = [&](Kind k, const char* name) -> std::string {
    const auto it = t.ranges.find(k);
    if (it == t.ranges.end()) return "";
    const auto [lo, hi] = it->second;
    std::string s = lo == hi ? fmt::format("{} {:.3f}", name, lo)
                             : fmt::format("{} {:.3f}..{:.3f}", name, lo, hi);
    if (const auto ci = t.cis.find(k); ci != t.cis.end())
      s += fmt::format(", 95% CIs within [{:.3f}, {:.3f}]", ci->second.first, ci->second.second);
    return s;
  };
  std::vector<std::string> parts;
  for (const auto& s :
       {range(Kind::spec, "‖Z_k‖₂ exponents"), range(Kind::fro, "‖Z_k‖_F exponents"),
        range(Kind::prod_fro, "Π‖Z_k‖_F² exponent")})
    if (!s.empty()) parts.push_back(s);
  return parts;
}

}  // namespace

Claim check_theory(const std::vector<TheoryCheck>& checks) {
  const Tally t = tally(checks);
  Claim c = make(k_claim_theory, Verdict::skip, "");
  c.criterion = "95% CI of each exponent in its region";
  if (t.ran == 0) {
    // One reason per distinct note is enough.
    std::set<std::string> seen;
    std::vector<std::string> why;
    for (const auto& s : t.skips)
      if (seen.insert(s).second) why.push_back(s);
    c.figure = "no theory check could run: " + first_items(why, 3);
    return c;
  }
  const auto parts = measured_parts(t);
  std::string fig = fmt::format("{}/{} checks pass", t.ran - t.failed - t.open, t.ran);
  if (!parts.empty()) fig += " (" + first_items(parts, 8) + ")";
  if (!t.fails.empty()) fig += "; failing: " + first_items(t.fails);
  if (!t.opens.empty()) fig += "; inconclusive: " + first_items(t.opens, 3);
  if (!t.skips.empty()) fig += fmt::format("; skipped: {}", first_items(t.skips, 2));
  c.verdict = t.failed ? Verdict::fail : t.open ? Verdict::inconclusive : Verdict::pass;
  c.figure = fig;
  return c;
}

Claim check_prop62(const std::vector<TheoryCheck>& checks) {
  Claim c = make(k_claim_prop62, Verdict::skip, "no Proposition 6.2 check");
  c.criterion = "holds in every run";
  c.consistency = true;
  for (const auto& t : checks) {
    if (t.kind != Kind::prop62 || !t.verdict) continue;
    c.verdict = *t.verdict;
    c.figure = t.note;
  }
  return c;
}

}  // namespace initscope::report::nk17
