// The SQLite results database behind db.hpp: schema creation and versioning, run insertion,
// the one-transaction finish of a run, and the read-back queries.
// Several processes of a sweep write to one file, so every connection runs in WAL mode with a
// busy timeout and every write takes the write lock up front (BEGIN IMMEDIATE); writers then
// queue instead of failing. Migrations: columns added to old files on a read-write open (host,
// pid, started), tables added by CREATE IF NOT EXISTS (run_labels; a read-only open of a file
// without it reads no labels), and the re-hash of the runs' configs when the config identity's
// schema changes (upgrade_config_hashes). Deliberately left out:
// statement caching across calls (a run writes once, at its end), and deletion of runs.
#include "store/db.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/time.hpp"

namespace initscope {
namespace {

constexpr int k_schema_version = 1;
constexpr int k_busy_timeout_ms = 10000;

// The tables; CREATE ... IF NOT EXISTS so opening an existing database is a no-op.
constexpr const char* k_schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created TEXT,
  status TEXT NOT NULL,
  stopped_by TEXT,
  converged INTEGER,
  seed INTEGER,
  config TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  version TEXT,
  wall_seconds REAL,
  error TEXT,
  host TEXT,
  pid INTEGER);
CREATE TABLE IF NOT EXISTS metrics(
  run_id INTEGER REFERENCES runs(id),
  name TEXT,
  value REAL,
  PRIMARY KEY(run_id, name));
CREATE TABLE IF NOT EXISTS trajectory(
  run_id INTEGER REFERENCES runs(id),
  step INTEGER,
  epoch INTEGER,
  name TEXT,
  value REAL);
CREATE TABLE IF NOT EXISTS artifacts(
  run_id INTEGER REFERENCES runs(id),
  name TEXT,
  value TEXT NOT NULL,
  PRIMARY KEY(run_id, name));
CREATE TABLE IF NOT EXISTS run_labels(
  run_id INTEGER REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_hash_status ON runs(config_hash, status);
CREATE INDEX IF NOT EXISTS run_labels_run ON run_labels(run_id);
CREATE INDEX IF NOT EXISTS trajectory_run ON trajectory(run_id);
)sql";

[[noreturn]] void throw_sqlite(const std::filesystem::path& file, sqlite3* db,
                               std::string_view doing) {
  // SQLite's own words for an I/O failure ("disk I/O error") do not say what failed; the
  // system's do ("No space left on device", reliability B17).
  std::string why = sqlite3_errmsg(db);
  const int code = sqlite3_errcode(db) & 0xff;
  const int sys = sqlite3_system_errno(db);
  if ((code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN) && sys != 0)
    why += fmt::format(" ({})", std::strerror(sys));
  throw Error(fmt::format("{}: database error while {}: {}", file.string(), doing, why));
}

void exec(sqlite3* db, const std::filesystem::path& file, const char* sql, std::string_view doing) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) throw_sqlite(file, db, doing);
}

// A prepared statement that finalizes itself; `doing` describes it in error messages.
class Statement {
 public:
  Statement(sqlite3* db, const std::filesystem::path& file, const char* sql, std::string doing)
      : db_(db), file_(file), doing_(std::move(doing)) {
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail();
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int i, int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); }
  // SQLite turns a NaN into NULL on its own; column_double() turns it back.
  void bind(int i, double v) { check(sqlite3_bind_double(stmt_, i, v)); }
  void bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  // Empty optional text (stopped_by, error) is stored as NULL so SQL can test `IS NULL`.
  void bind_or_null(int i, const std::string& v) {
    if (v.empty()) {
      check(sqlite3_bind_null(stmt_, i));
    } else {
      bind(i, v);
    }
  }

  /// Runs one step; true if a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail();
  }
  /// Readies the statement for the next set of bindings (reused for many rows).
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool is_null(int i) { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  int64_t column_int(int i) { return sqlite3_column_int64(stmt_, i); }
  double column_double(int i) {
    return is_null(i) ? std::numeric_limits<double>::quiet_NaN() : sqlite3_column_double(stmt_, i);
  }
  std::string column_text(int i) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    if (p == nullptr) return {};
    return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail();
  }
  [[noreturn]] void fail() { throw_sqlite(file_, db_, doing_); }

  sqlite3* db_;
  const std::filesystem::path& file_;
  std::string doing_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Opens a transaction and rolls it back on scope exit unless commit() was called, so any
// exception between the two leaves the database as it was.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::filesystem::path& file, const char* begin_sql,
              std::string doing)
      : db_(db), file_(file), doing_(std::move(doing)) {
    exec(db_, file_, begin_sql, doing_);
  }
  ~Transaction() {
    // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, ...); only
    // roll back if the transaction is still open.
    if (!committed_ && sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    exec(db_, file_, "COMMIT", doing_);
    committed_ = true;
  }

 private:
  sqlite3* db_;
  const std::filesystem::path& file_;
  std::string doing_;
  bool committed_ = false;
};

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

