// The results database: one SQLite file holding every run, its metrics and its trajectory.
// A run is inserted as `running` when it starts and gets its final status, metrics and
// trajectory in one transaction when it ends, so a killed run never looks `completed`.
// Deliberately left out: an ORM or query builder; the schema is a few small tables.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics.hpp"

struct sqlite3;

namespace initscope {

/// Run statuses. `running` rows whose process died are shown as such; they never count.
inline constexpr const char* k_status_running = "running";
inline constexpr const char* k_status_completed = "completed";
inline constexpr const char* k_status_diverged = "diverged";
inline constexpr const char* k_status_failed = "failed";
/// A run stopped by SIGINT or SIGTERM (stored by the run itself, with its trajectory so far), or
/// a `running` row whose process is gone (killed, crashed; set by mark_interrupted). Never a
/// result: a resumed sweep runs the config again.
inline constexpr const char* k_status_interrupted = "interrupted";

/// What a person or a sweep calls a run: never part of its config or identity (config_hash),
/// stored in the run_labels table.
struct RunLabels {
  std::string name;               // train --name
  std::vector<std::string> tags;  // train --tag, repeatable
  std::string sweep_id;           // the sweep file's content hash, shared by its runs
  std::string sweep_file;         // the sweep file as given
  std::string sweep_description;  // its `description`
  bool empty() const {
    return name.empty() && tags.empty() && sweep_id.empty() && sweep_file.empty() &&
           sweep_description.empty();
  }
};

/// Run kinds: a run trained by initscope, or weights it only measured (`initscope measure`:
/// status `completed`, stopped_by `measured`, no trajectory; reports' studies leave them out,
/// `rank` and `runs` show them).
inline constexpr const char* k_kind_trained = "trained";
inline constexpr const char* k_kind_measured = "measured";

struct RunRecord {
  int64_t id = 0;
  std::string created;  // UTC, "2026-11-23T11:17:09Z"
  std::string status;
  std::string stopped_by;  // criterion met ("margin:10:0.99") or cap ("max_epochs"); "" if running
  bool converged = false;  // true iff a stopping criterion (not a cap) ended the run
  uint64_t seed = 0;
  nlohmann::json config;     // the full resolved configuration
  std::string config_error;  // set (and `config` holds the stored text) if it is not JSON
  std::string config_hash;
  std::string version;
  double wall_seconds = 0.0;
  std::string error;  // why a failed/diverged run ended; "" otherwise
  std::string host;   // where the run's process ran, and its pid (claims, provenance)
  int64_t pid = 0;
  RunLabels labels;
  std::map<std::string, double> metrics;
  std::string kind = k_kind_trained;  // k_kind_trained or k_kind_measured
};

/// What an existing file holds, read without creating or changing anything (Db::inspect).
struct DbFileInfo {
  int schema_version = 0;      // the tables' layout (meta key `schema_version`)
  int config_hash_schema = 1;  // the run identities' schema (Db::config_hash_schema)
};

/// How a command opens the database: `read_only` for the commands that only read (runs, show,
/// export, report, sweep --dry-run): the file must exist and be an initscope database, nothing
/// is created, upgraded or written (a read-only file or directory is fine).
enum class DbMode { read_write, read_only };

/// An open results database. Not thread-safe; one per thread or process.
class Db {
 public:
  /// Opens or creates `file` (WAL mode, schema created if missing), or with DbMode::read_only
  /// opens an existing initscope database without writing anything. Throws Error naming the
  /// file if it cannot be opened or is not an initscope database.
  explicit Db(const std::filesystem::path& file, DbMode mode = DbMode::read_write);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  /// Inserts a run with status `running`; returns its id.
  int64_t begin_run(const nlohmann::json& config, const std::string& config_hash, uint64_t seed,
                    const std::string& version, const RunLabels& labels = {});

  /// Like begin_run, but only if no run of this config is completed, diverged, failed (unless
  /// `retry_failed`), or running in a live process; returns nullopt otherwise. `interrupted`
  /// rows never count: their runs start over. Atomic across processes sharing the file, so a
  /// sweep's run never counts twice.
  std::optional<int64_t> claim_run(const nlohmann::json& config, const std::string& config_hash,
                                   uint64_t seed, const std::string& version,
                                   bool retry_failed = false, const RunLabels& labels = {});

  /// Sets `running` rows of this host whose process no longer exists to `interrupted`.
  /// Returns how many.
  int mark_interrupted();

  /// Sets a `running` row to `failed` with `error` (a sweep whose run's process crashed before
  /// it could record anything). Returns false if the row was not `running`.
  bool mark_failed(int64_t id, const std::string& error);

