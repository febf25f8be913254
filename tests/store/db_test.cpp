// Tests for the results database (src/store/db.hpp): schema creation, exact round trips of every
// run field, the all-or-nothing finish of a run, and concurrent writers on one file.
// Left out: multi-process tests; two connections in two threads take the same file locks.
#include "store/db.hpp"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "initscope_db_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ / "results.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  fs::path path_;
};

// Runs a query that returns one integer, through the raw handle.
int64_t query_int(Db& db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.handle(), sql, -1, &st, nullptr), SQLITE_OK) << sql;
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW) << sql;
  const int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

std::string query_text(Db& db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.handle(), sql, -1, &st, nullptr), SQLITE_OK) << sql;
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW) << sql;
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  std::string v = p ? p : "";
  sqlite3_finalize(st);
  return v;
}

void exec_sql(Db& db, const char* sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db.handle(), sql, nullptr, nullptr, &err), SQLITE_OK)
      << sql << ": " << (err ? err : "");
}

// Creates a plain SQLite file with the given SQL, outside of Db.
void make_sqlite_file(const fs::path& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

nlohmann::json sample_config(int i) {
  return {{"model", {{"widths", {784, 128, 10}}, {"activation", "relu"}}},
          {"optimizer", {{"lr", 0.1}, {"momentum", 0.9}}},
          {"index", i},
          {"name", "ünïcode run"}};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected initscope::Error";
  return {};
}

// "YYYY-MM-DDTHH:MM:SSZ". Checked by hand: std::regex trips GCC 12 warnings under sanitizers.
bool is_utc_timestamp(const std::string& s) {
  const std::string pattern = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != pattern.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i]) return false;
  }
  return true;
}

TEST_F(DbTest, CreatesSchemaInWalMode) {
  Db db(path_);
  EXPECT_TRUE(fs::exists(path_));
  EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key='schema_version'"), "1");
  EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_int(db, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(query_int(db, "PRAGMA busy_timeout"), 10000);
  EXPECT_EQ(query_int(db, "PRAGMA synchronous"), 1);  // NORMAL
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN "
                      "('runs_hash_status', 'trajectory_run')"),
            2);
}

// Labels (name, tags, sweep) land with the run's row, read back with it, are copied by a merge,
// and never touch the config hash; a file from before run_labels opens read-only without them.
TEST_F(DbTest, LabelsRoundTripAndOldFilesOpenWithoutThem) {
  RunLabels l;
  l.name = "baseline";
  l.tags = {"a", "b"};
  l.sweep_id = "0123456789abcdef";
  l.sweep_file = "s.toml";
  l.sweep_description = "two seeds";
  int64_t a = 0, b = 0;
  {
    Db db(path_);
    a = db.begin_run(sample_config(0), "h0", 1, "v", l);
    b = *db.claim_run(sample_config(1), "h1", 2, "v", false, {"other", {}, "", "", ""});
    db.finish_run(a, k_status_completed, "max_epochs", false, 1.0, "", {{"x", 1.0}}, {});
    const auto r = *db.run(a);
    EXPECT_EQ(r.labels.name, "baseline");
    EXPECT_EQ(r.labels.tags, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(r.labels.sweep_id, l.sweep_id);
    EXPECT_EQ(r.labels.sweep_file, "s.toml");
    EXPECT_EQ(r.labels.sweep_description, "two seeds");
    EXPECT_EQ(r.config_hash, "h0");
    const auto all = db.runs();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].labels.tags, l.tags);
    EXPECT_EQ(all[1].labels.name, "other");
    EXPECT_TRUE(all[1].labels.tags.empty());
    EXPECT_EQ(db.completed_run("h0"), a);
    EXPECT_EQ(db.completed_run("h1"), std::nullopt);  // running, not completed
    // A merge copies them.
    const fs::path copy = path_.string() + ".copy";
    Db out(copy);
    out.write_transaction([&] { out.insert_copied_run(all[0], {}, {}); }, "copying");
    EXPECT_EQ(out.runs().at(0).labels.tags, l.tags);
    EXPECT_EQ(out.runs().at(0).labels.name, "baseline");
  }
  {
    Db db(path_);
    exec_sql(db, "DROP TABLE run_labels");
  }
  Db old(path_, DbMode::read_only);  // as written before labels: no table, no labels
  const auto all = old.runs();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].labels.empty());
  EXPECT_EQ(old.run(b)->labels.name, "");
}