// The fields of /proc/PID/stat after "pid (comm)" (comm may contain spaces and parentheses):
// [0] is the state (field 3), [19] the start time in clock ticks since boot (field 22). Empty
// if there is no such file.
std::vector<std::string> proc_stat_fields(int64_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return {};
  const auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

// When process `pid` started (clock ticks since boot), or 0 if unknown.
int64_t process_start_ticks(int64_t pid) {
  const auto f = proc_stat_fields(pid);
  return f.size() > 19 ? std::strtoll(f[19].c_str(), nullptr, 10) : 0;
}

// True unless the process certainly does not exist, is a zombie (killed, not yet reaped:
// kill(pid, 0) still succeeds on those, and a container's init may never reap them), or is
// another process that got the pid since (its start time is not `started`; 0: not recorded).
bool process_alive(int64_t pid, int64_t started) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  const auto f = proc_stat_fields(pid);
  if (f.empty()) return true;  // no /proc: trust kill()
  if (f[0] == "Z") return false;
  return started <= 0 || f.size() <= 19 || std::strtoll(f[19].c_str(), nullptr, 10) == started;
}

// What finish_run may write: every status but `running`.
bool is_final_status(const std::string& s) {
  return s == k_status_completed || s == k_status_diverged || s == k_status_failed ||
         s == k_status_interrupted;
}

constexpr const char* k_run_columns =
    "id, created, status, stopped_by, converged, seed, config, config_hash, version, "
    "wall_seconds, error, host, pid";
// The same for a file written before runs had host and pid, opened read-only (no ALTER).
constexpr const char* k_run_columns_without_pid =
    "id, created, status, stopped_by, converged, seed, config, config_hash, version, "
    "wall_seconds, error, NULL, NULL";

RunRecord read_run_row(Statement& st, const std::filesystem::path& file) {
  RunRecord r;
  r.id = st.column_int(0);
  r.created = st.column_text(1);
  r.status = st.column_text(2);
  r.stopped_by = st.column_text(3);
  r.converged = st.column_int(4) != 0;
  // Seeds are uint64 but SQLite integers are int64: the bit pattern is stored unchanged.
  r.seed = std::bit_cast<uint64_t>(st.column_int(5));
  const std::string config = st.column_text(6);
  r.config = nlohmann::json::parse(config, nullptr, /*allow_exceptions=*/false);
  if (r.config.is_discarded() || !r.config.is_object()) {
    // One damaged row must not make the whole database unreadable (reliability B18): the row
    // keeps its text, and says why it is not a config.
    r.config_error = fmt::format(
        "{}: run {} has a config that is not a JSON object (expected "
        "the JSON written by begin_run)",
        file.string(), r.id);
    r.config = config;
  }
  r.config_hash = st.column_text(7);
  r.version = st.column_text(8);
  r.wall_seconds = st.is_null(9) ? 0.0 : st.column_double(9);
  r.error = st.column_text(10);
  r.host = st.column_text(11);
  r.pid = st.is_null(12) ? 0 : st.column_int(12);
  // Rows written before the kind column (or by training) are trained runs.
  if (!st.is_null(13) && !st.column_text(13).empty()) r.kind = st.column_text(13);
  return r;
}

// A run's metrics, trajectory and artifacts, inside the caller's transaction: what finish_run
// writes, and what a merge copies.
void write_results(sqlite3* db, const std::filesystem::path& file, int64_t id,
                   const std::map<std::string, double>& metrics,
                   const std::vector<TrajectoryPoint>& trajectory,
                   const std::map<std::string, nlohmann::json>& artifacts,
                   const std::string& doing) {
  {
    Statement st(db, file, "INSERT INTO metrics(run_id, name, value) VALUES(?, ?, ?)", doing);
    for (const auto& [name, value] : metrics) {
      st.bind(1, id);
      st.bind(2, name);
      st.bind(3, value);
      st.step();
      st.reset();
    }
  }
  {
    // One prepared statement for every point: a trajectory can have 100k rows.
    Statement st(db, file,
                 "INSERT INTO trajectory(run_id, step, epoch, name, value) VALUES(?, ?, ?, ?, ?)",
                 doing);
    for (const TrajectoryPoint& p : trajectory) {
      st.bind(1, id);
      st.bind(2, p.step);
      st.bind(3, p.epoch);
      st.bind(4, p.name);
      st.bind(5, p.value);
      st.step();
      st.reset();
    }
  }
  {
    Statement st(db, file, "INSERT INTO artifacts(run_id, name, value) VALUES(?, ?, ?)", doing);
    for (const auto& [name, value] : artifacts) {
      st.bind(1, id);
      st.bind(2, name);
      st.bind(3, value.dump());
      st.step();
      st.reset();
    }
  }
}

