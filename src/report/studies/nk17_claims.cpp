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

std::string claim_rule(const std::string& id) {
  if (id == k_claim_r_width)
    return fmt::format(
        "On clean labels (noise = 0), for every m and every pair of consecutive widths present, "
        "mean r(next width) / mean r(width) ≤ {:.2f}, within seed noise: a larger ratio passes "
        "only if mean r(next) − {:.2f}·mean r(width) ≤ {}·SE, where SE = √(se_next² + "
        "({:.2f}·se)²) "
        "and se is the standard error over seeds (no allowance with one seed). Needs ≥ 2 widths "
        "at one m.",
        k_max_width_ratio, k_max_width_ratio, k_width_noise_se, k_max_width_ratio);
  if (id == k_claim_r_exponent)
    return fmt::format(
        "On clean labels, r ∝ m^k fitted per width by least squares on log r vs log m (seed-mean "
        "r); "
        "PASS iff every width's k ∈ [{}, {}]. 95% CI: percentile bootstrap over seeds. "
        "Needs ≥ {} values of m at one width.",
        k_exponent_lo, k_exponent_hi, k_min_ms);
  if (id == k_claim_r_noise)
    return "At the m with the most noise levels (ties: the largest m), for every width with ≥ 2 "
           "noise levels, "
           "mean r strictly increases from each noise level to the next. Needs ≥ 2 noise levels.";
  if (id == k_claim_gen_width)
    return fmt::format(
        "On clean labels, for every m with ≥ 2 widths, mean gen error (test − train error) at the "
        "largest width ≤ mean gen error at the smallest width + {}.",
        k_gen_error_slack);
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

std::string list_values(const std::set<double>& values) {
  std::string s;
  for (double v : values) {
    if (!s.empty()) s += ", ";
    s += num(v);
  }
  return s.empty() ? "none" : s;
}

std::set<double> distinct(const std::map<Coord, std::vector<double>>& cells, Axis axis,
                          const std::function<bool(const Coord&)>& keep = {}) {
  std::set<double> out;
  for (const auto& [c, v] : cells)
    if (!v.empty() && (!keep || keep(c))) out.insert(axis_value(c, axis));
  return out;
}

Claim make(const char* id, Verdict v, std::string figure) {
  return Claim{id, v, std::move(figure), claim_rule(id)};
}

}  // namespace

std::vector<RFit> fit_r_vs_m(const Experiment& e, int resamples, uint64_t seed) {
  std::vector<RFit> out;
  const auto cells = cell_values(e.runs, "dist_init");
  for (const auto& s : make_series(cells, Axis::m, Axis::width, clean_labels)) {
    if (static_cast<int>(s.points.size()) < k_min_ms) continue;
    std::vector<double> x, y;
    for (const auto& p : s.points) {
      x.push_back(p.x);
      y.push_back(p.y.mean);
    }
    const auto fit = fit_power_law(x, y);
    if (!fit) continue;
    const auto width = static_cast<int64_t>(s.key);
    out.push_back(RFit{width, *fit,
                       bootstrap_exponent(groups_of(s), resamples,
                                          derive_seed(seed, fmt::format("r_vs_m/{}", width))),
                       s});
  }
  return out;
}

Claim check_r_not_increasing_with_width(const Experiment& e) {
  const auto cells = cell_values(e.runs, "dist_init");
  double worst = -1.0;
  std::string where;
  int pairs = 0;
  std::vector<std::string> over, noisy;
  for (const auto& s : make_series(cells, Axis::width, Axis::m, clean_labels)) {
    for (size_t i = 0; i + 1 < s.points.size(); ++i) {
      const auto& a = s.points[i];
      const auto& b = s.points[i + 1];
      if (a.y.mean <= 0.0) continue;
      const double ratio = b.y.mean / a.y.mean;
      ++pairs;
      const std::string at = fmt::format("m={}, H {}→{}", num(s.key), num(a.x), num(b.x));
      if (ratio > worst) {
        worst = ratio;
        where = at;
      }
      if (ratio <= k_max_width_ratio) continue;
      const auto se = [](const Stats& st) { return st.n > 1 ? st.sd / std::sqrt(st.n) : 0.0; };
      const double excess = b.y.mean - k_max_width_ratio * a.y.mean;
      const double bound = k_width_noise_se * std::hypot(se(b.y), k_max_width_ratio * se(a.y));
      if (excess <= bound)
        noisy.push_back(
            fmt::format("{}: {:.3f}, excess {:.2f} ≤ {:.2f}", at, ratio, excess, bound));
      else
        over.push_back(fmt::format("{}: {:.3f}, excess {:.2f} > {:.2f}", at, ratio, excess, bound));
    }
  }
  if (pairs == 0)
    return make(k_claim_r_width, Verdict::skip,
                fmt::format("needs ≥ 2 widths at one m on clean labels (clean widths: {})",
                            list_values(distinct(cells, Axis::width, clean_labels))));
  std::string fig = fmt::format("max r(next H)/r(H) = {:.3f} at {} ({} pair{})", worst, where,
                                pairs, pairs == 1 ? "" : "s");
  if (!noisy.empty())
    fig += fmt::format("; {} above {:.2f} but within seed noise: {}", noisy.size(),
                       k_max_width_ratio, first_items(noisy));
  if (!over.empty())
    fig += fmt::format("; {} above {:.2f} beyond seed noise: {}", over.size(), k_max_width_ratio,
                       first_items(over));
  return make(k_claim_r_width, over.empty() ? Verdict::pass : Verdict::fail, fig);
}

