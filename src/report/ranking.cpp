// Kendall's τ, its bootstrap interval and the granulated Ψ (ranking.hpp).
#include "report/ranking.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/rng.hpp"

namespace initscope::report {

namespace {

int sign(double x) {
  return (x > 0) - (x < 0);
}

}  // namespace

double kendall_tau(std::span<const double> mu, std::span<const double> g, TauKind kind,
                   std::span<const int64_t> items, std::span<const int64_t> origin) {
  IS_CHECK(mu.size() == g.size());
  std::vector<int64_t> all;
  if (items.empty()) {
    all.resize(mu.size());
    std::iota(all.begin(), all.end(), int64_t{0});
    items = all;
  }
  IS_CHECK(origin.empty() || origin.size() == items.size());
  // O(n²) over pairs: exact, with ties as defined, and fast enough for thousands of runs.
  int64_t pairs = 0, tied_mu = 0, tied_g = 0, sum = 0;
  for (size_t a = 0; a < items.size(); ++a)
    for (size_t b = a + 1; b < items.size(); ++b) {
      if (!origin.empty() && origin[a] == origin[b]) continue;
      const auto i = static_cast<size_t>(items[a]), j = static_cast<size_t>(items[b]);
      const int sm = sign(mu[i] - mu[j]), sg = sign(g[i] - g[j]);
      ++pairs;
      tied_mu += sm == 0;
      tied_g += sg == 0;
      sum += sm * sg;
    }
  if (pairs == 0) return NAN;
  switch (kind) {
    case TauKind::a:
      return static_cast<double>(sum) / static_cast<double>(pairs);
    case TauKind::b: {
      const double den =
          std::sqrt(static_cast<double>(pairs - tied_mu) * static_cast<double>(pairs - tied_g));
      return den > 0 ? static_cast<double>(sum) / den : NAN;
    }
  }
  return NAN;  // not reached
}

TauInterval kendall_tau_interval(std::span<const double> mu, std::span<const double> g,
                                 TauKind kind, int resamples, uint64_t seed) {
  TauInterval r;
  r.tau = kendall_tau(mu, g, kind);
  r.resamples = resamples;
  const size_t n = mu.size();
  if (resamples < 1 || n < 2) {
    r.lo = r.hi = NAN;
    return r;
  }
  Rng rng(seed);
  std::vector<int64_t> pick(n);
  std::vector<double> taus;
  for (int k = 0; k < resamples; ++k) {
    for (auto& p : pick) p = static_cast<int64_t>(rng.below(n));
    std::sort(pick.begin(), pick.end());
    const double t = kendall_tau(mu, g, kind, pick, pick);  // copies share their origin
    if (std::isfinite(t)) taus.push_back(t);
  }
  if (taus.empty()) {
    r.lo = r.hi = NAN;
    return r;
  }
  std::sort(taus.begin(), taus.end());
  const auto at = [&](double q) {
    const double pos = q * static_cast<double>(taus.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, taus.size() - 1);
    return taus[lo] + (pos - static_cast<double>(lo)) * (taus[hi] - taus[lo]);
  };
  r.lo = at(0.025);
  r.hi = at(0.975);
  return r;
}

Granulated granulated_tau(std::span<const double> mu, std::span<const double> g,
                          const std::vector<std::vector<std::string>>& factors, TauKind kind) {
  Granulated out;
  const size_t n = mu.size();
  for (const auto& f : factors) IS_CHECK(f.size() == n, "one value of each factor per run");
  double psi_sum = 0.0;
  int psi_count = 0;
  for (size_t i = 0; i < factors.size(); ++i) {
    // Cells: the runs sharing every other factor's value (a tuple key).
    std::map<std::vector<std::string>, std::vector<int64_t>> cells;
    for (size_t r = 0; r < n; ++r) {
      std::vector<std::string> key;
      for (size_t j = 0; j < factors.size(); ++j)
        if (j != i) key.push_back(factors[j][r]);
      cells[key].push_back(static_cast<int64_t>(r));
    }
    double sum = 0.0;
    int64_t used = 0, skipped = 0;
    for (const auto& [key, runs] : cells) {
      bool varies = false;
      for (int64_t r : runs)
        varies = varies || factors[i][static_cast<size_t>(r)] !=
                               factors[i][static_cast<size_t>(runs.front())];
      if (!varies) continue;
      const double t = kendall_tau(mu, g, kind, runs);
      if (std::isfinite(t)) {
        sum += t;
        ++used;
      } else {
        ++skipped;
      }
    }
    out.cells.push_back(used);
    out.skipped.push_back(skipped);
    out.per_factor.push_back(used ? sum / static_cast<double>(used) : NAN);
    if (used) {
      psi_sum += out.per_factor.back();
      ++psi_count;
    }
  }
  out.psi = psi_count ? psi_sum / psi_count : NAN;
  return out;
}

namespace {

// A run's value of a factor, as text: its configuration's JSON value, or the seed.
std::optional<std::string> factor_of(const RunRecord& r, const std::string& key) {
  if (key == "seed") return std::to_string(r.seed);
  if (!r.config.is_object() || !r.config.contains(key)) return std::nullopt;
  return r.config[key].dump();
}

}  // namespace

std::vector<RankRow> rank_measures(const std::vector<RunRecord>& all, const RankOptions& o) {
  std::vector<const RunRecord*> runs;
  for (const RunRecord& r : all)
    if (r.status == "completed" && (r.converged || !o.converged_only)) runs.push_back(&r);
  for (const std::string& key : o.by) {
    const bool known = std::any_of(runs.begin(), runs.end(), [&](const RunRecord* r) {
      return factor_of(*r, key).has_value();
    });
    if (!known)
      throw Error(fmt::format(
          "--by {}: no selected run has a configuration key '{}' (expected option names such "
          "as width, init, m, or seed)",
          key, key));
  }
  std::vector<RankRow> rows;
  for (const std::string& name : o.measures) {
    std::vector<double> mu, g;
    std::vector<std::vector<std::string>> factors(o.by.size());
    for (const RunRecord* r : runs) {
      const auto m = r->metrics.find(name), t = r->metrics.find(o.target);
      if (m == r->metrics.end() || t == r->metrics.end()) continue;
      if (!std::isfinite(m->second) || !std::isfinite(t->second)) continue;
      mu.push_back(m->second);
      g.push_back(t->second);
      for (size_t i = 0; i < o.by.size(); ++i)
        factors[i].push_back(factor_of(*r, o.by[i]).value_or("null"));
    }
    if (mu.empty())
      throw Error(fmt::format(
          "--measures {}: no selected run has both '{}' and the target '{}' (expected metric "
          "names as `initscope show ID` lists them)",
          name, name, o.target));
    RankRow row;
    row.measure = name;
    row.runs = static_cast<int64_t>(mu.size());
    row.tau = kendall_tau_interval(mu, g, o.kind, o.resamples, o.seed);
    if (!o.by.empty()) row.psi = granulated_tau(mu, g, factors, o.kind);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace initscope::report