// Opens `file` read-only. A WAL database is read through its -shm file, which SQLite creates
// next to it; a read-only file system, or a folder the user cannot write, cannot hold one once
// the last writer has removed it. Nothing can change such a file either, so it is opened
// immutable: SQLite reads the main file alone. (A -wal file left there by a killed writer would
// be ignored that way, so then the ordinary open is tried and fails with its own message.)
int open_for_reading(const std::filesystem::path& file, sqlite3** db) {
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  std::error_code ec;
  const bool frozen =
      ::access(dir.c_str(), W_OK) != 0 && !std::filesystem::exists(file.string() + "-wal", ec);
  if (!frozen) return sqlite3_open_v2(file.c_str(), db, SQLITE_OPEN_READONLY, nullptr);
  std::string uri = "file:";
  for (const unsigned char c : file.string()) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f) {
      uri += fmt::format("%{:02X}", c);
    } else {
      uri += static_cast<char>(c);
    }
  }
  uri += "?immutable=1";
  return sqlite3_open_v2(uri.c_str(), db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
}

}  // namespace

Db::Db(const std::filesystem::path& file, DbMode mode) : file_(file) {
  if (mode == DbMode::read_only) {
    open_read_only();
    return;
  }
  // A database this constructor creates and then fails to set up (a full disk) is removed, so
  // that no empty file is left to be mistaken for one (reliability B17). Only while it is still
  // empty: another process that created it at the same moment and got further has written its
  // header (the switch to WAL does), and its file stays.
  std::error_code exists_ec;
  const bool existed = std::filesystem::exists(file, exists_ec) || exists_ec;
  const auto remove_new_file = [&] {
    std::error_code ec;
    if (existed || std::filesystem::file_size(file, ec) != 0 || ec) return;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(file.string() + suffix, ec);
  };
  const int rc =
      sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    remove_new_file();
    throw Error(
        fmt::format("{}: cannot open results database ({}); expected a writable path in "
                    "an existing directory",
                    file.string(), msg));
  }
  // The destructor does not run if the constructor throws, so close the handle here.
  try {
    exec(db_, file_, fmt::format("PRAGMA busy_timeout={}", k_busy_timeout_ms).c_str(),
         "setting the busy timeout");
    // The first statement that reads the file is where SQLite notices it is not a database.
    if (sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) !=
        SQLITE_OK) {
      if (sqlite3_errcode(db_) == SQLITE_NOTADB) {
        throw Error(
            fmt::format("{}: not an SQLite database (expected an initscope results "
                        "database, or a new path)",
                        file.string()));
      }
      throw_sqlite(file_, db_, "reading the schema");
    }
    // The switch to WAL needs an exclusive lock, for which SQLite's busy timeout does not wait:
    // two processes opening a new file at once (a sweep and a test polling it) could fail with
    // "database is locked". Wait as the busy timeout would.
    for (int waited = 0;; waited += 10) {
      const int wal = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
      if (wal == SQLITE_OK) break;
      if ((wal & 0xff) != SQLITE_BUSY || waited >= k_busy_timeout_ms)
        throw_sqlite(file_, db_, "switching to WAL mode");
      sqlite3_sleep(10);
    }
    exec(db_, file_, "PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL");
    exec(db_, file_, "PRAGMA foreign_keys=ON", "enabling foreign keys");

    // Schema check and creation in one write transaction, so two processes opening a new file
    // at once do not race.
    Transaction tx(db_, file_, "BEGIN IMMEDIATE", "creating the schema");
    bool has_meta = false;
    std::string other_table;
    {
      Statement st(db_, file_,
                   "SELECT name FROM sqlite_master WHERE type='table' AND "
                   "name IN ('meta', 'runs', 'metrics', 'trajectory')",
                   "reading the schema");
      while (st.step()) {
        const std::string name = st.column_text(0);
        if (name == "meta") {
          has_meta = true;
        } else {
          other_table = name;
        }
      }
    }
    // A foreign database that happens to have a `runs` table must not be written into.
    if (!has_meta && !other_table.empty()) {
      throw Error(
          fmt::format("{}: has a '{}' table but no initscope 'meta' table (expected an "
                      "initscope results database, or a new path)",
                      file.string(), other_table));
    }
    if (has_meta) {
      Statement st(db_, file_, "SELECT value FROM meta WHERE key='schema_version'",
                   "reading the schema version");
      if (st.step()) {
        const std::string text = st.column_text(0);
        int version = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
        if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
          throw Error(
              fmt::format("{}: unrecognised schema_version '{}' in the meta table "
                          "(expected {})",
                          file.string(), text, k_schema_version));
        }
        if (version > k_schema_version) {
          throw Error(
              fmt::format("{}: results database has schema version {}, newer than this "
                          "initscope supports ({}); use a newer initscope",
                          file.string(), version, k_schema_version));
        }
      }
    }
    exec(db_, file_, k_schema_sql, "creating the schema");
    {
      // Databases written before runs had host and pid columns get them added.
      bool has_pid = false;
      Statement st(db_, file_, "SELECT name FROM pragma_table_info('runs')", "reading the schema");
      while (st.step()) has_pid = has_pid || st.column_text(0) == "pid";
      if (!has_pid)
        exec(db_, file_,
             "ALTER TABLE runs ADD COLUMN host TEXT; ALTER TABLE runs ADD COLUMN pid INTEGER;",
             "adding the host and pid columns");
    }
    {
      // The process's start time tells a live run from another process that got its pid since
      // (reliability B9: after a container restart pids start from 1 again). Older files get the
      // column; their rows have none, and are judged by the pid alone.
      bool has_started = false;
      Statement st(db_, file_, "SELECT name FROM pragma_table_info('runs')", "reading the schema");
      while (st.step()) has_started = has_started || st.column_text(0) == "started";
      if (!has_started)
        exec(db_, file_, "ALTER TABLE runs ADD COLUMN started INTEGER;",
             "adding the started column");
    }
    {
      // `initscope measure` stores runs of kind `measured` (weights it did not train). Older
      // files get the column; their rows have none, which reads as `trained`.
      bool has_kind = false;
      Statement st(db_, file_, "SELECT name FROM pragma_table_info('runs')", "reading the schema");
      while (st.step()) has_kind = has_kind || st.column_text(0) == "kind";
      if (!has_kind)
        exec(db_, file_, "ALTER TABLE runs ADD COLUMN kind TEXT;", "adding the kind column");
    }
    {
      Statement st(db_, file_, "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', ?)",
                   "writing the schema version");
      st.bind(1, std::to_string(k_schema_version));
      st.step();
    }
    tx.commit();
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    remove_new_file();
    throw;
  }
}

