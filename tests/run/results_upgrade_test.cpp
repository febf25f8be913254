// Databases written by earlier initscope versions keep resuming: their rows were hashed under
// config schema 1 (every option but threads and train_eval), and opening them through run/
// re-hashes every row under today's schema, so a sweep finds the runs it already has.
// The fixture fixtures/schema1.db was written by initscope at commit c5f5dce running
// fixtures/schema1.toml (see fixtures/README.md for the command).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "run/run.hpp"
#include "store/db.hpp"
#include "sweep/sweep.hpp"
#include "train/config.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const char* name) {
  return fs::path(INITSCOPE_TEST_DIR) / "fixtures" / name;
}

// A fresh folder of this process's own, so no WAL file of an earlier run can be replayed.
fs::path temp_dir() {
  const fs::path dir =
      fs::temp_directory_path() / ("initscope_results_upgrade_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ResultsUpgrade, OldDatabaseResumesWithoutRerunning) {
  const fs::path dir = temp_dir();
  const fs::path db_file = dir / "schema1.db";
  fs::copy_file(fixture("schema1.db"), db_file);
  const Sweep sweep = sweep_load(fixture("schema1.toml"));
  Db db(db_file);
  ASSERT_EQ(db.config_hash_schema(), 1);
  // Before the upgrade, no run of the sweep is found by today's hash.
  int found_before = 0;
  for (const auto& c : sweep.runs) found_before += db.has_completed(config_hash(c)) ? 1 : 0;
  EXPECT_EQ(found_before, 0);
  const int changed = upgrade_run_identities(db);
  EXPECT_EQ(changed, static_cast<int>(db.runs().size()));
  EXPECT_EQ(db.config_hash_schema(), k_config_schema);
  for (const auto& c : sweep.runs)
    EXPECT_TRUE(db.has_completed(config_hash(c))) << to_json(c).dump();
  // A second upgrade finds nothing to do.
  EXPECT_EQ(upgrade_run_identities(db), 0);
  // Every stored config still reads, and its stored JSON round-trips to the same identity.
  for (const auto& r : db.runs()) {
    EXPECT_EQ(r.config_hash, config_hash_of_stored(r.config));
    EXPECT_EQ(normalized_config(r.config), to_json(config_from_json(r.config)));
  }
  fs::remove_all(dir);
}

TEST(ResultsUpgrade, NewerSchemaIsRefused) {
  const fs::path dir = temp_dir();
  Db db(dir / "newer.db");
  EXPECT_EQ(db.upgrade_config_hashes(k_config_schema + 1, config_hash_of_stored), 0);
  EXPECT_THROW(upgrade_run_identities(db), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace initscope