TEST_F(DbTest, BeginRunReturnsIncreasingIdsWithStatusRunning) {
  Db db(path_);
  const int64_t a = db.begin_run(sample_config(0), "h0", 1, "0.1.0");
  const int64_t b = db.begin_run(sample_config(1), "h1", 2, "0.1.0");
  const int64_t c = db.begin_run(sample_config(2), "h2", 3, "0.1.0");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  const auto r = db.run(b);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, k_status_running);
  EXPECT_EQ(r->stopped_by, "");
  EXPECT_FALSE(r->converged);
  EXPECT_EQ(r->error, "");
  EXPECT_EQ(r->wall_seconds, 0.0);
  EXPECT_TRUE(r->metrics.empty());
  EXPECT_TRUE(is_utc_timestamp(r->created)) << r->created;
  EXPECT_FALSE(db.run(c + 100).has_value());
}

TEST_F(DbTest, FinishRunRoundTripsEveryField) {
  Db db(path_);
  const uint64_t seed = std::numeric_limits<uint64_t>::max();
  const nlohmann::json config = sample_config(7);
  db.begin_run(sample_config(0), "other", 5, "0.0.9");
  const int64_t id = db.begin_run(config, "abc123", seed, "0.1.0");

  const double inf = std::numeric_limits<double>::infinity();
  const std::map<std::string, double> metrics = {{"test_acc", 0.9812},
                                                 {"dist_from_init", 3.25e-7},
                                                 {"sharpness", std::nan("")},
                                                 {"max_logit", inf},
                                                 {"min_logit", -inf}};
  // 500 steps x 2 names, given in reverse name order so the read-back ordering is exercised.
  std::vector<TrajectoryPoint> traj;
  for (int64_t s = 0; s < 500; ++s) {
    traj.push_back({s * 10, s / 50, "train_loss", 2.3 / double(s + 1)});
    traj.push_back({s * 10, s / 50, "dist", s == 3 ? std::nan("") : 0.01 * double(s)});
  }
  ASSERT_EQ(traj.size(), 1000u);
  db.finish_run(id, k_status_completed, "margin:10:0.99", true, 12.5, "", metrics, traj);

  const auto check = [&](const RunRecord& r) {
    EXPECT_EQ(r.id, id);
    EXPECT_EQ(r.status, k_status_completed);
    EXPECT_EQ(r.stopped_by, "margin:10:0.99");
    EXPECT_TRUE(r.converged);
    EXPECT_EQ(r.seed, seed);
    EXPECT_EQ(r.config, config);
    EXPECT_EQ(r.config_hash, "abc123");
    EXPECT_EQ(r.version, "0.1.0");
    EXPECT_EQ(r.wall_seconds, 12.5);
    EXPECT_EQ(r.error, "");
    ASSERT_EQ(r.metrics.size(), metrics.size());
    EXPECT_EQ(r.metrics.at("test_acc"), 0.9812);
    EXPECT_EQ(r.metrics.at("dist_from_init"), 3.25e-7);
    EXPECT_TRUE(std::isnan(r.metrics.at("sharpness")));
    EXPECT_EQ(r.metrics.at("max_logit"), inf);
    EXPECT_EQ(r.metrics.at("min_logit"), -inf);
  };
  const auto one = db.run(id);
  ASSERT_TRUE(one.has_value());
  check(*one);
  const auto all = db.runs();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].config_hash, "other");
  EXPECT_EQ(all[0].status, k_status_running);
  EXPECT_EQ(all[0].seed, 5u);
  check(all[1]);

  const auto back = db.trajectory(id);
  ASSERT_EQ(back.size(), 1000u);
  for (size_t i = 0; i < back.size(); ++i) {
    // Ordered by step, then name: "dist" before "train_loss".
    const TrajectoryPoint& want = traj[i % 2 == 0 ? i + 1 : i - 1];
    EXPECT_EQ(back[i].step, want.step);
    EXPECT_EQ(back[i].epoch, want.epoch);
    EXPECT_EQ(back[i].name, want.name);
    if (std::isnan(want.value)) {
      EXPECT_TRUE(std::isnan(back[i].value));
    } else {
      EXPECT_EQ(back[i].value, want.value);
    }
  }
  EXPECT_TRUE(db.trajectory(all[0].id).empty());
}

