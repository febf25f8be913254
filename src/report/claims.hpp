// A claim of a paper checked against the runs: its verdict (PASS, FAIL, INCONCLUSIVE or SKIP:
// not enough data to apply the rule), the measured figure behind it, and its rule in words, so a
// reader can see what was tested. A study (study.hpp) checks its claims per experiment and
// combine() merges them into one line per claim id. ci_verdict() is the rule a claim about a
// measured quantity with a confidence interval uses: the interval against the claimed region.
// Deliberately left out: any paper's claims and thresholds (studies/), and rendering (page.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace initscope::report {

enum class Verdict { pass, fail, inconclusive, skip };
/// "PASS", "FAIL", "INCONCLUSIVE" or "SKIP".
const char* verdict_name(Verdict v);

/// Where a claim says a quantity lies: lo ≤ q ≤ hi, either end open-ended (±infinity). `strict`
/// excludes the finite ends ("q > 0").
struct Region {
  double lo = -1e308;
  double hi = 1e308;
  bool strict = false;
};
/// "≤ 0.1", "> 0", "in [0.2, 0.5]".
std::string region_text(const Region& r);

/// The confidence-interval rule: PASS if the interval [lo, hi] lies inside the region, FAIL if it
/// lies wholly outside it, INCONCLUSIVE if it straddles one of its ends.
Verdict ci_verdict(double lo, double hi, const Region& region);
/// The same rule in words, for claim rules and the page.
extern const char* const k_ci_rule;

/// One checked claim.
struct Claim {
  std::string id;
  Verdict verdict = Verdict::skip;
  std::string figure;  // the measured numbers behind the verdict, or why it was skipped
  std::string rule;    // the rule applied, in words
};

/// "PASS <id>: <figure>" (or FAIL, or "SKIP <id>: <why>"): the report's line on stdout.
std::string claim_line(const Claim& c);

/// At most `n` items of a list joined by "; ", then "; and K more".
std::string first_items(const std::vector<std::string>& items, size_t n = 6);

/// Merges one claim evaluated on several experiments (label, claim) into one: FAIL if any
/// failed, else INCONCLUSIVE if any was, else PASS if any passed, else SKIP. With one experiment
/// its claim is returned.
/// Also how a study merges the parts of one claim (per width, per m) into its verdict.
Verdict combine_verdicts(const std::vector<Verdict>& parts);
Claim combine(const std::string& id, const std::string& rule,
              const std::vector<std::pair<std::string, Claim>>& per_experiment);

}  // namespace initscope::report
