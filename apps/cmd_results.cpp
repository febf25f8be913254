// `initscope runs` (a table of runs) and `initscope show ID` (one run in full).
#include <charconv>
#include <cmath>

#include <fmt/core.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "store/db.hpp"

namespace initscope::cli {

nlohmann::json record_json(const RunRecord& r) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [k, v] : r.metrics)
    metrics[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  return {{"id", r.id},
          {"created", r.created},
          {"status", r.status},
          {"stopped_by", r.stopped_by},
          {"converged", r.converged},
          {"seed", r.seed},
          {"config_hash", r.config_hash},
          {"version", r.version},
          {"wall_seconds", r.wall_seconds},
          {"error", r.error},
          {"config", r.config},
          {"metrics", metrics}};
}

namespace {

std::string cfg_str(const nlohmann::json& c, const char* key) {
  if (!c.contains(key)) return "-";
  const auto& v = c[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string metric_str(const RunRecord& r, const char* key, double scale, const char* f) {
  const auto it = r.metrics.find(key);
  if (it == r.metrics.end() || !std::isfinite(it->second)) return "-";
  return fmt::format(fmt::runtime(f), it->second * scale);
}

}  // namespace

void add_results(CLI::App& app, Common& common) {
  auto* runs = app.add_subcommand("runs", "List the runs in the database");
  runs->add_option("--db", common.db, "results database")->capture_default_str();
  runs->callback([&common] {
    if (!std::filesystem::exists(common.db))
      throw Error(
          fmt::format("--db {}: no such database (train a run first, or pass --db)", common.db));
    Db db(common.db, DbMode::read_only);
    const auto rows = db.runs();  // read first: an unreadable database prints no table header
    // train and test: the error in % for classification, the MSE for regression tasks.
    fmt::print(
        "{:>4}  {:<20}  {:<11}  {:<16}  {:<8} {:>6} {:>6} {:>5} {:>5} {:>6} {:>9} {:>9} {:>8} "
        "{:>7}  {}\n",
        "id", "created", "status", "stopped_by", "dataset", "width", "m", "noise", "seed", "epochs",
        "train", "test", "dist", "secs", "pretrain");
    bool any_regression = false;
    for (const auto& r : rows) {
      const bool regression = r.metrics.count("train_mse") > 0;
      any_regression = any_regression || regression;
      const auto fit = [&](const char* split) {
        return regression ? metric_str(r, fmt::format("{}_mse", split).c_str(), 1, "{:.3e}")
                          : metric_str(r, fmt::format("{}_error", split).c_str(), 100, "{:.2f}%");
      };
      const std::string pretrain = cfg_str(r.config, "pretrain");
      fmt::print(
          "{:>4}  {:<20}  {:<11}  {:<16}  {:<8} {:>6} {:>6} {:>5} {:>5} {:>6} {:>9} {:>9} {:>8} "
          "{:>7}  {}\n",
          r.id, r.created, r.status, r.stopped_by, cfg_str(r.config, "dataset"),
          cfg_str(r.config, "width"), cfg_str(r.config, "m"), cfg_str(r.config, "noise"), r.seed,
          metric_str(r, "epochs", 1, "{:.0f}"), fit("train"), fit("test"),
          metric_str(r, "dist_init", 1, "{:.3f}"), metric_str(r, "wall_seconds", 1, "{:.1f}"),
          pretrain == "none" || pretrain == "-"
              ? "-"
              : fmt::format(
                    "{} ({:.0f} steps, dist_pretrain {:.3f})", pretrain,
                    r.metrics.count("pretrain_steps") ? r.metrics.at("pretrain_steps") : NAN,
                    r.metrics.count("dist_pretrain") ? r.metrics.at("dist_pretrain") : NAN));
    }
    if (any_regression)
      fmt::print(
          "train, test: error rate for classification, mean squared error for "
          "regression tasks\n");
  });

  auto* show = app.add_subcommand("show", "Show one run in full");
  auto id_text = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto traj = std::make_shared<bool>(false);
  show->add_option("id", *id_text, "run id")->required();
  show->add_option("--db", common.db, "results database")->capture_default_str();
  show->add_flag("--json", *json, "print as one JSON object");
  show->add_flag("--trajectory", *traj, "include the trajectory");
  show->callback([id_text, json, traj, &common] {
    // Parsed here, strictly: CLI11 clamps 99999999999999999999 to 2^63 − 1 without a word.
    int64_t id_value = 0;
    const std::string& text = *id_text;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id_value);
    if (ec != std::errc() || end != text.data() + text.size() || id_value < 1)
      throw Error(
          fmt::format("show {}: expected a run id, a whole number from 1 to 2^63 − 1 "
                      "(initscope runs lists them)",
                      text));
    const int64_t* id = &id_value;
    if (!std::filesystem::exists(common.db))
      throw Error(fmt::format("--db {}: no such database", common.db));
    Db db(common.db, DbMode::read_only);
    const auto r = db.run(*id);
    if (!r) throw Error(fmt::format("show {}: no run with that id in {}", *id, common.db));
    nlohmann::json j = record_json(*r);
    if (*traj) {
      nlohmann::json t = nlohmann::json::array();
      for (const auto& p : db.trajectory(*id))
        t.push_back({{"step", p.step}, {"epoch", p.epoch}, {"name", p.name}, {"value", p.value}});
      j["trajectory"] = t;
    }
    if (*json) {
      fmt::print("{}\n", j.dump());
      return;
    }
    fmt::print("run {}  {}  stopped by {}{}\n", r->id, r->status, r->stopped_by,
               r->converged ? "" : " (not converged)");
    fmt::print("created {}  version {}  seed {}  config_hash {}\n", r->created, r->version, r->seed,
               r->config_hash);
    if (!r->error.empty()) fmt::print("error: {}\n", r->error);
    if (r->config_error.empty()) {
      fmt::print("config:\n{}\nmetrics:\n", r->config.dump(2));
    } else {
      fmt::print("config (damaged: {}):\n{}\nmetrics:\n", r->config_error,
                 r->config.get<std::string>());
    }
    for (const auto& [k, v] : r->metrics) fmt::print("  {:<20} {:.6g}\n", k, v);
    if (*traj) fmt::print("trajectory:\n{}\n", j["trajectory"].dump());
  });
}

}  // namespace initscope::cli