TEST_F(DbTest, MeasuredRunsAreStoredWholeWithTheirKind) {
  Db db(path_);
  const int64_t trained = db.begin_run(sample_config(1), "h1", 1, "v");
  db.finish_run(trained, k_status_completed, "max_epochs", false, 1.0, "", {{"a", 1.0}}, {});
  const int64_t id = db.record_measured_run(sample_config(2), "measured-h2", 7, "v", 2.5,
                                            {{"test_error", 0.25}}, {{"measured", {{"w", "x"}}}});
  const auto r = db.run(id);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, k_kind_measured);
  EXPECT_EQ(r->status, k_status_completed);
  EXPECT_EQ(r->stopped_by, "measured");
  EXPECT_EQ(r->seed, 7u);
  EXPECT_EQ(r->wall_seconds, 2.5);
  EXPECT_EQ(r->metrics.at("test_error"), 0.25);
  EXPECT_EQ(db.artifact(id, "measured")->at("w"), "x");
  EXPECT_EQ(db.run(trained)->kind, k_kind_trained);
  // A measured run's identity is its own: a sweep never takes it for a trained config's run.
  EXPECT_FALSE(db.has_completed("h2"));
}

TEST_F(DbTest, AFileWrittenBeforeTheKindColumnStillOpens) {
  // The runs table as initscope wrote it before kinds (and before host/pid): read-only opens
  // it as it is, read-write adds the column; its runs read as trained.
  make_sqlite_file(path_, R"sql(
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta VALUES('schema_version', '1');
    CREATE TABLE runs(id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT, status TEXT NOT NULL,
      stopped_by TEXT, converged INTEGER, seed INTEGER, config TEXT NOT NULL,
      config_hash TEXT NOT NULL, version TEXT, wall_seconds REAL, error TEXT);
    CREATE TABLE metrics(run_id INTEGER, name TEXT, value REAL, PRIMARY KEY(run_id, name));
    CREATE TABLE trajectory(run_id INTEGER, step INTEGER, epoch INTEGER, name TEXT, value REAL);
    CREATE TABLE artifacts(run_id INTEGER, name TEXT, value TEXT NOT NULL,
      PRIMARY KEY(run_id, name));
    INSERT INTO runs(created, status, seed, config, config_hash) VALUES('t', 'completed', 3,
      '{}', 'h');
  )sql");
  {
    Db ro(path_, DbMode::read_only);
    const auto runs = ro.runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].kind, k_kind_trained);
    EXPECT_EQ(runs[0].pid, 0);
  }
  Db rw(path_);
  EXPECT_EQ(rw.runs().at(0).kind, k_kind_trained);
  const int64_t id = rw.record_measured_run({}, "measured-x", 1, "v", 0.0, {}, {});
  EXPECT_EQ(rw.run(id)->kind, k_kind_measured);
}

TEST_F(DbTest, SeedsKeepTheirBitPattern) {
  Db db(path_);
  for (const uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 63, (uint64_t{1} << 63) - 1,
                              std::numeric_limits<uint64_t>::max()}) {
    const int64_t id = db.begin_run(sample_config(0), "h", seed, "v");
    EXPECT_EQ(db.run(id)->seed, seed);
  }
}

