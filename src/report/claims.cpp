// Claim lines and how per-experiment verdicts combine (see claims.hpp).
#include "report/claims.hpp"

#include <fmt/core.h>

namespace initscope::report {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass:
      return "PASS";
    case Verdict::fail:
      return "FAIL";
    case Verdict::skip:
      return "SKIP";
  }
  return "?";
}

std::string claim_line(const Claim& c) {
  return fmt::format("{} {}: {}", verdict_name(c.verdict), c.id, c.figure);
}

std::string first_items(const std::vector<std::string>& items, size_t n) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < n; ++i) s += (i ? "; " : "") + items[i];
  if (items.size() > n) s += fmt::format("; and {} more", items.size() - n);
  return s;
}

Claim combine(const std::string& id, const std::string& rule,
              const std::vector<std::pair<std::string, Claim>>& per_experiment) {
  Claim out{id, Verdict::skip, "", rule};
  if (per_experiment.empty()) {
    out.figure = "no completed, converged training runs";
    return out;
  }
  if (per_experiment.size() == 1) {
    out = per_experiment.front().second;
    out.id = id;
    out.rule = rule;
    return out;
  }
  bool any_pass = false, any_fail = false;
  std::vector<std::string> parts, skipped;
  for (const auto& [label, c] : per_experiment) {
    if (c.verdict == Verdict::skip) {
      skipped.push_back(fmt::format("[{}] {}", label, c.figure));
      continue;
    }
    any_pass = any_pass || c.verdict == Verdict::pass;
    any_fail = any_fail || c.verdict == Verdict::fail;
    parts.push_back(fmt::format("[{}] {} {}", label, verdict_name(c.verdict), c.figure));
  }
  out.verdict = any_fail ? Verdict::fail : any_pass ? Verdict::pass : Verdict::skip;
  if (parts.empty())
    out.figure = "no experiment has the data: " + first_items(skipped, 3);
  else
    out.figure = first_items(parts) +
                 (skipped.empty() ? "" : fmt::format(" ({} experiments skipped)", skipped.size()));
  return out;
}

}  // namespace initscope::report
