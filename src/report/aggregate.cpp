// Grouping, statistics and fits for the report (see aggregate.hpp).
#include "report/aggregate.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/core.h>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "train/config.hpp"

namespace initscope::report {

Stats stats(std::span<const double> values) {
  Stats s;
  s.n = static_cast<int>(values.size());
  if (s.n == 0) return s;
  double sum = 0.0;
  for (double v : values) sum += v;
  s.mean = sum / s.n;
  if (s.n > 1) {
    double ss = 0.0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(ss / (s.n - 1));
  }
  return s;
}

double quantile_sorted(std::span<const double> sorted, double q) {
  IS_CHECK(!sorted.empty());
  const double h = (static_cast<double>(sorted.size()) - 1.0) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

std::optional<PowerFit> fit_power_law(std::span<const double> x, std::span<const double> y) {
  IS_CHECK(x.size() == y.size());
  const size_t n = x.size();
  if (n < 2) return std::nullopt;
  std::vector<double> lx(n), ly(n);
  for (size_t i = 0; i < n; ++i) {
    if (!(std::isfinite(x[i]) && std::isfinite(y[i]) && x[i] > 0 && y[i] > 0)) return std::nullopt;
    lx[i] = std::log(x[i]);
    ly[i] = std::log(y[i]);
  }
  double mx = 0.0, my = 0.0;
  for (size_t i = 0; i < n; ++i) {
    mx += lx[i];
    my += ly[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0.0, sxy = 0.0, syy = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) * (ly[i] - my);
  }
  if (sxx <= 0.0) return std::nullopt;  // all x equal
  PowerFit f;
  f.k = sxy / sxx;
  f.log_c = my - f.k * mx;
  f.points = static_cast<int>(n);
  const double sse = std::max(0.0, syy - f.k * sxy);
  f.r2 = syy > 0.0 ? 1.0 - sse / syy : 1.0;
  return f;
}

std::optional<Interval> bootstrap_exponent(const std::vector<Group>& groups, int resamples,
                                           uint64_t seed, double level) {
  std::vector<double> x, y;
  for (const auto& g : groups) {
    if (g.ys.empty()) return std::nullopt;
    x.push_back(g.x);
    y.push_back(stats(g.ys).mean);
  }
  if (!fit_power_law(x, y) || resamples < 1) return std::nullopt;
  Rng rng(derive_seed(seed, "bootstrap"));
  std::vector<double> ks;
  ks.reserve(static_cast<size_t>(resamples));
  for (int b = 0; b < resamples; ++b) {
    for (size_t i = 0; i < groups.size(); ++i) {
      const auto& ys = groups[i].ys;
      double sum = 0.0;
      for (size_t j = 0; j < ys.size(); ++j) sum += ys[rng.below(ys.size())];
      y[i] = sum / static_cast<double>(ys.size());
    }
    // A resampled mean is a mean of positive values, so the fit only fails if the data did.
    if (const auto f = fit_power_law(x, y)) ks.push_back(f->k);
  }
  if (ks.empty()) return std::nullopt;
  std::sort(ks.begin(), ks.end());
  const double tail = (1.0 - level) / 2.0;
  return Interval{quantile_sorted(ks, tail), quantile_sorted(ks, 1.0 - tail)};
}

std::optional<Interval> bootstrap_statistic(const std::vector<std::vector<double>>& groups,
                                            const MeansStatistic& statistic, int resamples,
                                            uint64_t seed, double level) {
  std::vector<double> means;
  for (const auto& g : groups) {
    if (g.empty()) return std::nullopt;
    means.push_back(stats(g).mean);
  }
  if (!statistic(means) || resamples < 1) return std::nullopt;
  Rng rng(derive_seed(seed, "bootstrap"));
  std::vector<double> values;
  values.reserve(static_cast<size_t>(resamples));
  for (int b = 0; b < resamples; ++b) {
    for (size_t i = 0; i < groups.size(); ++i) {
      const auto& ys = groups[i];
      double sum = 0.0;
      for (size_t j = 0; j < ys.size(); ++j) sum += ys[rng.below(ys.size())];
      means[i] = sum / static_cast<double>(ys.size());
    }
    if (const auto v = statistic(means); v && std::isfinite(*v)) values.push_back(*v);
  }
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const double tail = (1.0 - level) / 2.0;
  return Interval{quantile_sorted(values, tail), quantile_sorted(values, 1.0 - tail)};
}

std::optional<double> slope(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size() || x.size() < 2) return std::nullopt;
  const double n = static_cast<double>(x.size());
  double mx = 0.0, my = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double sxx = 0.0, sxy = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (!(sxx > 0.0)) return std::nullopt;
  return sxy / sxx;
}

bool is_init_only(const RunRecord& run) {
  const auto it = run.config.find("max_steps");
  return it != run.config.end() && it->is_number() && it->get<double>() == 0.0;
}

bool is_collapsed(const RunRecord& run) {
  return run.stopped_by.rfind("plateau", 0) == 0;
}

bool is_capped(const RunRecord& run) {
  return run.status == k_status_completed && !run.converged && !is_init_only(run) &&
         !is_collapsed(run);
}

RunUse classify(const RunRecord& run, bool include_capped) {
  if (run.status != k_status_completed) return RunUse::excluded;
  if (is_init_only(run)) return RunUse::init_only;
  // A plateau criterion "converges" on a network that learned nothing.
  if (is_collapsed(run)) return RunUse::excluded;
  return run.converged || include_capped ? RunUse::trained : RunUse::excluded;
}

std::string exclusion_reason(const RunRecord& run) {
  if (run.status == k_status_completed) {
    if (is_collapsed(run))
      return fmt::format("collapsed: training loss at chance level ({})", run.stopped_by);
    if (run.converged) return "";
    return fmt::format("stopped by cap {}", run.stopped_by.empty() ? "?" : run.stopped_by);
  }
  std::string why = run.status;
  if (!run.error.empty()) why += ": " + run.error;
  return why;
}

std::string exclusion_kind(const RunRecord& run) {
  if (run.status == k_status_completed) return is_collapsed(run) ? "collapsed" : "stopped by a cap";
  return run.status;
}

std::string exclusion_summary(const std::vector<const RunRecord*>& runs) {
  std::map<std::string, int> n;
  for (const RunRecord* r : runs) ++n[exclusion_kind(*r)];
  std::string s;
  for (const auto& [kind, count] : n)
    s += fmt::format("{}{} {}", s.empty() ? "" : "; ", count, kind);
  return s;
}

std::string repeat_key(const RunRecord& run) {
  // Caps end a run, they do not change the weights of one a criterion ended; measurements read
  // the weights without changing them.
  static const std::set<std::string> k_not_weights = {"max_epochs", "max_steps", "measure_every",
                                                      "flatness", "flatness_rows"};
  nlohmann::json key = key_of_options(run.config, [](const OptionSpec& s) {
    return s.role != OptionRole::execution && !k_not_weights.count(s.name);
  });
  key["seed"] = run.seed;
  key["init_only"] = is_init_only(run);
  return key.dump();
}

Repeats drop_repeats(const std::vector<const RunRecord*>& runs) {
  // Per key: the run kept so far. A completed run beats any other; among equals the later id.
  std::map<std::string, const RunRecord*> best;
  const auto better = [](const RunRecord* a, const RunRecord* b) {
    const bool ca = a->status == k_status_completed, cb = b->status == k_status_completed;
    if (ca != cb) return ca;
    return a->id > b->id;
  };
  std::vector<std::string> keys;
  keys.reserve(runs.size());
  for (const RunRecord* r : runs) {
    keys.push_back(repeat_key(*r));
    auto [it, fresh] = best.try_emplace(keys.back(), r);
    if (!fresh && better(r, it->second)) it->second = r;
  }
  Repeats out;
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord* kept = best.at(keys[i]);
    if (kept == runs[i])
      out.kept.push_back(runs[i]);
    else
      out.superseded.emplace_back(runs[i], kept);
  }
  return out;
}