void Db::open_read_only() {
  // The checks a merge makes, before anything is opened: the file exists and is an initscope
  // database (never a new file, never tables added to a foreign one).
  const DbFileInfo info = inspect(file_);
  if (info.schema_version > k_schema_version)
    throw Error(
        fmt::format("{}: results database has schema version {}, newer than this initscope "
                    "supports ({}); use a newer initscope",
                    file_.string(), info.schema_version, k_schema_version));
  const int rc = open_for_reading(file_, &db_);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw Error(
        fmt::format("{}: cannot open results database for reading ({})", file_.string(), msg));
  }
  try {
    exec(db_, file_, fmt::format("PRAGMA busy_timeout={}", k_busy_timeout_ms).c_str(),
         "setting the busy timeout");
    bool has_runs = false;
    has_pid_ = has_kind_ = false;  // until the table is seen to have them
    {
      Statement st(db_, file_, "SELECT name FROM pragma_table_info('runs')", "reading the schema");
      while (st.step()) {
        has_runs = true;
        has_pid_ = has_pid_ || st.column_text(0) == "pid";
        has_kind_ = has_kind_ || st.column_text(0) == "kind";
      }
    }
    if (!has_runs)
      throw Error(fmt::format("{}: not an initscope results database (it has no runs table)",
                              file_.string()));
    {
      // Files written before runs had labels (name, tags, sweep) lack the table: no labels.
      Statement st(db_, file_,
                   "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='run_labels'",
                   "reading the schema");
      has_labels_ = st.step() && st.column_int(0) == 1;
    }
    {
      // The tables runs() and run() read, present in every schema-1 file.
      Statement st(db_, file_,
                   "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                   "name IN ('metrics', 'trajectory', 'artifacts')",
                   "reading the schema");
      if (!st.step() || st.column_int(0) != 3)
        throw Error(
            fmt::format("{}: not an initscope results database (it lacks the metrics, "
                        "trajectory or artifacts table)",
                        file_.string()));
    }
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

std::string Db::run_columns() const {
  // A read-only file may predate the host/pid and kind columns (no ALTER there): NULLs instead.
  return fmt::format("{}, {}", has_pid_ ? k_run_columns : k_run_columns_without_pid,
                     has_kind_ ? "kind" : "NULL");
}

Db::~Db() {
  sqlite3_close_v2(db_);
}

void Db::write_labels(int64_t id, const RunLabels& labels) {
  if (labels.empty()) return;
  Statement st(db_, file_, "INSERT INTO run_labels(run_id, key, value) VALUES(?, ?, ?)",
               "writing a run's labels");
  const auto put = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    st.bind(1, id);
    st.bind(2, std::string(key));
    st.bind(3, value);
    st.step();
    st.reset();
  };
  put("name", labels.name);
  for (const auto& t : labels.tags) put("tag", t);
  put("sweep_id", labels.sweep_id);
  put("sweep_file", labels.sweep_file);
  put("sweep_description", labels.sweep_description);
}

