// The claims of Nagarajan & Kolter 2017 ("NK17"), each checked against the runs by one
// written-down rule, and the theory checks of Corollary A.2.1 and Propositions 6.1 and 6.2 on
// the initialization's norms.
//
// Every check returns PASS, FAIL or SKIP (not enough data to apply the rule) with the measured
// figure, and states its rule, so a reader can see what was tested. The thresholds are the
// constants below; they were fixed from the paper's statements before looking at any data and
// must not be tuned to make a sweep pass. Checks run per experiment (see aggregate.hpp) and
// combine() (claims.hpp) merges them into one line per claim id.
// Deliberately left out: rendering (nk17.cpp) and any statistical test beyond the rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/aggregate.hpp"
#include "report/claims.hpp"

namespace initscope::report::nk17 {

inline constexpr const char* k_claim_r_width = "r-not-increasing-with-H";
inline constexpr const char* k_claim_r_exponent = "r-growth-exponent";
inline constexpr const char* k_claim_r_noise = "r-increases-with-noise";
inline constexpr const char* k_claim_gen_width = "gen-error-not-increasing-with-H";
inline constexpr const char* k_claim_theory = "theory-checks";

/// Largest allowed mean r(next width) / mean r(width) (Section 4: "constant or decreases").
inline constexpr double k_max_width_ratio = 1.10;
/// "Within seed noise": a ratio above k_max_width_ratio still passes if the excess
/// mean r(next) − 1.10·mean r(width) is within this many standard errors of zero.
inline constexpr double k_width_noise_se = 2.0;
/// Allowed range of the exponent k in r ∝ m^k (Section 4: "between m^0.25 and m^0.4", widened).
inline constexpr double k_exponent_lo = 0.2;
inline constexpr double k_exponent_hi = 0.5;
/// Allowed rise of the generalization error from the smallest to the largest width.
inline constexpr double k_gen_error_slack = 0.01;
/// ‖Z_k‖₂ = Θ(1): |exponent in H| at most this.
inline constexpr double k_spec_exponent_tol = 0.1;
/// ‖Z_k‖_F ∝ √H: exponent in H within this range.
inline constexpr double k_fro_exponent_lo = 0.4;
inline constexpr double k_fro_exponent_hi = 0.6;
/// Π‖Z_k‖_F² = Ω̃(H^{d−2}) (Proposition 6.1 is a lower bound): exponent at least d − 2 minus this.
inline constexpr double k_prod_fro_tol = 0.5;
/// Distinct widths an exponent-in-H check needs; distinct m the r ∝ m^k fit needs.
inline constexpr int k_min_widths = 3;
inline constexpr int k_min_ms = 3;

/// r ∝ m^k at one width on clean labels: the fit on seed-mean r and its bootstrap interval.
struct RFit {
  int64_t width = 0;
  PowerFit fit;
  std::optional<Interval> ci;  // 95% percentile bootstrap over seeds
  Series data;                 // r per m (x = m)
};

/// Fits r ∝ m^k per width on clean labels, for every width with ≥ k_min_ms values of m.
std::vector<RFit> fit_r_vs_m(const Experiment& e, int resamples, uint64_t seed);

/// Claim 1: on clean labels, for every m, mean r of each width over the next smaller width
/// present is at most k_max_width_ratio.
Claim check_r_not_increasing_with_width(const Experiment& e);
/// Claim 2: every width's fitted k lies in [k_exponent_lo, k_exponent_hi].
Claim check_r_growth_exponent(const std::vector<RFit>& fits);
/// The m at which the noise sweep is read: the one with the most noise levels (ties: the
/// largest m), with its number of levels. nullopt if the experiment has no runs.
std::optional<std::pair<int64_t, int>> noise_sweep_m(const Experiment& e);
/// Claim 3: at noise_sweep_m, mean r strictly increases with each step up in noise, per width.
Claim check_r_increases_with_noise(const Experiment& e);
/// Claim 4: on clean labels, for every m, mean gen error at the largest width ≤ that at the
/// smallest width + k_gen_error_slack.
Claim check_gen_error_not_increasing_with_width(const Experiment& e);

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
  std::string expected;  // the rule, e.g. "|k| ≤ 0.1"
  std::optional<Verdict> verdict;
  std::string note;  // widths used, counts, why skipped
};

/// Exponent checks per group (hidden layers k = 2..d−1, the product over all layers, and the
/// input and output layers as information) and Proposition 6.2 over the trained runs.
std::vector<TheoryCheck> theory_checks(const std::vector<TheoryGroup>& groups,
                                       const std::vector<const RunRecord*>& trained);
/// Claim 5: every theory check that could run passes; SKIP if none could.
Claim check_theory(const std::vector<TheoryCheck>& checks);

/// The rule of each claim id, in words (also used when no experiment exists).
std::string claim_rule(const std::string& id);

}  // namespace initscope::report::nk17