void attach_excluded(std::vector<Experiment>& experiments,
                     const std::vector<const RunRecord*>& excluded,
                     const std::function<nlohmann::json(const nlohmann::json&)>& key_of) {
  std::vector<const RunRecord*> orphans;
  for (const RunRecord* r : excluded) {
    const nlohmann::json key = key_of(r->config);
    auto it = std::find_if(experiments.begin(), experiments.end(),
                           [&](const Experiment& e) { return e.key == key; });
    if (it != experiments.end())
      it->excluded.push_back(r);
    else
      orphans.push_back(r);
  }
  if (orphans.empty()) return;
  // Experiments of excluded runs alone: grouped and labelled as group_runs labels any.
  auto extra = group_runs(orphans, key_of);
  for (auto& e : extra) {
    e.excluded = std::move(e.runs);
    e.runs.clear();
    experiments.push_back(std::move(e));
  }
}

namespace {

double json_number(const nlohmann::json& j, const char* key, double fallback) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

}  // namespace

Coord coord_of(const RunRecord& run) {
  Coord c;
  c.width = static_cast<int64_t>(json_number(run.config, "width", 0));
  c.m = static_cast<int64_t>(json_number(run.config, "m", 0));
  if (const auto it = run.metrics.find("m");
      it != run.metrics.end() && std::isfinite(it->second) && it->second > 0)
    c.m = static_cast<int64_t>(it->second);
  c.noise = json_number(run.config, "noise", 0.0);
  return c;
}