void Db::read_labels(std::vector<RunRecord*> runs) {
  if (!has_labels_ || runs.empty()) return;
  std::unordered_map<int64_t, RunRecord*> by_id;
  for (RunRecord* r : runs) by_id.emplace(r->id, r);
  // One run: its rows by the index; many: one pass over the table.
  const bool one = runs.size() == 1;
  Statement st(db_, file_,
               one ? "SELECT run_id, key, value FROM run_labels WHERE run_id=? ORDER BY rowid"
                   : "SELECT run_id, key, value FROM run_labels ORDER BY rowid",
               "reading run labels");
  if (one) st.bind(1, runs[0]->id);
  while (st.step()) {
    const auto it = by_id.find(st.column_int(0));
    if (it == by_id.end()) continue;
    RunLabels& l = it->second->labels;
    const std::string key = st.column_text(1), value = st.column_text(2);
    if (key == "name")
      l.name = value;
    else if (key == "tag")
      l.tags.push_back(value);
    else if (key == "sweep_id")
      l.sweep_id = value;
    else if (key == "sweep_file")
      l.sweep_file = value;
    else if (key == "sweep_description")
      l.sweep_description = value;
  }
}

int64_t Db::insert_running(const nlohmann::json& config, const std::string& config_hash,
                           uint64_t seed, const std::string& version, const RunLabels& labels) {
  Statement st(db_, file_,
               "INSERT INTO runs(created, status, seed, config, config_hash, version, host, pid, "
               "started) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
               "inserting a new run");
  st.bind(1, utc_now());
  st.bind(2, std::string(k_status_running));
  st.bind(3, std::bit_cast<int64_t>(seed));
  st.bind(4, config.dump());
  st.bind(5, config_hash);
  st.bind(6, version);
  st.bind(7, host_name());
  st.bind(8, static_cast<int64_t>(::getpid()));
  st.bind(9, process_start_ticks(::getpid()));
  st.step();
  const int64_t id = sqlite3_last_insert_rowid(db_);
  write_labels(id, labels);  // in the caller's transaction: the row and its labels land together
  return id;
}

int64_t Db::begin_run(const nlohmann::json& config, const std::string& config_hash, uint64_t seed,
                      const std::string& version, const RunLabels& labels) {
  Transaction tx(db_, file_, "BEGIN IMMEDIATE", "starting a run");
  const int64_t id = insert_running(config, config_hash, seed, version, labels);
  tx.commit();
  return id;
}

std::optional<int64_t> Db::claim_run(const nlohmann::json& config, const std::string& config_hash,
                                     uint64_t seed, const std::string& version, bool retry_failed,
                                     const RunLabels& labels) {
  // BEGIN IMMEDIATE takes the write lock first, so two processes cannot both see the config as
  // free and both claim it.
  Transaction tx(db_, file_, "BEGIN IMMEDIATE", "claiming a run");
  {
    Statement st(
        db_, file_,
        "SELECT status, host, pid, started FROM runs WHERE config_hash=? AND status IN (?, ?, ?, "
        "?)",
        "looking for an earlier run of the same config");
    st.bind(1, config_hash);
    st.bind(2, std::string(k_status_completed));
    st.bind(3, std::string(k_status_diverged));
    st.bind(4, std::string(k_status_running));
    // A status that is never stored stands in for `failed` when failed runs are retried.
    st.bind(5, std::string(retry_failed ? "-" : k_status_failed));
    const std::string here = host_name();
    while (st.step()) {
      if (st.column_text(0) != k_status_running) return std::nullopt;
      // A `running` row counts only while its process lives; another host's rows we cannot
      // check, so they count too.
      if (st.column_text(1) != here || process_alive(st.column_int(2), st.column_int(3)))
        return std::nullopt;
    }
  }
  const int64_t id = insert_running(config, config_hash, seed, version, labels);
  tx.commit();
  return id;
}

int Db::mark_interrupted() {
  Transaction tx(db_, file_, "BEGIN IMMEDIATE", "marking interrupted runs");
  std::vector<int64_t> dead;
  {
    Statement st(db_, file_, "SELECT id, pid, started FROM runs WHERE status=? AND host=?",
                 "looking for interrupted runs");
    st.bind(1, std::string(k_status_running));
    st.bind(2, host_name());
    while (st.step())
      if (!process_alive(st.column_int(1), st.column_int(2))) dead.push_back(st.column_int(0));
  }
  Statement up(db_, file_, "UPDATE runs SET status=?, error=? WHERE id=?",
               "marking interrupted runs");
  for (const int64_t id : dead) {
    up.bind(1, std::string(k_status_interrupted));
    up.bind(2, std::string("the process running it ended before it finished"));
    up.bind(3, id);
    up.step();
    up.reset();
  }
  tx.commit();
  return static_cast<int>(dead.size());
}