TEST_F(DbTest, FailedRunKeepsItsError) {
  Db db(path_);
  const int64_t id = db.begin_run(sample_config(0), "h", 1, "v");
  db.finish_run(id, k_status_failed, "", false, 0.5, "data file missing", {}, {});
  const auto r = db.run(id);
  EXPECT_EQ(r->status, k_status_failed);
  EXPECT_EQ(r->error, "data file missing");
  EXPECT_EQ(r->stopped_by, "");
  EXPECT_FALSE(r->converged);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM runs WHERE stopped_by IS NULL"), 1);
}

TEST_F(DbTest, HasCompletedOnlyCountsCompletedRuns) {
  Db db(path_);
  EXPECT_FALSE(db.has_completed("h"));
  const int64_t running = db.begin_run(sample_config(0), "h", 1, "v");
  EXPECT_FALSE(db.has_completed("h"));
  const int64_t diverged = db.begin_run(sample_config(0), "h", 2, "v");
  db.finish_run(diverged, k_status_diverged, "", false, 1.0, "loss is NaN", {}, {});
  const int64_t failed = db.begin_run(sample_config(0), "h", 3, "v");
  db.finish_run(failed, k_status_failed, "", false, 1.0, "boom", {}, {});
  EXPECT_FALSE(db.has_completed("h"));
  const int64_t other = db.begin_run(sample_config(0), "other", 4, "v");
  db.finish_run(other, k_status_completed, "max_epochs", false, 1.0, "", {}, {});
  EXPECT_FALSE(db.has_completed("h"));
  EXPECT_TRUE(db.has_completed("other"));
  db.finish_run(running, k_status_completed, "max_epochs", false, 1.0, "", {}, {});
  EXPECT_TRUE(db.has_completed("h"));
}

TEST_F(DbTest, ReopeningKeepsData) {
  int64_t id = 0;
  {
    Db db(path_);
    id = db.begin_run(sample_config(3), "h", 42, "v");
    db.finish_run(id, k_status_completed, "max_epochs", false, 2.0, "", {{"acc", 0.5}},
                  {{0, 0, "loss", 1.0}});
  }
  Db db(path_);
  const auto r = db.run(id);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->config, sample_config(3));
  EXPECT_EQ(r->metrics.at("acc"), 0.5);
  EXPECT_EQ(db.trajectory(id).size(), 1u);
  EXPECT_GT(db.begin_run(sample_config(0), "h", 1, "v"), id);
}

// Reliability B18: one row whose config is not a JSON object (damaged, or written by hand) used
// to make runs() throw, and with it `runs`, `export` and `report` for the whole database. It is
// left out of runs(); run() returns it with its text and why it is not a config.
TEST_F(DbTest, ARowWithADamagedConfigIsLeftOutNotFatal) {
  Db db(path_);
  const int64_t a = db.begin_run(sample_config(1), "h1", 1, "v");
  const int64_t b = db.begin_run(sample_config(2), "h2", 2, "v");
  const int64_t c = db.begin_run(sample_config(3), "h3", 3, "v");
  exec_sql(db, ("UPDATE runs SET config='{\"width\": 8,' WHERE id=" + std::to_string(a)).c_str());
  exec_sql(db, ("UPDATE runs SET config='[1, 2]' WHERE id=" + std::to_string(c)).c_str());
  const auto runs = db.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, b);
  EXPECT_EQ(runs[0].config, sample_config(2));
  EXPECT_TRUE(runs[0].config_error.empty());
  const auto r = db.run(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->config, "{\"width\": 8,");
  EXPECT_NE(r->config_error.find("run 1 has a config that is not a JSON object"), std::string::npos)
      << r->config_error;
}

