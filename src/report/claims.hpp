// A claim of a paper checked against the runs: its verdict (PASS, FAIL or SKIP: not enough data
// to apply the rule), the measured figure behind it, and its rule in words, so a reader can see
// what was tested. A study (study.hpp) checks its claims per experiment and combine() merges
// them into one line per claim id.
// Deliberately left out: any paper's claims and thresholds (studies/), and rendering (page.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace initscope::report {

enum class Verdict { pass, fail, skip };
/// "PASS", "FAIL" or "SKIP".
const char* verdict_name(Verdict v);

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
/// failed, else PASS if any passed, else SKIP. With one experiment its claim is returned.
Claim combine(const std::string& id, const std::string& rule,
              const std::vector<std::pair<std::string, Claim>>& per_experiment);

}  // namespace initscope::report