void Db::finish_run(int64_t id, const std::string& status, const std::string& stopped_by,
                    bool converged, double wall_seconds, const std::string& error,
                    const std::map<std::string, double>& metrics,
                    const std::vector<TrajectoryPoint>& trajectory,
                    const std::map<std::string, nlohmann::json>& artifacts) {
  IS_CHECK(is_final_status(status), "finish_run needs completed, diverged, failed or interrupted");
  const std::string doing = fmt::format("finishing run {}", id);
  // Any throw below (including from the Statement helpers) rolls the whole transaction back.
  Transaction tx(db_, file_, "BEGIN IMMEDIATE", doing);
  {
    Statement st(db_, file_, "SELECT status FROM runs WHERE id=?", doing);
    st.bind(1, id);
    if (!st.step()) {
      throw Error(
          fmt::format("{}: cannot finish run {}: no such run (expected an id returned by "
                      "begin_run)",
                      file_.string(), id));
    }
    const std::string current = st.column_text(0);
    if (current != k_status_running) {
      throw Error(
          fmt::format("{}: cannot finish run {}: its status is already '{}' (expected "
                      "'running'; a run is finished once)",
                      file_.string(), id, current));
    }
  }
  {
    Statement st(db_, file_,
                 "UPDATE runs SET status=?, stopped_by=?, converged=?, wall_seconds=?, error=? "
                 "WHERE id=?",
                 doing);
    st.bind(1, status);
    st.bind_or_null(2, stopped_by);
    st.bind(3, int64_t{converged ? 1 : 0});
    st.bind(4, wall_seconds);
    st.bind_or_null(5, error);
    st.bind(6, id);
    st.step();
  }
  write_results(db_, file_, id, metrics, trajectory, artifacts, doing);
  tx.commit();
}

int64_t Db::record_measured_run(const nlohmann::json& config, const std::string& config_hash,
                                uint64_t seed, const std::string& version, double wall_seconds,
                                const std::map<std::string, double>& metrics,
                                const std::map<std::string, nlohmann::json>& artifacts) {
  // The row and its results in one transaction: a measurement that fails leaves nothing.
  Transaction tx(db_, file_, "BEGIN IMMEDIATE", "recording a measured run");
  const int64_t id = insert_running(config, config_hash, seed, version, RunLabels{});
  const std::string doing = fmt::format("recording measured run {}", id);
  {
    Statement st(db_, file_,
                 "UPDATE runs SET status=?, stopped_by=?, converged=?, wall_seconds=?, kind=? "
                 "WHERE id=?",
                 doing);
    st.bind(1, std::string(k_status_completed));
    st.bind(2, std::string(k_kind_measured));
    st.bind(3, int64_t{0});
    st.bind(4, wall_seconds);
    st.bind(5, std::string(k_kind_measured));
    st.bind(6, id);
    st.step();
  }
  write_results(db_, file_, id, metrics, {}, artifacts, doing);
  tx.commit();
  return id;
}

std::optional<nlohmann::json> Db::artifact(int64_t id, const std::string& name) {
  Statement st(db_, file_, "SELECT value FROM artifacts WHERE run_id=? AND name=?",
               fmt::format("reading artifact '{}' of run {}", name, id));
  st.bind(1, id);
  st.bind(2, name);
  if (!st.step()) return std::nullopt;
  return nlohmann::json::parse(st.column_text(0));
}

std::vector<RunRecord> Db::runs() {
  // One read transaction, so runs and metrics come from the same snapshot even while other
  // processes write.
  Transaction tx(db_, file_, "BEGIN", "reading runs");
  std::vector<RunRecord> out;
  std::unordered_map<int64_t, size_t> index;
  {
    Statement st(db_, file_, fmt::format("SELECT {} FROM runs ORDER BY id", run_columns()).c_str(),
                 "reading runs");
    while (st.step()) {
      RunRecord r = read_run_row(st, file_);
      if (!r.config_error.empty()) {
        // Every reader of runs() needs the config (the report's grouping, a sweep's resume, a
        // merge); a row without one is left out, and said so.
        fmt::print(stderr, "initscope: warning: {}; left out\n", r.config_error);
        continue;
      }
      out.push_back(std::move(r));
      index.emplace(out.back().id, out.size() - 1);
    }
  }
  {
    Statement st(db_, file_, "SELECT run_id, name, value FROM metrics", "reading metrics");
    while (st.step()) {
      const auto it = index.find(st.column_int(0));
      if (it != index.end()) out[it->second].metrics[st.column_text(1)] = st.column_double(2);
    }
  }
  {
    std::vector<RunRecord*> all;
    for (auto& r : out) all.push_back(&r);
    read_labels(all);
  }
  tx.commit();
  return out;
}

