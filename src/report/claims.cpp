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
    case Verdict::inconclusive:
      return "INCONCLUSIVE";
    case Verdict::skip:
      return "SKIP";
  }
  return "?";
}

const char* const k_ci_rule =
    "PASS if the 95% confidence interval of the quantity lies inside the claimed region, FAIL if "
    "it lies wholly outside it, INCONCLUSIVE if it straddles an end of the region";

std::string region_text(const Region& r) {
  const bool low = r.lo > -1e307, high = r.hi < 1e307;
  if (low && high)
    return r.strict ? fmt::format("in ({:g}, {:g})", r.lo, r.hi)
                    : fmt::format("in [{:g}, {:g}]", r.lo, r.hi);
  if (low) return fmt::format("{} {:g}", r.strict ? ">" : "≥", r.lo);
  if (high) return fmt::format("{} {:g}", r.strict ? "<" : "≤", r.hi);
  return "anything";
}

Verdict ci_verdict(double lo, double hi, const Region& r) {
  const auto inside = [&](double q) {
    return r.strict ? q > r.lo && q < r.hi : q >= r.lo && q <= r.hi;
  };
  if (inside(lo) && inside(hi)) return Verdict::pass;
  const bool below = r.strict ? hi <= r.lo : hi < r.lo;
  const bool above = r.strict ? lo >= r.hi : lo > r.hi;
  return below || above ? Verdict::fail : Verdict::inconclusive;
}

Verdict combine_verdicts(const std::vector<Verdict>& parts) {
  bool any_pass = false, any_fail = false, any_open = false;
  for (Verdict v : parts) {
    any_pass = any_pass || v == Verdict::pass;
    any_fail = any_fail || v == Verdict::fail;
    any_open = any_open || v == Verdict::inconclusive;
  }
  return any_fail   ? Verdict::fail
         : any_open ? Verdict::inconclusive
         : any_pass ? Verdict::pass
                    : Verdict::skip;
}

std::string coverage_text(const Coverage& c) {
  std::string s = fmt::format("{} run{} used", c.used, c.used == 1 ? "" : "s");
  if (c.capped_used > 0) s += fmt::format(" ({} stopped by a cap, included)", c.capped_used);
  s += fmt::format("; {} excluded", c.excluded);
  if (!c.why.empty()) s += " (" + c.why + ")";
  return s;
}

std::string claim_line(const Claim& c) {
  std::string s = fmt::format("{}{} {}: {}", verdict_name(c.verdict),
                              c.consistency ? " (consistency check)" : "", c.id, c.figure);
  if (c.verdict != Verdict::skip && !c.criterion.empty()) s += " | rule: " + c.criterion;
  if (c.coverage) s += " | " + coverage_text(*c.coverage);
  return s;
}

VerdictCounts count_verdicts(const std::vector<Claim>& claims) {
  VerdictCounts n;
  for (const auto& c : claims) {
    if (c.consistency) {
      ++n.consistency;
      continue;
    }
    switch (c.verdict) {
      case Verdict::pass:
        ++n.pass;
        break;
      case Verdict::fail:
        ++n.fail;
        break;
      case Verdict::inconclusive:
        ++n.inconclusive;
        break;
      case Verdict::skip:
        ++n.skip;
        break;
    }
  }
  return n;
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
  std::vector<Verdict> verdicts;
  std::vector<std::string> parts, skipped;
  for (const auto& [label, c] : per_experiment) {
    if (c.verdict == Verdict::skip) {
      skipped.push_back(fmt::format("[{}] {}", label, c.figure));
      continue;
    }
    verdicts.push_back(c.verdict);
    parts.push_back(fmt::format("[{}] {} {}", label, verdict_name(c.verdict), c.figure));
  }
  out.verdict = combine_verdicts(verdicts);
  // The rule is the same for every experiment; the runs add up.
  std::vector<std::string> whys;
  for (const auto& [label, c] : per_experiment) {
    if (out.criterion.empty()) out.criterion = c.criterion;
    if (!c.coverage) continue;
    if (!out.coverage) out.coverage = Coverage{};
    out.coverage->used += c.coverage->used;
    out.coverage->excluded += c.coverage->excluded;
    out.coverage->capped_used += c.coverage->capped_used;
    if (!c.coverage->why.empty()) whys.push_back(fmt::format("[{}] {}", label, c.coverage->why));
  }
  if (out.coverage) out.coverage->why = first_items(whys, 3);
  if (parts.empty())
    out.figure = "no experiment has the data: " + first_items(skipped, 3);
  else
    out.figure = first_items(parts) +
                 (skipped.empty() ? "" : fmt::format(" ({} experiments skipped)", skipped.size()));
  return out;
}

}  // namespace initscope::report