Claim check_r_growth_exponent(const std::vector<RFit>& fits) {
  if (fits.empty())
    return make(k_claim_r_exponent, Verdict::skip,
                fmt::format("needs ≥ {} values of m at one width on clean labels", k_min_ms));
  bool ok = true;
  std::vector<std::string> parts;
  for (const auto& f : fits) {
    const bool in = f.fit.k >= k_exponent_lo && f.fit.k <= k_exponent_hi;
    ok = ok && in;
    std::string ci = f.ci ? fmt::format(" [{:.3f}, {:.3f}]", f.ci->lo, f.ci->hi) : "";
    parts.push_back(
        fmt::format("H={}: k={:.3f}{}{}", f.width, f.fit.k, ci, in ? "" : " (out of range)"));
  }
  return make(k_claim_r_exponent, ok ? Verdict::pass : Verdict::fail, first_items(parts, 12));
}

std::optional<std::pair<int64_t, int>> noise_sweep_m(const Experiment& e) {
  std::map<int64_t, std::set<double>> levels;
  for (const auto& [c, v] : cell_values(e.runs, "dist_init"))
    if (!v.empty()) levels[c.m].insert(c.noise);
  std::optional<std::pair<int64_t, int>> best;
  for (const auto& [m, l] : levels) {
    const int n = static_cast<int>(l.size());
    if (!best || n >= best->second)
      best = std::make_pair(m, n);  // ascending m: ties go to the largest
  }
  return best;
}

Claim check_r_increases_with_noise(const Experiment& e) {
  const auto at = noise_sweep_m(e);
  if (!at || at->second < 2)
    return make(k_claim_r_noise, Verdict::skip,
                fmt::format("needs ≥ 2 noise levels at one m (found {})", at ? at->second : 0));
  const int64_t m = at->first;
  const auto cells = cell_values(e.runs, "dist_init");
  bool ok = true;
  std::vector<std::string> parts;
  for (const auto& s :
       make_series(cells, Axis::noise, Axis::width, [m](const Coord& c) { return c.m == m; })) {
    if (s.points.size() < 2) continue;
    std::string seq = fmt::format("H={}: ", num(s.key));
    for (size_t i = 0; i < s.points.size(); ++i) {
      if (i > 0) {
        const bool up = s.points[i].y.mean > s.points[i - 1].y.mean;
        ok = ok && up;
        seq += up ? " < " : " ≥ ";
      }
      seq += fmt::format("{:.4g} (p={})", s.points[i].y.mean, num(s.points[i].x));
    }
    parts.push_back(seq);
  }
  if (parts.empty())
    return make(k_claim_r_noise, Verdict::skip,
                fmt::format("at m={} no width has ≥ 2 noise levels", m));
  return make(k_claim_r_noise, ok ? Verdict::pass : Verdict::fail,
              fmt::format("m={}: {}", m, first_items(parts)));
}

Claim check_gen_error_not_increasing_with_width(const Experiment& e) {
  const auto cells = cell_values(e.runs, "gen_error");
  bool ok = true;
  std::vector<std::string> parts;
  for (const auto& s : make_series(cells, Axis::width, Axis::m, clean_labels)) {
    if (s.points.size() < 2) continue;
    const auto& small = s.points.front();
    const auto& large = s.points.back();
    const bool fine = large.y.mean <= small.y.mean + k_gen_error_slack;
    ok = ok && fine;
    parts.push_back(fmt::format("m={}: {:.2f}% (H={}) → {:.2f}% (H={}){}", num(s.key),
                                100 * small.y.mean, num(small.x), 100 * large.y.mean, num(large.x),
                                fine ? "" : " (rises > 1 point)"));
  }
  if (parts.empty())
    return make(k_claim_gen_width, Verdict::skip,
                fmt::format("needs ≥ 2 widths at one m on clean labels (clean widths: {})",
                            list_values(distinct(cells, Axis::width, clean_labels))));
  return make(k_claim_gen_width, ok ? Verdict::pass : Verdict::fail, first_items(parts));
}

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
