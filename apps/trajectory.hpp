// Learning curves on the command line: a run's trajectory (one point per step, epoch and name in
// the database) turned into one row per epoch with one column per quantity, printed as an
// aligned table (`show ID --trajectory`), CSV or JSON Lines (`--format`, `export --trajectory`).
// Deliberately left out: plotting (the report draws the curves).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/metrics.hpp"

namespace initscope::cli {

/// One row per (epoch, step), in order; `values[k]` belongs to `columns[k]` (nullopt: not
/// measured at that epoch, e.g. train_loss when the stopping check stopped early).
struct TrajectoryTable {
  std::vector<std::string> columns;  // the quantities, learning-curve ones first
  struct Row {
    int64_t epoch = 0, step = 0;
    std::vector<std::optional<double>> values;
  };
  std::vector<Row> rows;
};

/// The columns for these quantity names: train_loss, train_error, epoch_loss, epoch_error,
/// test_loss, test_error, dist_init first when present, then the rest by name.
std::vector<std::string> trajectory_columns(const std::vector<TrajectoryPoint>& points);

/// Pivots the points (any order) into rows by (epoch, step), with `columns` (default: those of
/// trajectory_columns; a name outside them is dropped).
TrajectoryTable pivot_trajectory(const std::vector<TrajectoryPoint>& points,
                                 const std::vector<std::string>& columns = {});

enum class TrajectoryFormat { table, csv, jsonl };
/// "table", "csv" or "jsonl"; anything else throws Error naming --format.
TrajectoryFormat parse_trajectory_format(const std::string& text);

/// Writes the table. `run_id` > 0 adds a leading run_id column (export: many runs in one file);
/// `header` writes the CSV header or the table's column names (once per file).
void write_trajectory(const TrajectoryTable& t, TrajectoryFormat format, std::ostream& out,
                      int64_t run_id = 0, bool header = true);

}  // namespace initscope::cli
