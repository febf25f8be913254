// A run end to end: load and prepare the data, read the starting weights, train, measure, save
// weights, and store the result in the database. Shared by `initscope train` and the sweep
// runner; the only place that knows both training and storage.
// Bad input (flags, files, sizes) is found before the run's row is inserted, so it leaves no
// row at all; a failure after that is recorded as `failed`, never as `completed`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

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

/// The raw data of a run's task: a named dataset from `data_dir`, the signal1d task made from
/// its options and seed, or an image (image:NAME) read, cropped, resized and split.
TrainTest load_task(const TrainConfig& config, const std::filesystem::path& data_dir);
/// What load_task's result depends on, for sharing one loaded copy between the runs of a
/// sweep: the dataset's name, or for images also its size and stride; "" for signal1d, whose
/// data depend on the run seed and are made by each run.
std::string task_data_key(const TrainConfig& config);

/// The memory a run of `config` on `data` needs, in bytes: parameters, initialization and
/// momentum, the training and evaluation workspaces, and the prepared data.
int64_t estimate_run_bytes(const TrainConfig& config, const PreparedData& data);
/// Throws Error naming --width, --depth and --m, the estimate and the memory available, if the
/// run cannot fit in the memory the system reports available (/proc/meminfo MemAvailable).
void check_memory(const TrainConfig& config, const PreparedData& data);

/// Brings the database's run identities to today's config schema (Db::upgrade_config_hashes
/// with config_hash_of_stored), so that runs stored by an older initscope are found by their
/// config_hash. Cheap when there is nothing to do; execute_run and sweeps call it.
int upgrade_run_identities(Db& db);

/// The program version recorded with each run.
const char* initscope_version();

}  // namespace initscope