  /// In one transaction: sets status (anything but `running`), stopped_by, converged, wall time and
  /// error, and writes all metrics, trajectory points and artifacts (JSON values such as the
  /// indices of corrupted labels). Either all of it lands or none of it.
  void finish_run(int64_t id, const std::string& status, const std::string& stopped_by,
                  bool converged, double wall_seconds, const std::string& error,
                  const std::map<std::string, double>& metrics,
                  const std::vector<TrajectoryPoint>& trajectory,
                  const std::map<std::string, nlohmann::json>& artifacts = {});

  /// Inserts a run of kind `measured` (status completed, stopped_by "measured") with its metrics
  /// and artifacts in one transaction, so that nothing is half-written; returns its id.
  /// config_hash should differ from every trained run's (a sweep must not take it for its run).
  int64_t record_measured_run(const nlohmann::json& config, const std::string& config_hash,
                              uint64_t seed, const std::string& version, double wall_seconds,
                              const std::map<std::string, double>& metrics,
                              const std::map<std::string, nlohmann::json>& artifacts);

  /// A run's artifact by name, or nullopt.
  std::optional<nlohmann::json> artifact(int64_t id, const std::string& name);

  /// All runs, oldest first, with metrics filled in. A row whose config is not JSON (a damaged
  /// row) is left out with a warning on stderr.
  std::vector<RunRecord> runs();
  /// One run with its metrics, or nullopt if there is no such id.
  std::optional<RunRecord> run(int64_t id);
  /// A run's trajectory ordered by step, then name.
  std::vector<TrajectoryPoint> trajectory(int64_t id);
  /// True if some run with this config hash has status `completed`.
  bool has_completed(const std::string& config_hash);
  /// The first `completed` run with this config hash (config and seed), or nullopt.
  std::optional<int64_t> completed_run(const std::string& config_hash);
  /// True if this config needs no new run: a row is `completed`, `diverged` (a result), or
  /// `failed` unless `retry_failed`. What a sweep skips; claim_run decides the same way.
  bool is_done(const std::string& config_hash, bool retry_failed);

  /// The version of the config identity under which the rows' config_hash were computed
  /// (meta key `config_hash_schema`; 1 for databases written before it was recorded).
  int config_hash_schema();
  /// If the rows were hashed under an older schema than `schema`, recomputes every row's
  /// config_hash from its stored config with `hash_of` (which returns "" for a config it cannot
  /// read: that row keeps its hash) and records `schema`, in one write transaction, so a
  /// resumed sweep recognises runs stored by an older initscope. Returns the rows changed.
  /// A newer schema than `schema` throws Error naming the file.
  int upgrade_config_hashes(int schema,
                            const std::function<std::string(const nlohmann::json&)>& hash_of);

  /// The schema version this initscope writes.
  static int schema_version();
  /// Reads an existing file's versions read-only. Throws Error naming the file if it does not
  /// exist, is not an SQLite database, or is not an initscope results database (no meta table
  /// with a schema_version): the check a merge makes before it opens anything for writing.
  static DbFileInfo inspect(const std::filesystem::path& file);

  /// All artifacts of a run, by name.
  std::map<std::string, nlohmann::json> artifacts(int64_t id);

  /// Runs `body` in one write transaction (BEGIN IMMEDIATE): it commits when `body` returns
  /// and rolls back everything if it throws. For insert_copied_run.
  void write_transaction(const std::function<void()>& body, const std::string& doing);
  /// Inserts a run read from another database exactly as it was there (created, status,
  /// config, hash, version, host, pid, ...) with its metrics, trajectory and artifacts, and
  /// returns its id here. Only inside write_transaction (merges are all or nothing).
  int64_t insert_copied_run(const RunRecord& run, const std::vector<TrajectoryPoint>& trajectory,
                            const std::map<std::string, nlohmann::json>& artifacts);

  sqlite3* handle() { return db_; }

 private:
  int64_t insert_running(const nlohmann::json& config, const std::string& config_hash,
                         uint64_t seed, const std::string& version, const RunLabels& labels);
  void write_labels(int64_t id, const RunLabels& labels);
  /// Fills each run's labels (runs() and run()); nothing for a file without run_labels.
  void read_labels(std::vector<RunRecord*> runs);
  void open_read_only();
  std::string run_columns() const;  // the runs columns read_run_row reads
  sqlite3* db_ = nullptr;
  std::filesystem::path file_;
  bool has_pid_ = true;     // false: a read-only file older than the host and pid columns
  bool has_labels_ = true;  // false: a read-only file older than the run_labels table
  bool has_kind_ = true;    // false: a read-only file older than the kind column
};

}  // namespace initscope
