// `initscope export`: every run as one flat row, as CSV (RFC 4180) or JSON Lines, for
// spreadsheets, pandas or R.
//
// Columns, in order: id, created, status, stopped_by, converged, seed, config_hash,
// wall_seconds (the run's own); then every config key as "config.KEY" (union over runs, sorted;
// nested objects flattened as "config.a.b", arrays kept as JSON text such as
// ["margin:10:0.99"]); then every metric as "metric.NAME" (union over runs, sorted). One
// scheme for all, so no name collides (config.seed beside seed, metric.m beside config.m) and a
// column's source is in its name. Error metrics are fractions (0.023, not 2.3%).
// A value a run lacks is an empty CSV cell and null in JSON Lines. Non-finite metrics are
// written nan / inf / -inf in CSV and null in JSON Lines (JSON has no such numbers).
// Deliberately left out: trajectories and artifacts (see `initscope show --trajectory`).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/db.hpp"

namespace initscope::report {

enum class ExportFormat { csv, jsonl };

/// "csv" or "jsonl"; anything else throws Error naming --format.
ExportFormat parse_export_format(const std::string& text);

/// The flat table: column names and, per run, one JSON value per column (null = missing).
struct FlatTable {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
};
FlatTable flatten_runs(const std::vector<RunRecord>& runs);

/// One CSV field: quoted (with quotes doubled) iff it holds a comma, quote, CR or LF.
std::string csv_field(const std::string& text);

/// Writes the runs in the format; CSV lines end in CRLF as RFC 4180 asks.
void export_runs(const std::vector<RunRecord>& runs, ExportFormat format, std::ostream& out);

}  // namespace initscope::report