TEST_F(DbTest, NotAnSqliteFileIsRejectedWithItsPath) {
  {
    std::ofstream out(path_);
    for (int i = 0; i < 200; ++i) out << "this is a text file, not a database\n";
  }
  const std::string msg = error_of([&] { Db db(path_); });
  EXPECT_NE(msg.find(path_.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("not an SQLite database"), std::string::npos) << msg;

  const fs::path tiny = dir_ / "tiny.db";
  std::ofstream(tiny) << "hello";
  const std::string tiny_msg = error_of([&] { Db db(tiny); });
  EXPECT_NE(tiny_msg.find(tiny.string()), std::string::npos) << tiny_msg;
}

TEST_F(DbTest, MissingDirectoryIsRejectedWithItsPath) {
  const fs::path p = dir_ / "no" / "such" / "dir" / "results.db";
  const std::string msg = error_of([&] { Db db(p); });
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
}

TEST_F(DbTest, ForeignSqliteDatabaseGetsOurTables) {
  make_sqlite_file(path_, "CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES('keep me');");
  Db db(path_);
  EXPECT_EQ(query_text(db, "SELECT x FROM notes"), "keep me");
  const int64_t id = db.begin_run(sample_config(0), "h", 1, "v");
  EXPECT_TRUE(db.run(id).has_value());
}

TEST_F(DbTest, ForeignRunsTableIsNotWrittenInto) {
  make_sqlite_file(path_, "CREATE TABLE runs(x TEXT);");
  const std::string msg = error_of([&] { Db db(path_); });
  EXPECT_NE(msg.find(path_.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("runs"), std::string::npos) << msg;
}

TEST_F(DbTest, NewerSchemaVersionIsRejected) {
  {
    Db db(path_);
    exec_sql(db, "UPDATE meta SET value='2' WHERE key='schema_version'");
  }
  const std::string msg = error_of([&] { Db db(path_); });
  EXPECT_NE(msg.find(path_.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("schema version 2"), std::string::npos) << msg;
}

TEST_F(DbTest, FinishingAMissingRunThrowsAndWritesNothing) {
  Db db(path_);
  const int64_t id = db.begin_run(sample_config(0), "h", 1, "v");
  const std::string msg = error_of([&] {
    db.finish_run(id + 1, k_status_completed, "max_epochs", false, 1.0, "", {{"acc", 1.0}},
                  {{0, 0, "loss", 1.0}});
  });
  EXPECT_NE(msg.find(path_.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such run"), std::string::npos) << msg;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM metrics"), 0);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM trajectory"), 0);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(db.run(id)->status, k_status_running);
}

TEST_F(DbTest, FailureMidwayRollsBackEverything) {
  Db db(path_);
  const int64_t id = db.begin_run(sample_config(0), "h", 1, "v");
  // Fails the 501st trajectory insert, after the status update and all metrics went in.
  exec_sql(db,
           "CREATE TRIGGER fail_midway BEFORE INSERT ON trajectory WHEN NEW.step = 500 "
           "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
  std::vector<TrajectoryPoint> traj;
  for (int64_t s = 0; s < 1000; ++s) traj.push_back({s, 0, "loss", 1.0});
  const std::map<std::string, double> metrics = {{"a", 1.0}, {"b", 2.0}};
  const std::string msg = error_of(
      [&] { db.finish_run(id, k_status_completed, "max_epochs", false, 1.0, "", metrics, traj); });
  EXPECT_NE(msg.find(path_.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("injected failure"), std::string::npos) << msg;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM metrics"), 0);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM trajectory"), 0);
  EXPECT_EQ(db.run(id)->status, k_status_running);
  EXPECT_FALSE(db.has_completed("h"));

  // The connection is usable afterwards, and the same finish then lands whole.
  exec_sql(db, "DROP TRIGGER fail_midway");
  db.finish_run(id, k_status_completed, "max_epochs", false, 1.0, "", metrics, traj);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM trajectory"), 1000);
  EXPECT_TRUE(db.has_completed("h"));
}

TEST_F(DbTest, ARunIsFinishedOnce) {
  Db db(path_);
  const int64_t id = db.begin_run(sample_config(0), "h", 1, "v");
  db.finish_run(id, k_status_diverged, "", false, 1.0, "NaN loss", {{"acc", 0.1}}, {});
  const std::string msg = error_of([&] {
    db.finish_run(id, k_status_completed, "max_epochs", false, 1.0, "", {{"acc", 0.9}}, {});
  });
  EXPECT_NE(msg.find("already 'diverged'"), std::string::npos) << msg;
  EXPECT_EQ(db.run(id)->metrics.at("acc"), 0.1);
}

TEST_F(DbTest, LargeTrajectoryInOneTransaction) {
  Db db(path_);
  const int64_t id = db.begin_run(sample_config(0), "h", 1, "v");
  std::vector<TrajectoryPoint> traj;
  for (int64_t s = 0; s < 100000; ++s) traj.push_back({s, s / 1000, "loss", double(s)});
  db.finish_run(id, k_status_completed, "max_epochs", false, 1.0, "", {}, traj);
  const auto back = db.trajectory(id);
  ASSERT_EQ(back.size(), traj.size());
  EXPECT_EQ(back.back().step, 99999);
  EXPECT_EQ(back.back().value, 99999.0);
}

TEST_F(DbTest, TwoWritersOnOneFileBothSucceed) {
  constexpr int k_runs_per_thread = 20;
  std::string errors[2];
  const auto writer = [&](int t) {
    try {
      Db db(path_);  // both threads also race to create the schema
      for (int i = 0; i < k_runs_per_thread; ++i) {
        // Built by appending: GCC 12 gives a false -Wrestrict on chained string operator+.
        std::string hash = "t";
        hash.append(std::to_string(t)).append("_").append(std::to_string(i));
        const int64_t id = db.begin_run(sample_config(i), hash, uint64_t(i), "v");
        std::vector<TrajectoryPoint> traj;
        for (int64_t s = 0; s < 200; ++s) traj.push_back({s, 0, "loss", double(s)});
        db.finish_run(id, k_status_completed, "max_epochs", false, 0.1, "", {{"acc", double(i)}},
                      traj);
        db.has_completed(hash);
      }
    } catch (const std::exception& e) {
      errors[t] = e.what();
    }
  };
  std::thread a(writer, 0);
  std::thread b(writer, 1);
  a.join();
  b.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");

  Db db(path_);
  const auto all = db.runs();
  ASSERT_EQ(all.size(), 2u * k_runs_per_thread);
  for (const RunRecord& r : all) {
    EXPECT_EQ(r.status, k_status_completed);
    EXPECT_TRUE(db.has_completed(r.config_hash));
    EXPECT_EQ(db.trajectory(r.id).size(), 200u);
  }
}

}  // namespace
}  // namespace initscope

namespace initscope {
namespace {

TEST(DbArtifacts, StoredWithTheRunAndReadBack) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("initscope_db_art_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    Db db(dir / "a.db");
    const int64_t id = db.begin_run({{"width", 4}}, "h", 1, "t");
    db.finish_run(id, k_status_completed, "x", true, 1.0, "", {{"a", 1.0}}, {},
                  {{"corrupted_indices", nlohmann::json::array({3, 5, 8})}});
    const auto got = db.artifact(id, "corrupted_indices");
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, nlohmann::json::array({3, 5, 8}));
    EXPECT_FALSE(db.artifact(id, "nothing").has_value());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace initscope

namespace initscope {
namespace {

TEST(DbClaim, ARunNeverCountsTwice) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("initscope_db_claim_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    Db db(dir / "c.db");
    const nlohmann::json cfg = {{"width", 8}};
    const auto a = db.claim_run(cfg, "h1", 1, "t");
    ASSERT_TRUE(a.has_value());
    // Running in this (live) process: a second claim is refused.
    EXPECT_FALSE(db.claim_run(cfg, "h1", 1, "t").has_value());
    db.finish_run(*a, k_status_completed, "x", true, 1.0, "", {}, {});
    EXPECT_FALSE(db.claim_run(cfg, "h1", 1, "t").has_value());
    // A failed run counts as done, unless failed runs are retried.
    const auto b = db.claim_run(cfg, "h2", 1, "t");
    ASSERT_TRUE(b.has_value());
    db.finish_run(*b, k_status_failed, "failed", false, 0.0, "boom", {}, {});
    EXPECT_TRUE(db.is_done("h2", false));
    EXPECT_FALSE(db.is_done("h2", true));
    EXPECT_FALSE(db.claim_run(cfg, "h2", 1, "t").has_value());
    const auto b2 = db.claim_run(cfg, "h2", 1, "t", /*retry_failed=*/true);
    ASSERT_TRUE(b2.has_value());
    // A diverged run is a result: never run again, even with retry_failed.
    db.finish_run(*b2, k_status_diverged, "diverged", false, 0.0, "nan", {}, {});
    EXPECT_TRUE(db.is_done("h2", true));
    EXPECT_FALSE(db.claim_run(cfg, "h2", 1, "t", true).has_value());
    // An interrupted run (stored by the run itself on a signal) never counts.
    const auto c = db.claim_run(cfg, "h3", 1, "t");
    ASSERT_TRUE(c.has_value());
    db.finish_run(*c, k_status_interrupted, "SIGTERM", false, 0.5, "stopped by SIGTERM",
                  {{"epochs", 2.0}}, {{10, 2, "epoch_loss", 0.5}});
    EXPECT_FALSE(db.is_done("h3", false));
    EXPECT_EQ(db.run(*c)->metrics.at("epochs"), 2.0);
    EXPECT_EQ(db.trajectory(*c).size(), 1u);
    EXPECT_TRUE(db.claim_run(cfg, "h3", 1, "t").has_value());
    // A run whose process died without a word is marked failed once, only while running.
    const auto d = db.claim_run(cfg, "h4", 1, "t");
    ASSERT_TRUE(d.has_value());
    EXPECT_TRUE(db.mark_failed(*d, "killed by signal 6"));
    EXPECT_FALSE(db.mark_failed(*d, "again"));
    EXPECT_EQ(db.run(*d)->status, "failed");
    EXPECT_EQ(db.run(*d)->error, "killed by signal 6");
  }
  std::filesystem::remove_all(dir);
}

// Reliability B9: a `running` row whose pid now belongs to another live process (after a
// container restart pids start from 1 again) is not alive: the process start time differs.
TEST(DbClaim, ARowWhosePidWasTakenByAnotherProcessIsInterrupted) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("initscope_db_reuse_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    Db db(dir / "r.db");
    const auto mine = db.claim_run({{"width", 8}}, "h1", 1, "t");
    const auto stale = db.claim_run({{"width", 8}}, "h2", 1, "t");
    ASSERT_TRUE(mine && stale);
    // The stale row's process died; its pid is now our parent's, which is alive but started
    // at another time than the one recorded.
    ASSERT_EQ(sqlite3_exec(db.handle(),
                           ("UPDATE runs SET pid=" + std::to_string(::getppid()) +
                            " WHERE id=" + std::to_string(*stale))
                               .c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    EXPECT_EQ(db.mark_interrupted(), 1);
    EXPECT_EQ(db.run(*stale)->status, "interrupted");
    EXPECT_EQ(db.run(*mine)->status, "running");  // this process, its own start time: alive
    EXPECT_TRUE(db.claim_run({{"width", 8}}, "h2", 1, "t").has_value());
    EXPECT_FALSE(db.claim_run({{"width", 8}}, "h1", 1, "t").has_value());
  }
  std::filesystem::remove_all(dir);
}

TEST(DbClaim, RowsOfDeadProcessesBecomeInterruptedAndFree) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("initscope_db_dead_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    Db db(dir / "d.db");
    const int64_t id = db.begin_run({{"width", 8}}, "h3", 1, "t");
    // Pretend the row belongs to a process that has exited: a child that is already reaped.
    const pid_t child = fork();
    if (child == 0) _exit(0);
    int status = 0;
    waitpid(child, &status, 0);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db.handle(), "UPDATE runs SET pid=? WHERE id=?", -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, child);
    sqlite3_bind_int64(st, 2, id);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    EXPECT_TRUE(db.claim_run({{"width", 8}}, "h3", 1, "t").has_value());  // dead owner: free
    EXPECT_EQ(db.mark_interrupted(), 1);
    EXPECT_EQ(db.run(id)->status, "interrupted");
    EXPECT_EQ(db.mark_interrupted(), 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace initscope
