// A run end to end: load and prepare the data, read the starting weights, train, measure, save
// weights, and store the result in the database. Shared by `initscope train` and the sweep
// runner; the only place that knows both training and storage.
// For `train`, bad input (flags, files, sizes) is found before the run's row is inserted, so it
// leaves no row at all; a sweep's run is claimed first, so its bad input is a `failed` row. A
// failure after the row exists is recorded as `failed`, a stop signal as `interrupted`, never
// as `completed`.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "store/db.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

namespace initscope {

struct RunOptions {
  std::filesystem::path data_dir;                     // resolved data directory
  std::optional<std::filesystem::path> save_weights;  // folder for init/final .safetensors
  bool claim = false;         // sweeps: skip the run if the database already has it (Db::claim_run)
  bool retry_failed = false;  // with claim: a `failed` row does not count as done
  std::function<void(int64_t)> on_claim;  // with claim: told the row's id once it is claimed
  // If given and it becomes nonzero (a signal number, common/interrupt.hpp), training stops
  // after the current step and the run is stored as `interrupted` (Trainer::run).
  const std::atomic<int>* stop = nullptr;
  RunLabels labels;  // name, tags, sweep: stored with the run's row, never part of its identity
};

/// Runs `config` and records it in `db`. Returns the stored record (with metrics), or nullopt
/// if `options.claim` is set and the database already holds (or is running) this config.
/// Without claim, bad input throws before any row exists, and a stop signal that arrives
/// before training throws Interrupted; with claim, the row is claimed first and any failure
/// after that is recorded `failed` before it is rethrown. A run stopped by `options.stop` is
/// stored `interrupted` (its record is returned; weights are not saved).
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
