// The `initscope` command line: one file per group of subcommands, each registering itself on
// the CLI11 app. Commands throw initscope::Error for bad input; main prints it and exits 1.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "store/db.hpp"

namespace initscope::cli {

/// Options every command that touches results or data shares.
struct Common {
  std::string db = "initscope.db";
  std::optional<std::string> data_dir;
};

void add_train(CLI::App& app, Common& common);
void add_options(CLI::App& app);  // options: the run-option table
void add_data(CLI::App& app, Common& common);
void add_results(CLI::App& app, Common& common);  // runs, show
void add_sweep(CLI::App& app, Common& common);    // sweep
void add_report(CLI::App& app, Common& common);   // report, export
void add_cluster(CLI::App& app, Common& common);  // slurm, merge
void add_rank(CLI::App& app, Common& common);     // rank: measures against generalization

/// `--max-runs TEXT` (sweep, slurm): a whole number from 1 to 2^64 − 1, parsed strictly (CLI11
/// would clamp a larger one without a word); `fallback` when TEXT is empty.
uint64_t parse_max_runs(const std::string& text, uint64_t fallback);

/// A run's record as JSON (`show --json`, `train --json`); non-finite metrics become null.
nlohmann::json record_json(const RunRecord& r);

}  // namespace initscope::cli
