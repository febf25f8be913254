// See trajectory.hpp.
#include "trajectory.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "report/export.hpp"

namespace initscope::cli {

std::vector<std::string> trajectory_columns(const std::vector<TrajectoryPoint>& points) {
  static const std::vector<std::string> k_first = {"train_loss",  "train_error", "epoch_loss",
                                                   "epoch_error", "test_loss",   "test_error",
                                                   "dist_init"};
  std::set<std::string> names;
  for (const auto& p : points) names.insert(p.name);
  std::vector<std::string> columns;
  for (const auto& n : k_first)
    if (names.erase(n)) columns.push_back(n);
  columns.insert(columns.end(), names.begin(), names.end());
  return columns;
}

TrajectoryTable pivot_trajectory(const std::vector<TrajectoryPoint>& points,
                                 const std::vector<std::string>& columns) {
  TrajectoryTable t;
  t.columns = columns.empty() ? trajectory_columns(points) : columns;
  std::map<std::string, size_t> col;
  for (size_t k = 0; k < t.columns.size(); ++k) col[t.columns[k]] = k;
  std::map<std::pair<int64_t, int64_t>, size_t> row;  // (epoch, step) → row
  for (const auto& p : points) row.emplace(std::make_pair(p.epoch, p.step), 0);
  for (auto& [key, index] : row) {
    index = t.rows.size();
    t.rows.push_back({key.first, key.second, std::vector<std::optional<double>>(t.columns.size())});
  }
  for (const auto& p : points)
    if (const auto c = col.find(p.name); c != col.end())
      t.rows[row.at({p.epoch, p.step})].values[c->second] = p.value;
  return t;
}

TrajectoryFormat parse_trajectory_format(const std::string& text) {
  if (text == "table") return TrajectoryFormat::table;
  if (text == "csv") return TrajectoryFormat::csv;
  if (text == "jsonl") return TrajectoryFormat::jsonl;
  throw Error(fmt::format("--format {}: unknown format (expected table, csv or jsonl)", text));
}

namespace {

// Errors as they are stored (fractions) in data; the table prints them the same way, so that
// one column means one thing everywhere.
std::string number(const std::optional<double>& v) {
  if (!v) return "";
  if (!std::isfinite(*v)) return std::isnan(*v) ? "nan" : *v > 0 ? "inf" : "-inf";
  return fmt::format("{:.17g}", *v);
}

}  // namespace

void write_trajectory(const TrajectoryTable& t, TrajectoryFormat format, std::ostream& out,
                      int64_t run_id, bool header) {
  switch (format) {
    case TrajectoryFormat::csv: {
      if (header) {
        out << (run_id > 0 ? "run_id," : "") << "epoch,step";
        for (const auto& c : t.columns) out << ',' << report::csv_field(c);
        out << "\r\n";
      }
      for (const auto& r : t.rows) {
        if (run_id > 0) out << run_id << ',';
        out << r.epoch << ',' << r.step;
        for (const auto& v : r.values) out << ',' << number(v);
        out << "\r\n";
      }
      return;
    }
    case TrajectoryFormat::jsonl: {
      for (const auto& r : t.rows) {
        nlohmann::ordered_json j;
        if (run_id > 0) j["run_id"] = run_id;
        j["epoch"] = r.epoch;
        j["step"] = r.step;
        for (size_t k = 0; k < t.columns.size(); ++k)
          if (r.values[k])
            j[t.columns[k]] = std::isfinite(*r.values[k]) ? nlohmann::ordered_json(*r.values[k])
                                                          : nlohmann::ordered_json(nullptr);
        out << j.dump() << '\n';
      }
      return;
    }
    case TrajectoryFormat::table: {
      // Short numbers, aligned; "-" where a quantity was not measured at that epoch.
      std::vector<size_t> width(t.columns.size());
      for (size_t k = 0; k < t.columns.size(); ++k)
        width[k] = std::max<size_t>(t.columns[k].size(), 10);
      if (header) {
        out << fmt::format("{:>6} {:>8}", "epoch", "step");
        for (size_t k = 0; k < t.columns.size(); ++k)
          out << fmt::format("  {:>{}}", t.columns[k], width[k]);
        out << '\n';
      }
      for (const auto& r : t.rows) {
        out << fmt::format("{:>6} {:>8}", r.epoch, r.step);
        for (size_t k = 0; k < t.columns.size(); ++k)
          out << fmt::format("  {:>{}}", r.values[k] ? fmt::format("{:.5g}", *r.values[k]) : "-",
                             width[k]);
        out << '\n';
      }
      return;
    }
  }
}

}  // namespace initscope::cli