std::optional<RunRecord> Db::run(int64_t id) {
  const std::string doing = fmt::format("reading run {}", id);
  Transaction tx(db_, file_, "BEGIN", doing);
  std::optional<RunRecord> out;
  {
    Statement st(db_, file_, fmt::format("SELECT {} FROM runs WHERE id=?", run_columns()).c_str(),
                 doing);
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    out = read_run_row(st, file_);
  }
  {
    Statement st(db_, file_, "SELECT name, value FROM metrics WHERE run_id=?", doing);
    st.bind(1, id);
    while (st.step()) out->metrics[st.column_text(0)] = st.column_double(1);
  }
  read_labels({&*out});
  tx.commit();
  return out;
}

std::vector<TrajectoryPoint> Db::trajectory(int64_t id) {
  Statement st(db_, file_,
               "SELECT step, epoch, name, value FROM trajectory WHERE run_id=? "
               "ORDER BY step, name, rowid",
               fmt::format("reading the trajectory of run {}", id));
  st.bind(1, id);
  std::vector<TrajectoryPoint> out;
  while (st.step()) {
    out.push_back({st.column_int(0), st.column_int(1), st.column_text(2), st.column_double(3)});
  }
  return out;
}

int Db::config_hash_schema() {
  Statement st(db_, file_, "SELECT value FROM meta WHERE key='config_hash_schema'",
               "reading the config hash schema");
  if (!st.step()) return 1;
  const std::string text = st.column_text(0);
  int version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1)
    throw Error(fmt::format("{}: unrecognised config_hash_schema '{}' in the meta table",
                            file_.string(), text));
  return version;
}

int Db::upgrade_config_hashes(int schema,
                              const std::function<std::string(const nlohmann::json&)>& hash_of) {
  if (config_hash_schema() == schema) return 0;  // the common case, without the write lock
  Transaction tx(db_, file_, "BEGIN IMMEDIATE", "upgrading config hashes");
  const int current = config_hash_schema();  // another process may have upgraded meanwhile
  if (current > schema)
    throw Error(fmt::format(
        "{}: its runs are identified by config schema {}, newer than this initscope's ({}); "
        "use a newer initscope",
        file_.string(), current, schema));
  int changed = 0;
  if (current < schema) {
    std::vector<std::pair<int64_t, std::string>> rows;
    {
      // Measured runs keep their own identity (Db::record_measured_run): never re-hashed.
      Statement st(db_, file_,
                   "SELECT id, config, config_hash FROM runs WHERE kind IS NULL OR kind != "
                   "'measured'",
                   "reading configs");
      while (st.step()) {
        nlohmann::json config;
        try {
          config = nlohmann::json::parse(st.column_text(1));
        } catch (const nlohmann::json::exception&) {
          continue;
        }
        const std::string h = hash_of(config);
        if (!h.empty() && h != st.column_text(2)) rows.emplace_back(st.column_int(0), h);
      }
    }
    Statement up(db_, file_, "UPDATE runs SET config_hash=? WHERE id=?", "updating a config hash");
    for (const auto& [id, h] : rows) {
      up.bind(1, h);
      up.bind(2, id);
      up.step();
      up.reset();
      ++changed;
    }
    Statement meta(db_, file_,
                   "INSERT OR REPLACE INTO meta(key, value) VALUES('config_hash_schema', ?)",
                   "writing the config hash schema");
    meta.bind(1, std::to_string(schema));
    meta.step();
  }
  tx.commit();
  return changed;
}

int Db::schema_version() {
  return k_schema_version;
}

DbFileInfo Db::inspect(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error(
        fmt::format("{}: no such file (expected an initscope results database)", file.string()));
  sqlite3* db = nullptr;
  const int rc = open_for_reading(file, &db);
  // Closes the handle however this function ends.
  const std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> guard(db, &sqlite3_close_v2);
  if (rc != SQLITE_OK)
    throw Error(fmt::format("{}: cannot open ({})", file.string(),
                            db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  const auto foreign = [&](std::string_view why) {
    return Error(fmt::format("{}: not an initscope results database ({})", file.string(), why));
  };
  DbFileInfo info;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT key, value FROM meta WHERE key IN ('schema_version', "
                         "'config_hash_schema')",
                         -1, &st, nullptr) != SQLITE_OK) {
    const bool notadb = sqlite3_errcode(db) == SQLITE_NOTADB;
    throw foreign(notadb ? "not an SQLite file" : "no initscope meta table");
  }
  const std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st_guard(st, &sqlite3_finalize);
  int step = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    const std::string_view v = text ? text : "";
    int n = 0;
    const auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (err != std::errc() || end != v.data() + v.size() || n < 1)
      throw foreign(fmt::format("meta {} is '{}'", key, v));
    (key == "schema_version" ? info.schema_version : info.config_hash_schema) = n;
  }
  if (step != SQLITE_DONE)
    throw Error(fmt::format("{}: cannot read: {}", file.string(), sqlite3_errmsg(db)));
  if (info.schema_version == 0) throw foreign("its meta table has no schema_version");
  return info;
}

