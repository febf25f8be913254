// Merges (src/cluster/merge.hpp): runs arrive with metrics, trajectory, artifacts and where
// they came from; merging again copies nothing; a resubmitted shard adds only what is new;
// different results for the same completed config are conflicts; and a foreign file, another
// schema version or the output among the sources stop the merge with nothing written.
#include "cluster/merge.hpp"

#include <sqlite3.h>
#include <stdlib.h>

#include <fstream>

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "run/run.hpp"
#include "store/db.hpp"
#include "train/config.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

class Merge : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "initscope_merge_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A finished run of width `width` and seed `seed` in `file`, with r = `r`.
  int64_t add_run(const fs::path& file, int width, uint64_t seed, double r,
                  const std::string& status = k_status_completed) {
    TrainConfig c;
    c.width = width;
    c.seed = seed;
    Db db(file);
    const int64_t id = db.begin_run(to_json(c), config_hash(c), seed, "test");
    if (status == k_status_running) return id;
    db.finish_run(id, status, "margin:10:0.9", true, 1.5 + r, "",
                  {{"dist_init", r}, {"wall_seconds", 1.5 + r}},
                  {{0, 0, "train_loss", 2.3}, {10, 1, "train_loss", 0.1}},
                  {{"engine", {{"kernels", "avx512"}}}});
    return id;
  }
  fs::path dir_;
};

TEST_F(Merge, CopiesRunsWithEverythingAndProvenance) {
  const fs::path a = dir_ / "shard-0.db", b = dir_ / "shard-1.db", out = dir_ / "all.db";
  add_run(a, 16, 1, 3.0);
  add_run(a, 32, 1, 4.0);
  const int64_t b_id = add_run(b, 64, 1, 5.0);
  add_run(b, 64, 2, 0.0, k_status_running);  // unfinished: not copied
  const MergeSummary s = merge_databases(out, {a, b});
  EXPECT_EQ(s.copied, 3);
  EXPECT_EQ(s.unfinished, 1);
  EXPECT_EQ(s.sources.at(1).copied, 1);
  Db db(out);
  const auto runs = db.runs();
  ASSERT_EQ(runs.size(), 3u);
  const RunRecord& r = runs[2];
  EXPECT_EQ(r.metrics.at("dist_init"), 5.0);
  EXPECT_EQ(r.config["width"], 64);
  EXPECT_EQ(r.version, "test");
  EXPECT_FALSE(r.host.empty());
  EXPECT_EQ(db.trajectory(r.id).size(), 2u);
  const auto art = db.artifacts(r.id);
  EXPECT_EQ(art.at("engine")["kernels"], "avx512");
  ASSERT_EQ(art.at("merged_from").size(), 1u);
  EXPECT_EQ(art.at("merged_from")[0]["file"], fs::weakly_canonical(b).string());
  EXPECT_EQ(art.at("merged_from")[0]["run_id"], b_id);
}

TEST_F(Merge, IsIdempotentAndAddsOnlyWhatIsNew) {
  const fs::path a = dir_ / "a.db", out = dir_ / "all.db";
  add_run(a, 16, 1, 3.0);
  EXPECT_EQ(merge_databases(out, {a}).copied, 1);
  MergeSummary s = merge_databases(out, {a, a});
  EXPECT_EQ(s.copied, 0);
  EXPECT_EQ(s.present, 2);
  add_run(a, 16, 2, 3.5);  // the resubmitted shard finished one more run
  s = merge_databases(out, {a});
  EXPECT_EQ(s.copied, 1);
  EXPECT_EQ(s.present, 1);
  EXPECT_EQ(Db(out).runs().size(), 2u);
}

TEST_F(Merge, DifferentResultsOfOneConfigAreAConflict) {
  const fs::path a = dir_ / "a.db", b = dir_ / "b.db", out = dir_ / "all.db";
  add_run(a, 16, 1, 3.0);
  add_run(b, 16, 1, 3.25);
  const MergeSummary s = merge_databases(out, {a, b});
  EXPECT_EQ(s.copied, 1);
  EXPECT_EQ(s.conflict_count, 1);
  ASSERT_EQ(s.conflicts.size(), 1u);
  EXPECT_NE(s.conflicts[0].find("dist_init 3 vs 3.25"), std::string::npos) << s.conflicts[0];
  EXPECT_EQ(Db(out).runs().at(0).metrics.at("dist_init"), 3.0);
}

std::string merge_error(const fs::path& out, const std::vector<fs::path>& sources) {
  try {
    merge_databases(out, sources);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST_F(Merge, ForeignFilesStopItWithNothingWritten) {
  const fs::path a = dir_ / "a.db", out = dir_ / "all.db";
  add_run(a, 16, 1, 3.0);
  const fs::path text = dir_ / "notes.txt";
  std::ofstream(text) << "not a database at all, just text that is long enough\n";
  EXPECT_NE(merge_error(out, {a, text}).find("notes.txt: not an initscope results database"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(out));
  const fs::path other = dir_ / "other.db";  // an SQLite file of someone else's
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE users(name TEXT)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_NE(merge_error(out, {a, other}).find("other.db: not an initscope results database"),
            std::string::npos);
  EXPECT_NE(merge_error(out, {a, dir_ / "missing.db"}).find("missing.db: no such file"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(dir_ / "missing.db"));  // never created
  EXPECT_NE(merge_error(a, {a}).find("both the output and a source"), std::string::npos);
  // The foreign file was only read.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

void set_meta(const fs::path& file, const std::string& key, const std::string& value) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  const std::string sql =
      "INSERT OR REPLACE INTO meta(key, value) VALUES('" + key + "', '" + value + "')";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(Merge, AnotherSchemaVersionStopsItWithNothingWritten) {
  const fs::path a = dir_ / "a.db", b = dir_ / "b.db", out = dir_ / "all.db";
  add_run(a, 16, 1, 3.0);
  add_run(b, 32, 1, 3.0);
  add_run(out, 64, 1, 3.0);
  set_meta(b, "schema_version", std::to_string(Db::schema_version() + 1));
  const std::string e = merge_error(out, {a, b});
  EXPECT_NE(e.find("b.db: results database schema version"), std::string::npos) << e;
  EXPECT_EQ(Db(out).runs().size(), 1u);
  set_meta(b, "schema_version", std::to_string(Db::schema_version()));
  set_meta(b, "config_hash_schema", std::to_string(k_config_schema + 1));
  EXPECT_NE(merge_error(out, {a, b}).find("newer than this initscope's"), std::string::npos);
  EXPECT_EQ(Db(out).runs().size(), 1u);
}

TEST_F(Merge, OlderIdentitiesAreUpgradedBeforeComparing) {
  const fs::path a = dir_ / "a.db", b = dir_ / "b.db", out = dir_ / "all.db";
  add_run(a, 16, 1, 3.0);
  add_run(b, 16, 1, 3.0);
  // b as an older initscope left it: schema 1 identities (a different hash for the same run).
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(b.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db,
                 "UPDATE runs SET config_hash='old-identity'; DELETE FROM meta WHERE "
                 "key='config_hash_schema'",
                 nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  const MergeSummary s = merge_databases(out, {a, b});
  EXPECT_EQ(s.copied, 1);
  EXPECT_EQ(s.present, 1);
}

}  // namespace
}  // namespace initscope
