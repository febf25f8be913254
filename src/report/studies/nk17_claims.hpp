// The claims of Nagarajan & Kolter 2017 ("NK17"), each checked against the runs by one
// written-down rule, and the theory checks of Corollary A.2.1 and Propositions 6.1 and 6.2 on
// the initialization's norms.
//
// Every claim about the runs is a measured quantity (an exponent, a slope, a difference) with a
// 95% percentile-bootstrap interval over seeds, and one shared rule (claims.hpp, ci_verdict):
// PASS if the interval lies inside the region the paper claims, FAIL if it lies wholly outside,
// INCONCLUSIVE if it straddles an end; SKIP if the runs it needs are missing. A claim made at
// several widths or sizes combines them: FAIL if any part fails, else INCONCLUSIVE if any is,
// else PASS. The regions are the constants below; they were fixed from the paper's statements
// before looking at any data and must not be tuned to make a sweep pass. The bootstrap redraws
// the seeds of each sweep cell; with three seeds it is coarse (a cell has ten distinct
// resamples), and with one seed the interval is the point estimate.
// The theory checks on the initialization judge each exponent's interval over seeds by the same
// rule (theory_checks); Proposition 6.2, an inequality that holds unless a norm is computed
// wrongly, is a consistency check apart (check_prop62), not a reproduced claim.
// Coverage is part of the rule: a part the sweep asked for whose runs left after exclusions are
// too few (widths, values of m), a cell with one seed, or half of a claim's cells' runs excluded
// make it INCONCLUSIVE with the reason; each claim carries its runs used and excluded.
// Deliberately left out: rendering (nk17.cpp) and which experiment is which paper figure
// (nk17.cpp, paper_figure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/aggregate.hpp"
#include "report/claims.hpp"

