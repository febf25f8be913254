// The identities of the runs of today's experiment files, pinned. A change that moves any of
// them makes every database of those sweeps re-run what it has: if that is intended, bump
// k_config_schema (train/config.hpp) so that stored rows are re-hashed, then update the pins.
#include <gtest/gtest.h>

#include <filesystem>

#include <fmt/format.h>

#include "sweep/sweep.hpp"
#include "train/config.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

// The hash of config schema 1 (every option but threads and train_eval), as initscope computed
// it before the option table: today's to_json must give the same JSON, option for option.
// Options added since (the RM23 model's omega0, encoding, ...) did not exist then: the JSON is
// rebuilt from schema 1's own keys only, so that adding an option never moves these pins.
std::string schema1_hash(const TrainConfig& c) {
  static const char* const k_schema1_keys[] = {
      "activation",  "batch",         "classes",  "dataset", "depth", "init",
      "init_from",   "init_gain",     "loss",     "lr",      "m",     "max_epochs",
      "max_steps",   "measure_every", "momentum", "noise",   "seed",  "shuffle",
      "standardize", "stop",          "subset",   "width"};
  const nlohmann::json all = to_json(c);
  nlohmann::json j = nlohmann::json::object();
  for (const char* key : k_schema1_keys) j[key] = all.at(key);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : j.dump()) h = (h ^ ch) * 0x100000001b3ULL;
  return fmt::format("{:016x}", h);
}

template <class Hash>
std::string digest(const Sweep& s, Hash hash) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& c : s.runs)
    for (unsigned char ch : hash(c) + ",") h = (h ^ ch) * 0x100000001b3ULL;
  return fmt::format("{:016x}", h);
}

struct Pin {
  const char* file;
  size_t runs;
  const char* first_hash;                      // of the first run, today's schema
  const char* digest;                          // of all of them, today's schema
  const char *first_schema1, *digest_schema1;  // the same by initscope c5f5dce (sweep --dry-run)
};

const Pin k_pins[] = {
    {"nk17-expA.toml", 126, "6bbd135edbd070cb", "45cf1db71d965410", "b98d1d7639dec72a",
     "8a98d20348e02c7d"},
    {"nk17-expB.toml", 126, "75be1ccca2ac68bd", "49226cd3623ccf43", "abdf2a4c16992c0d",
     "b462d428d538cc45"},
    {"nk17-expC.toml", 126, "3612fde97bc9c660", "5339409f2d85b3ba", "feffabf7231fc9df",
     "f33afd2c96a92e3f"},
    {"nk17-fig1-quick.toml", 69, "ca8f07f1dd7fad2d", "a52afd1368b99703", "20e20bf1f3686162",
     "4553fd7426869f7d"},
    {"nk17-fig1.toml", 177, "58a42ae541d9b524", "acc8407bb625cd92", "2c5982156a70c34d",
     "186f7ad56fa48903"},
    {"nk17-fig5.toml", 210, "a3eb64f7a222accf", "8b50e7cae1dedebc", "193c2900a7b07e75",
     "937d891aa99305db"},
    {"nk17-fig6.toml", 144, "e43ce0a20b434458", "45417ed1bf556bef", "95cb6a54686acac4",
     "a3bb29ef430bfe65"},
    {"nk17-init.toml", 21, "d1eee785d32194a2", "f77a5a4ce429354a", "7123c4da7d11175a",
     "21dc4fdbfac0c7e1"},
};

fs::path experiments_dir() {
  return fs::path(INITSCOPE_TEST_DIR) / ".." / ".." / "experiments";
}

TEST(ExperimentHashes, TodaysExperimentFilesKeepTheirIdentities) {
  for (const Pin& p : k_pins) {
    const Sweep s = sweep_load(experiments_dir() / p.file);
    ASSERT_EQ(s.runs.size(), p.runs) << p.file;
    EXPECT_EQ(config_hash(s.runs.front()), p.first_hash) << p.file;
    EXPECT_EQ(digest(s, [](const TrainConfig& c) { return config_hash(c); }), p.digest) << p.file;
  }
}

TEST(ExperimentHashes, ConfigsReadAsBeforeTheOptionTable) {
  for (const Pin& p : k_pins) {
    const Sweep s = sweep_load(experiments_dir() / p.file);
    EXPECT_EQ(schema1_hash(s.runs.front()), p.first_schema1) << p.file;
    EXPECT_EQ(digest(s, schema1_hash), p.digest_schema1) << p.file;
  }
}

// The point of hashing only what differs from the defaults: an option added with a default
// (here a stand-in for a future --omega0) changes no existing identity.
TEST(ExperimentHashes, AnOptionAddedWithADefaultChangesNoHash) {
  std::vector<OptionSpec> extended = run_options();
  OptionSpec omega;
  omega.name = "omega0";
  omega.kind = OptionKind::real;
  omega.role = OptionRole::result;
  omega.get = [](const TrainConfig&) { return nlohmann::json(30.0); };
  omega.set = [](TrainConfig&, const nlohmann::json&) {};
  extended.push_back(omega);
  const fs::path dir = experiments_dir();
  size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    for (const auto& c : sweep_load(entry.path()).runs) {
      EXPECT_EQ(config_hash(c, extended), config_hash(c)) << entry.path();
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
  // The same option away from its default is a different run (the stand-in reads its value
  // from the seed, having no field of its own).
  extended.back().get = [](const TrainConfig& c) {
    return nlohmann::json(c.seed == 12345 ? 1.0 : 30.0);
  };
  TrainConfig c;
  c.seed = 12345;
  EXPECT_NE(config_hash(c, extended), config_hash(c));
  EXPECT_EQ(identity_json(c, extended)["omega0"], 1.0);
}

}  // namespace
}  // namespace initscope