std::map<std::string, nlohmann::json> Db::artifacts(int64_t id) {
  const std::string doing = fmt::format("reading the artifacts of run {}", id);
  Statement st(db_, file_, "SELECT name, value FROM artifacts WHERE run_id=?", doing);
  st.bind(1, id);
  std::map<std::string, nlohmann::json> out;
  while (st.step()) {
    auto v = nlohmann::json::parse(st.column_text(1), nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded())
      throw Error(fmt::format("{}: artifact '{}' of run {} is not valid JSON", file_.string(),
                              st.column_text(0), id));
    out[st.column_text(0)] = std::move(v);
  }
  return out;
}

void Db::write_transaction(const std::function<void()>& body, const std::string& doing) {
  Transaction tx(db_, file_, "BEGIN IMMEDIATE", doing);
  body();
  tx.commit();
}

int64_t Db::insert_copied_run(const RunRecord& run, const std::vector<TrajectoryPoint>& trajectory,
                              const std::map<std::string, nlohmann::json>& artifacts) {
  IS_CHECK(sqlite3_get_autocommit(db_) == 0, "insert_copied_run outside write_transaction");
  const std::string doing = fmt::format("copying run {}", run.id);
  int64_t id = 0;
  {
    Statement st(db_, file_,
                 "INSERT INTO runs(created, status, stopped_by, converged, seed, config, "
                 "config_hash, version, wall_seconds, error, host, pid, kind) "
                 "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 doing);
    st.bind(1, run.created);
    st.bind(2, run.status);
    st.bind_or_null(3, run.stopped_by);
    st.bind(4, int64_t{run.converged ? 1 : 0});
    st.bind(5, std::bit_cast<int64_t>(run.seed));
    st.bind(6, run.config.dump());
    st.bind(7, run.config_hash);
    st.bind(8, run.version);
    st.bind(9, run.wall_seconds);
    st.bind_or_null(10, run.error);
    st.bind(11, run.host);
    st.bind(12, run.pid);
    st.bind_or_null(13, run.kind == k_kind_trained ? std::string() : run.kind);
    st.step();
    id = sqlite3_last_insert_rowid(db_);
  }
  write_labels(id, run.labels);
  write_results(db_, file_, id, run.metrics, trajectory, artifacts, doing);
  return id;
}

bool Db::is_done(const std::string& config_hash, bool retry_failed) {
  Statement st(db_, file_, "SELECT 1 FROM runs WHERE config_hash=? AND status IN (?, ?, ?) LIMIT 1",
               "looking up finished runs");
  st.bind(1, config_hash);
  st.bind(2, std::string(k_status_completed));
  st.bind(3, std::string(k_status_diverged));
  st.bind(4, std::string(retry_failed ? "-" : k_status_failed));
  return st.step();
}

bool Db::mark_failed(int64_t id, const std::string& error) {
  Transaction tx(db_, file_, "BEGIN IMMEDIATE", fmt::format("marking run {} failed", id));
  Statement st(db_, file_,
               "UPDATE runs SET status=?, stopped_by=?, converged=0, error=? "
               "WHERE id=? AND status=?",
               fmt::format("marking run {} failed", id));
  st.bind(1, std::string(k_status_failed));
  st.bind(2, std::string("failed"));
  st.bind(3, error);
  st.bind(4, id);
  st.bind(5, std::string(k_status_running));
  st.step();
  const bool changed = sqlite3_changes(db_) > 0;
  tx.commit();
  return changed;
}

std::optional<int64_t> Db::completed_run(const std::string& config_hash) {
  Statement st(db_, file_,
               "SELECT id FROM runs WHERE config_hash=? AND status=? ORDER BY id LIMIT 1",
               "looking up completed runs");
  st.bind(1, config_hash);
  st.bind(2, std::string(k_status_completed));
  if (!st.step()) return std::nullopt;
  return st.column_int(0);
}

bool Db::has_completed(const std::string& config_hash) {
  Statement st(db_, file_, "SELECT 1 FROM runs WHERE config_hash=? AND status=? LIMIT 1",
               "looking up completed runs");
  st.bind(1, config_hash);
  st.bind(2, std::string(k_status_completed));
  return st.step();
}

}  // namespace initscope
