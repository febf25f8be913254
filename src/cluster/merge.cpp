// See merge.hpp.
#include "cluster/merge.hpp"

#include <cmath>
#include <ctime>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/time.hpp"
#include "run/run.hpp"
#include "store/db.hpp"
#include "train/config.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

// What makes two rows the same run: its identity, seed and outcome.
using RunKey = std::tuple<std::string, uint64_t, std::string>;

RunKey key_of(const RunRecord& r) {
  return {r.config_hash, r.seed, r.status};
}

bool is_finished(const std::string& status) {
  return status == k_status_completed || status == k_status_diverged || status == k_status_failed;
}

bool is_timing(const std::string& name) {
  constexpr std::string_view suffix = "_seconds";
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The first result metric that differs ("dist_init 31.2152 vs 31.2153"), or "" if none does.
// Timings differ between any two runs and are not results.
std::string first_difference(const std::map<std::string, double>& a,
                             const std::map<std::string, double>& b) {
  for (const auto& [name, va] : a) {
    if (is_timing(name)) continue;
    const auto it = b.find(name);
    if (it == b.end()) return fmt::format("{} only in one", name);
    const double vb = it->second;
    if (!(va == vb || (std::isnan(va) && std::isnan(vb))))
      return fmt::format("{} {} vs {}", name, va, vb);
  }
  for (const auto& [name, vb] : b)
    if (!is_timing(name) && !a.count(name)) return fmt::format("{} only in one", name);
  return {};
}

// Refuses a source or an existing output that merging cannot use, before anything is written.
void check_mergeable(const fs::path& file) {
  const DbFileInfo info = Db::inspect(file);
  if (info.schema_version != Db::schema_version())
    throw Error(fmt::format(
        "{}: results database schema version {}, but this initscope writes version {}; merge "
        "only databases of the same schema version (open it once with the initscope that "
        "matches it and export, or re-run that shard)",
        file.string(), info.schema_version, Db::schema_version()));
  if (info.config_hash_schema > k_config_schema)
    throw Error(fmt::format(
        "{}: its runs are identified by config schema {}, newer than this initscope's ({}); "
        "merge with a newer initscope",
        file.string(), info.config_hash_schema, k_config_schema));
}

}  // namespace

MergeSummary merge_databases(const fs::path& out, const std::vector<fs::path>& sources) {
  if (sources.empty())
    throw Error("merge: give at least one database to merge into " + out.string());
  const fs::path out_abs = fs::weakly_canonical(fs::absolute(out));
  for (const auto& s : sources) {
    if (fs::weakly_canonical(fs::absolute(s)) == out_abs)
      throw Error(
          fmt::format("{}: is both the output and a source of the merge (expected "
                      "OUT.db first, then other databases)",
                      s.string()));
    check_mergeable(s);
  }
  const bool out_existed = fs::exists(out);
  if (out_existed) check_mergeable(out);

  MergeSummary sum;
  try {
    Db db(out);
    upgrade_run_identities(db);
    std::map<RunKey, RunRecord> have;  // the output's finished runs, and what each source adds
    for (auto& r : db.runs())
      if (is_finished(r.status)) have.emplace(key_of(r), std::move(r));
    const std::string when = utc_now();

    std::vector<std::unique_ptr<Db>> dbs;
    for (const auto& s : sources) {
      dbs.push_back(std::make_unique<Db>(s));
      upgrade_run_identities(*dbs.back());
    }
    db.write_transaction(
        [&] {
          for (size_t k = 0; k < sources.size(); ++k) {
            Db& src = *dbs[k];
            MergeSourceSummary ss;
            ss.file = sources[k];
            const std::string origin = fs::weakly_canonical(fs::absolute(sources[k])).string();
            for (auto& r : src.runs()) {
              if (!is_finished(r.status)) {
                ++ss.unfinished;
                continue;
              }
              const auto it = have.find(key_of(r));
              if (it != have.end()) {
                const std::string diff = r.status == k_status_completed
                                             ? first_difference(it->second.metrics, r.metrics)
                                             : std::string();
                if (diff.empty()) {
                  ++ss.present;
                } else {
                  ++ss.conflicts;
                  sum.conflicts.push_back(fmt::format(
                      "config {} seed {}: completed in {} (run {}) and in {} (run {}) with "
                      "different results ({}); kept the first",
                      r.config_hash, r.seed, out.string(), it->second.id, sources[k].string(), r.id,
                      diff));
                }
                continue;
              }
              auto artifacts = src.artifacts(r.id);
              nlohmann::json& from = artifacts["merged_from"];
              if (!from.is_array()) from = nlohmann::json::array();
              from.push_back({{"file", origin}, {"run_id", r.id}, {"merged", when}});
              const int64_t id = db.insert_copied_run(r, src.trajectory(r.id), artifacts);
              r.id = id;
              have.emplace(key_of(r), std::move(r));
              ++ss.copied;
            }
            sum.copied += ss.copied;
            sum.present += ss.present;
            sum.conflict_count += ss.conflicts;
            sum.unfinished += ss.unfinished;
            sum.sources.push_back(std::move(ss));
          }
        },
        fmt::format("merging into {}", out.string()));
  } catch (...) {
    if (!out_existed) {
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(out.string() + suffix, ec);
    }
    throw;
  }
  return sum;
}

}  // namespace initscope
