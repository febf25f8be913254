// A claim of a paper checked against the runs: its verdict (PASS, FAIL, INCONCLUSIVE or SKIP:
// not enough data to apply the rule), the measured figure behind it, and its rule in words, so a
// reader can see what was tested. A study (study.hpp) checks its claims per experiment and
// combine() merges them into one line per claim id. ci_verdict() is the rule a claim about a
// measured quantity with a confidence interval uses: the interval against the claimed region.
// Deliberately left out: any paper's claims and thresholds (studies/), and rendering (page.hpp).
#pragma once

#include <cstddef>
#include <optional>
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

/// Which runs a claim read: how many, and how many runs of the same sweep cells the report left
/// out and why ("2 stopped by cap max_epochs; 1 diverged"), so that a reader can judge what a
/// verdict built on the survivors is worth.
struct Coverage {
  int used = 0;
  int excluded = 0;
  std::string why;      // the excluded runs' reasons with counts; "" if none
  int capped_used = 0;  // runs stopped by a cap among `used` (report --include-capped)
};
/// "45 runs used; 3 excluded (2 stopped by cap max_epochs; 1 diverged)".
std::string coverage_text(const Coverage& c);

/// One checked claim.
struct Claim {
  std::string id;
  Verdict verdict = Verdict::skip;
  std::string figure;  // the measured numbers behind the verdict, or why it was skipped
  std::string rule;    // the rule applied, in words
  /// The rule in a few words, printed beside the verdict ("95% CI of k in [0.2, 0.5]").
  std::string criterion = {};
  /// A check that holds by construction unless the code is wrong (Proposition 6.2 is an
  /// inequality between norms the code computes): shown as a consistency check, not counted as a
  /// reproduced claim.
  bool consistency = false;
  std::optional<Coverage> coverage = {};
};

/// "PASS <id>: <figure> | rule: <criterion> | <coverage>" (or FAIL, INCONCLUSIVE, or "SKIP <id>:
/// <why>"), with "PASS (consistency check) <id>: ..." for a consistency check: the report's line
/// on stdout.
std::string claim_line(const Claim& c);

/// Claims counted as reproduced (not consistency checks) with each verdict.
struct VerdictCounts {
  int pass = 0, fail = 0, inconclusive = 0, skip = 0, consistency = 0;
};
VerdictCounts count_verdicts(const std::vector<Claim>& claims);

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