double axis_value(const Coord& c, Axis axis) {
  switch (axis) {
    case Axis::width:
      return static_cast<double>(c.width);
    case Axis::m:
      return static_cast<double>(c.m);
    case Axis::noise:
      return c.noise;
  }
  return 0.0;
}

nlohmann::json experiment_key(const nlohmann::json& config) {
  return key_of_options(config, [](const OptionSpec& s) { return s.role == OptionRole::result; });
}

nlohmann::json init_key(const nlohmann::json& config) {
  return key_of_options(config, [](const OptionSpec& s) { return s.init_distribution; });
}

namespace {

std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) {
      if (!s.empty()) s += ",";
      s += value_text(e);
    }
    return s.empty() ? "[]" : s;
  }
  if (v.is_number_float()) return num(v.get<double>());
  return v.dump();
}

}  // namespace

std::vector<Experiment> group_runs(
    const std::vector<const RunRecord*>& runs,
    const std::function<nlohmann::json(const nlohmann::json&)>& key_of) {
  std::vector<Experiment> out;
  for (const RunRecord* r : runs) {
    nlohmann::json key = key_of(r->config);
    auto it =
        std::find_if(out.begin(), out.end(), [&](const Experiment& e) { return e.key == key; });
    if (it == out.end()) {
      out.push_back(Experiment{key, "", static_cast<int>(json_number(r->config, "depth", 0)), {}});
      it = out.end() - 1;
    }
    it->runs.push_back(r);
  }
  // Keys always shown, then any other key whose value differs between the groups.
  const std::vector<std::string> main_keys = {"dataset", "loss", "lr",  "momentum",
                                              "depth",   "init", "stop"};
  std::set<std::string> differing;
  for (const auto& e : out)
    for (const auto& [k, v] : e.key.items())
      for (const auto& other : out)
        if (!other.key.contains(k) || other.key[k] != v) differing.insert(k);
  for (auto& e : out) {
    std::string label;
    auto add = [&](const std::string& k) {
      if (!e.key.contains(k)) return;
      if (!label.empty()) label += " ";
      label +=
          k == "dataset" ? value_text(e.key[k]) : fmt::format("{}={}", k, value_text(e.key[k]));
    };
    for (const auto& k : main_keys) add(k);
    for (const auto& k : differing)
      if (std::find(main_keys.begin(), main_keys.end(), k) == main_keys.end()) add(k);
    e.label = label.empty() ? "all runs" : label;
  }
  return out;
}

std::map<Coord, std::vector<double>> cell_values(const std::vector<const RunRecord*>& runs,
                                                 const std::string& metric) {
  std::map<Coord, std::vector<double>> out;
  for (const RunRecord* r : runs) {
    const auto it = r->metrics.find(metric);
    if (it == r->metrics.end() || !std::isfinite(it->second)) continue;
    out[coord_of(*r)].push_back(it->second);
  }
  return out;
}

std::map<int64_t, std::vector<double>> width_values_unique_seed(
    const std::vector<const RunRecord*>& runs, const std::string& metric) {
  std::map<int64_t, std::vector<double>> out;
  std::set<std::pair<int64_t, uint64_t>> seen;
  for (const RunRecord* r : runs) {
    const auto it = r->metrics.find(metric);
    if (it == r->metrics.end() || !std::isfinite(it->second)) continue;
    const int64_t w = coord_of(*r).width;
    if (!seen.insert({w, r->seed}).second) continue;
    out[w].push_back(it->second);
  }
  return out;
}

std::vector<Series> make_series(const std::map<Coord, std::vector<double>>& cells, Axis x,
                                Axis line, const std::function<bool(const Coord&)>& keep) {
  std::map<double, std::map<double, std::vector<double>>> lines;  // line key -> x -> values
  for (const auto& [c, values] : cells) {
    if (keep && !keep(c)) continue;
    auto& dst = lines[axis_value(c, line)][axis_value(c, x)];
    dst.insert(dst.end(), values.begin(), values.end());
  }
  std::vector<Series> out;
  for (auto& [key, points] : lines) {
    Series s{key, {}};
    for (auto& [xv, values] : points)
      if (!values.empty()) s.points.push_back(SeriesPoint{xv, stats(values), values});
    if (!s.points.empty()) out.push_back(std::move(s));
  }
  return out;
}

std::vector<Group> groups_of(const Series& series) {
  std::vector<Group> out;
  for (const auto& p : series.points) out.push_back(Group{p.x, p.values});
  return out;
}

std::string num(double v) {
  if (!std::isfinite(v)) return fmt::format("{}", v);
  if (v == std::floor(v) && std::fabs(v) < 1e7) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

}  // namespace initscope::report