namespace initscope::report::nk17 {

/// "r flat or decreasing in H" (Section 4; Figure 1 left, Figures 2–4 (c), 5 (a)): the exponent
/// a of r ∝ H^a over the widths at one m is at most this (a tenth of a power: r may rise by at
/// most 7% per doubling of H, the paper's "slight increase" at large H).
inline constexpr double k_flat_exponent = 0.1;
/// "r grows like m^0.25 to m^0.4" (Section 4; Figures 1, 2–4 (d)), widened by 0.05 on each side
/// because the paper says "typically".
inline constexpr double k_exponent_lo = 0.2;
inline constexpr double k_exponent_hi = 0.5;
/// "Generalization error does not grow with H" (Appendix D; Figures 2–4 (a)): gen error at the
/// largest width minus at the smallest is at most this.
inline constexpr double k_gen_error_slack = 0.01;
/// Theorem 5.1: the estimate is flat in H, |exponent| ≤ k_flat_exponent, and falls like 1/√m:
/// its exponent in m lies in [−0.5 − this, −0.5 + this].
inline constexpr double k_sqrt_m_tol = 0.1;
/// ‖Z_k‖₂ = Θ(1): |exponent in H| at most this.
inline constexpr double k_spec_exponent_tol = 0.1;
/// ‖Z_k‖_F ∝ √H: exponent in H within this range.
inline constexpr double k_fro_exponent_lo = 0.4;
inline constexpr double k_fro_exponent_hi = 0.6;
/// Π‖Z_k‖_F² = Ω̃(H^{d−2}) (Proposition 6.1 is a lower bound): exponent at least d − 2 minus this.
inline constexpr double k_prod_fro_tol = 0.5;
/// Distinct widths an exponent in H needs; distinct m the fit of r ∝ m^k needs (four, so that
/// one outlying run cannot swing a width's exponent); distinct m another exponent in m needs.
inline constexpr int k_min_widths = 3;
inline constexpr int k_min_ms = 4;
inline constexpr int k_min_ms_other = 3;

inline constexpr const char* k_claim_theory = "theory-checks";
inline constexpr const char* k_claim_prop62 = "prop6.2-consistency";

/// A power law fitted along one line of a sweep (y ∝ x^k over the seed means), with its
/// bootstrap interval over seeds.
struct LineFit {
  double key = 0.0;  // the line's value (a width, an m)
  PowerFit fit;
  std::optional<Interval> ci;
  Series data;
};

/// Fits of `metric` ∝ x^k along axis `x`, one per value of `line`, over the cells `keep` accepts,
/// for every line with ≥ `min_points` values of x. `seed` seeds the bootstraps (one stream per
/// line).
std::vector<LineFit> fit_lines(const std::vector<const RunRecord*>& runs, const std::string& metric,
                               Axis x, Axis line, const std::function<bool(const Coord&)>& keep,
                               int min_points, int resamples, uint64_t seed);

/// What a claim check needs besides the runs.
struct ClaimContext {
  int resamples = 2000;
  uint64_t seed = 1;  // of the experiment (derive_seed per quantity)
};

// Each check returns its claim under `id`, with the measured parts in its figure and its rule.

/// r ∝ H^a at every m on clean labels: a ≤ k_flat_exponent.
Claim check_r_flat_in_width(const std::string& id, const Experiment& e, const ClaimContext& c);
/// r ∝ m^k at every width on clean labels (≥ k_min_ms values of m): k in [lo, hi].
Claim check_r_growth_exponent(const std::string& id, const Experiment& e, const ClaimContext& c);
/// gen error(largest H) − gen error(smallest H) at every m on clean labels ≤ k_gen_error_slack.
Claim check_gen_error_flat_in_width(const std::string& id, const Experiment& e,
                                    const ClaimContext& c);
/// The slope of r against the noise level, per width and m with ≥ 2 noise levels: > 0.
Claim check_r_rises_with_noise(const std::string& id, const Experiment& e, const ClaimContext& c);
/// Per width: slope of r against noise at the largest m minus at the smallest: > 0 (Figure 6:
/// "more pronounced when m is larger").
Claim check_noise_effect_grows_with_m(const std::string& id, const Experiment& e,
                                      const ClaimContext& c);
/// k(smallest H) − k(largest H) of r ∝ m^k: > 0 (Figure 5 (b), (d)).
Claim check_growth_faster_for_small_width(const std::string& id, const Experiment& e,
                                          const ClaimContext& c);
/// k on random labels minus k on clean labels, at each width both have: > 0 (Figure 5 (b) against
/// Figure 2 (d)).
Claim check_growth_faster_with_noise(const std::string& id, const Experiment& random_labels,
                                     const Experiment& clean, const ClaimContext& c);
/// `metric` ∝ H^a at every m (clean cells, ≥ k_min_widths widths): a in `region`. `what` names
/// the quantity in the rule ("max |f(x)|").
Claim check_metric_exponent_in_width(const std::string& id, const std::string& what,
                                     const std::vector<const RunRecord*>& runs,
                                     const std::string& metric, const Region& region,
                                     const ClaimContext& c);
/// `metric` ∝ m^b at every width (≥ k_min_ms_other values of m): b in `region`.
Claim check_metric_exponent_in_m(const std::string& id, const std::string& what,
                                 const std::vector<const RunRecord*>& runs,
                                 const std::string& metric, const Region& region,
                                 const ClaimContext& c);

/// A SKIP line for a claim whose figure has no runs.
Claim skip_claim(const std::string& id, const std::string& rule, const std::string& why);

/// The rules, in words, of the checks above (what the quantity is and its region; the shared CI
/// rule follows).
std::string rule_r_flat_in_width();
std::string rule_r_growth_exponent();
std::string rule_gen_error_flat_in_width();
std::string rule_r_rises_with_noise();
std::string rule_noise_effect_grows_with_m();
std::string rule_growth_faster_for_small_width();
std::string rule_growth_faster_with_noise();
std::string rule_metric_exponent_in_width(const std::string& what, const Region& region);
std::string rule_metric_exponent_in_m(const std::string& what, const Region& region);

// ---- the theory checks on the initialization -------------------------------------------

/// The runs one theory check reads: init-only runs of one initialization key if there are
/// any, else the trained runs' stored initialization norms (the `_z` metrics).
struct TheoryGroup {
  Experiment runs;
  bool init_only = false;
};
/// One TheoryGroup per initialization key over `init_only` and `trained` runs.
std::vector<TheoryGroup> theory_groups(const std::vector<const RunRecord*>& init_only,
                                       const std::vector<const RunRecord*>& trained);

/// One theory check's result. `verdict` is nullopt for informational rows.
struct TheoryCheck {
  enum class Kind { spec, fro, prod_fro, prop62, info };
  Kind kind = Kind::info;
  std::string group;  // which runs (label and source)
  std::string what;   // "‖Z_2‖₂ exponent in H"
  std::optional<double> measured;
  std::string expected;  // the rule, e.g. "95% CI in [−0.1, 0.1]"
  std::optional<Verdict> verdict = {};
  std::string note = {};            // widths used, counts, why skipped
  std::optional<Interval> ci = {};  // of `measured`, over seeds
};

/// Exponent checks per group (hidden layers k = 2..d−1, the product over all layers, and the
/// input and output layers as information), each judged by its interval over seeds, and
/// Proposition 6.2 over the trained runs. `c` seeds the bootstraps.
std::vector<TheoryCheck> theory_checks(const std::vector<TheoryGroup>& groups,
                                       const std::vector<const RunRecord*>& trained,
                                       const ClaimContext& c);
/// The theory claim over the exponent checks: FAIL if one fails, else INCONCLUSIVE if one is,
/// else PASS; SKIP if none could run. Proposition 6.2 is not part of it (check_prop62).
Claim check_theory(const std::vector<TheoryCheck>& checks);
/// Proposition 6.2 as a consistency check (Claim::consistency): it holds by construction.
Claim check_prop62(const std::vector<TheoryCheck>& checks);

/// The rule of the theory claim, in words.
std::string claim_rule(const std::string& id);

}  // namespace initscope::report::nk17
