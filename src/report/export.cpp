// Flat CSV and JSON Lines export of runs (see export.hpp).
#include "report/export.hpp"

#include <cmath>
#include <map>
#include <set>

#include <fmt/core.h>

#include "common/error.hpp"

namespace initscope::report {

ExportFormat parse_export_format(const std::string& text) {
  if (text == "csv") return ExportFormat::csv;
  if (text == "jsonl") return ExportFormat::jsonl;
  throw Error(fmt::format("--format {}: unknown export format (expected csv or jsonl)", text));
}

namespace {

// Config objects flattened to dotted keys; arrays and scalars are leaves.
void flatten(const nlohmann::json& j, const std::string& prefix,
             std::map<std::string, nlohmann::json>& out) {
  for (const auto& [k, v] : j.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object())
      flatten(v, key, out);
    else
      out[key] = v;
  }
}

}  // namespace

FlatTable flatten_runs(const std::vector<RunRecord>& runs) {
  FlatTable t;
  t.columns = {"id",        "created", "status",      "stopped_by",
               "converged", "seed",    "config_hash", "wall_seconds"};
  std::vector<std::map<std::string, nlohmann::json>> configs;
  std::set<std::string> config_keys, metric_keys;
  for (const auto& r : runs) {
    configs.emplace_back();
    if (r.config.is_object()) flatten(r.config, "", configs.back());
    for (const auto& [k, v] : configs.back()) config_keys.insert(k);
    for (const auto& [k, v] : r.metrics) metric_keys.insert(k);
  }
  // Every config key under config., every metric under metric.: one scheme, and the run's own
  // columns (seed, converged, ...) can never collide with a key or a metric of the same name.
  std::vector<std::pair<std::string, std::string>> config_cols,
      metric_cols;  // (column, source key)
  for (const auto& k : config_keys) config_cols.emplace_back("config." + k, k);
  for (const auto& k : metric_keys) metric_cols.emplace_back("metric." + k, k);
  for (const auto& [col, k] : config_cols) t.columns.push_back(col);
  for (const auto& [col, k] : metric_cols) t.columns.push_back(col);

  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    std::vector<nlohmann::json> row = {r.id,          r.created,           r.status,
                                       r.stopped_by,  r.converged ? 1 : 0, r.seed,
                                       r.config_hash, r.wall_seconds};
    for (const auto& [col, k] : config_cols) {
      const auto it = configs[i].find(k);
      row.push_back(it == configs[i].end() ? nlohmann::json(nullptr) : it->second);
    }
    for (const auto& [col, k] : metric_cols) {
      const auto it = r.metrics.find(k);
      row.push_back(it == r.metrics.end() ? nlohmann::json(nullptr) : nlohmann::json(it->second));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

std::string csv_value(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    return fmt::format("{}", d);  // shortest text that reads back to the same double ("3", "0.1")
  }
  return v.dump();  // integers, booleans, arrays (as JSON text)
}

}  // namespace

void export_runs(const std::vector<RunRecord>& runs, ExportFormat format, std::ostream& out) {
  const FlatTable t = flatten_runs(runs);
  if (format == ExportFormat::csv) {
    for (size_t c = 0; c < t.columns.size(); ++c) out << (c ? "," : "") << csv_field(t.columns[c]);
    out << "\r\n";
    for (const auto& row : t.rows) {
      for (size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << csv_field(csv_value(row[c]));
      out << "\r\n";
    }
    return;
  }
  for (const auto& row : t.rows) {
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (size_t c = 0; c < row.size(); ++c) {
      const auto& v = row[c];
      // nlohmann would write a non-finite double as null anyway; say so explicitly.
      obj[t.columns[c]] = v.is_number_float() && !std::isfinite(v.get<double>())
                              ? nlohmann::ordered_json(nullptr)
                              : nlohmann::ordered_json(v);
    }
    out << obj.dump() << "\n";
  }
}

}  // namespace initscope::report
