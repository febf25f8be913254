// A run end to end: load and prepare the data, train, measure, save weights, and store the
// result in the database. Shared by `initscope train` and the sweep runner.
// Bad input (flags, files, sizes) is found before the run's row is inserted, so it leaves no
// row at all; a failure after that is recorded as `failed`, never as `completed`.
#pragma once

#include <filesystem>
#include <optional>

#include "store/db.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

namespace initscope {

struct RunOptions {
  std::filesystem::path data_dir;                     // resolved data directory
  std::optional<std::filesystem::path> save_weights;  // folder for init/final .safetensors
  bool claim = false;  // sweeps: skip the run if the database already has it (Db::claim_run)
};

/// Runs `config` and records it in `db`. Returns the stored record (with metrics), or nullopt
/// if `options.claim` is set and the database already holds (or is running) this config.
/// `raw` may hold the already-loaded dataset (sweeps load it once); otherwise it is loaded.
std::optional<RunRecord> execute_run(const TrainConfig& config, const RunOptions& options, Db& db,
                                     const ProgressFn& progress = {},
                                     const TrainTest* raw = nullptr);

/// The program version recorded with each run.
const char* initscope_version();

}  // namespace initscope
