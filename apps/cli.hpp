// The `initscope` command line: one file per group of subcommands, each registering itself on
// the CLI11 app. Commands throw initscope::Error for bad input; main prints it and exits 1.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/db.hpp"

namespace initscope::cli {

/// Options every command that touches results or data shares.
struct Common {
  std::string db = "initscope.db";
  std::optional<std::string> data_dir;
};

void add_train(CLI::App& app, Common& common);
void add_rerun(CLI::App& app, Common& common);    // rerun ID: train a stored run's config again
void add_compare(CLI::App& app, Common& common);  // compare ID ID...: configs and metrics
void add_options(CLI::App& app);                  // options: the run-option table
void add_data(CLI::App& app, Common& common);
void add_results(CLI::App& app, Common& common);    // runs, show
void add_sweep(CLI::App& app, Common& common);      // sweep
void add_calibrate(CLI::App& app, Common& common);  // calibrate
void add_report(CLI::App& app, Common& common);     // report, export
void add_cluster(CLI::App& app, Common& common);    // slurm, merge
void add_rank(CLI::App& app, Common& common);       // rank: measures against generalization
void add_measure(CLI::App& app, Common& common);    // measure: any saved network's measures

/// Every run option of the option table as a flag of `cmd` (train, measure), but those named in
/// `skip`; the function returned gives the options given, as the JSON config_from_json reads.
std::function<nlohmann::json()> add_run_option_flags(CLI::App* cmd,
                                                     const std::vector<std::string>& skip = {});

/// The run `text` names (a run id) in `db_file`, read-only; throws Error naming `command` for a
/// malformed id or a missing run, and --db for a missing file.
RunRecord read_run(const std::string& text, const char* command, const std::string& db_file);

/// A run's config as a sweep file's [base] table (show --toml; compare and rerun read it too).
std::string base_toml(const RunRecord& r);

/// `--max-runs TEXT` (sweep, slurm): a whole number from 1 to 2^64 − 1, parsed strictly (CLI11
/// would clamp a larger one without a word); `fallback` when TEXT is empty.
uint64_t parse_max_runs(const std::string& text, uint64_t fallback);

/// A run's record as JSON (`show --json`, `train --json`); non-finite metrics become null.
nlohmann::json record_json(const RunRecord& r);

}  // namespace initscope::cli
