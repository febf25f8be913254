// `initscope train`: one run from flags, stored in the database, summarized or printed as JSON.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "data/dataset.hpp"
#include "progress.hpp"
#include "run/run.hpp"

namespace initscope::cli {

namespace {

// A database file this command created and left without a single run (the run failed before
// its row was inserted: a missing data file, a run too large): removed with its WAL files, so a
// failed first `train` leaves nothing behind.
void remove_if_empty(const std::string& file) {
  try {
    {
      Db db(file, DbMode::read_only);
      if (!db.runs().empty()) return;
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file + suffix);
  } catch (const std::exception&) {
    // leave whatever is there: the error being reported matters more
  }
}

// What `train` and `rerun` take besides the config.
struct TrainRequest {
  std::string progress;  // --progress
  double every = 30.0;   // --progress-every
  bool again = false;
  bool json = false;
  RunLabels labels;
  std::string save_weights;
};

// Runs `c` into the database with progress, and prints the result (train and rerun).
void train_and_report(const TrainConfig& c, const TrainRequest& q, Common& common) {
  const ProgressMode mode = parse_progress_mode(q.progress, isatty(STDERR_FILENO) != 0);
  RunOptions opt;
  opt.data_dir = data_dir(common.data_dir);
  opt.labels = q.labels;
  if (!q.save_weights.empty()) opt.save_weights = q.save_weights;
  // SIGINT or SIGTERM stops the run after its current step; it is stored `interrupted` with
  // its trajectory so far, and the command exits 130 or 143 (a second signal ends it at once).
  g_stop_signal.store(0);
  g_stop_count.store(0);
  const StopSignals signals;
  opt.stop = &g_stop_signal;
  const bool existed = std::filesystem::exists(common.db);
  TrainProgress line(mode, q.every);
  RunRecord r;
  try {
    Db db(common.db);
    db.mark_interrupted();  // rows of runs on this host whose process is gone (kill -9, a crash)
    // The same config and seed completed already: a second copy would count twice in a report
    // that treats runs as seeds. Refused unless asked for.
    if (!q.again) {
      upgrade_run_identities(db);
      if (const auto done = db.completed_run(config_hash(c)))
        throw Error(fmt::format(
            "train: run {} in {} already completed this config with seed {} (initscope show {} "
            "--db {}); pass --again to train it once more, or --seed N for another seed",
            *done, common.db, c.seed, *done, common.db));
    }
    r = *execute_run(c, opt, db, std::ref(line));
  } catch (...) {
    line.finish();
    if (!existed) remove_if_empty(common.db);
    throw;
  }
  line.finish();
  const auto stopped = [&] {
    if (r.status != k_status_interrupted) return;
    const int sig = g_stop_signal.load();
    throw Interrupted(sig, fmt::format("run {} stopped by {} and stored as interrupted with its "
                                       "trajectory so far (initscope show {} --db {})",
                                       r.id, signal_name(sig), r.id, common.db));
  };
  if (q.json) {
    fmt::print("{}\n", record_json(r).dump());
    stopped();
    return;
  }
  const auto& m = r.metrics;
  const auto get = [&](const char* k) { return m.count(k) ? m.at(k) : NAN; };
  const bool interrupted = r.status == k_status_interrupted;
  fmt::print("run {} {}: stopped by {}{}\n", r.id, r.status, r.stopped_by,
             r.converged || interrupted ? "" : " (did not meet its criterion)");
  fmt::print("  epochs {:.0f}  steps {:.0f}  {:.1f}s  ({:.0f} steps/s)\n", get("epochs"),
             get("steps"), get("wall_seconds"), get("steps_per_second"));
  if (interrupted) {
    // an interrupted run has no final measures
  } else if (m.count("train_mse")) {  // a regression task: no errors or margins
    fmt::print("  train mse {:.4g}  test mse {:.4g}", get("train_mse"), get("test_mse"));
    if (m.count("train_psnr"))
      fmt::print("  train psnr {:.2f} dB  test psnr {:.2f} dB", get("train_psnr"),
                 get("test_psnr"));
    fmt::print("\n  dist_init {:.4f}\n", get("dist_init"));
  } else {
    fmt::print("  train loss {:.4g}  train error {:.2f}%  test error {:.2f}%  gen error {:.2f}%\n",
               get("train_loss"), 100 * get("train_error"), 100 * get("test_error"),
               100 * get("gen_error"));
    fmt::print("  dist_init {:.4f}  margin min {:.3g} p10 {:.3g} median {:.3g}\n", get("dist_init"),
               get("margin_min"), get("margin_p10"), get("margin_median"));
  }
  if (m.count("pretrain_steps"))
    fmt::print(
        "  pretrained ({}) for {:.0f} steps{}: dist_pretrain {:.4f}  pretraining moved "
        "{:.4f} from the init\n",
        to_string(c.pretrain), get("pretrain_steps"),
        get("pretrain_converged") > 0 ? "" : " (did not meet --pretrain-stop)",
        get("dist_pretrain"), get("pretrain_dist_init"));
  if (!r.error.empty()) fmt::print("  {}\n", r.error);
  fmt::print("  stored in {} (initscope show {} --db {})\n", common.db, r.id, common.db);
  stopped();
}

// The flags train and rerun share: how progress shows, --again, --json, --name and --tag.
void add_request_flags(CLI::App* cmd, TrainRequest& q) {
  cmd->add_flag("--json", q.json, "print the finished run as one JSON object on stdout");
  cmd->add_option("--name", q.labels.name,
                  "a name for the run (runs, show; not part of its identity)");
  cmd->add_option("--tag", q.labels.tags, "a tag for the run, repeatable (runs --where tag=X)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--progress", q.progress,
                  "progress on stderr: auto (bar on a terminal, lines otherwise), bar, lines, none")
      ->capture_default_str();
  cmd->add_option("--progress-every", q.every,
                  "seconds between progress lines in lines mode (0: every epoch)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_flag("--again", q.again,
                "train even if a completed run with the same config and seed is in the database");
}

}  // namespace

void add_options(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "options", "List every run option: its flag, default, and whether it changes the result");
  auto markdown = std::make_shared<bool>(false);
  cmd->add_flag("--markdown", *markdown, "print the README's option table");
  cmd->callback([=] {
    if (*markdown) {
      fmt::print("{}", options_markdown());
      return;
    }
    const TrainConfig defaults;
    fmt::print("{:<16} {:<15} {:<9} {}\n", "option", "default", "identity", "meaning");
    for (const OptionSpec& spec : run_options()) {
      const nlohmann::json d = spec.get(defaults);
      const std::string def = d.is_string() ? d.get<std::string>() : d.dump();
      const char* role = spec.role == OptionRole::result ? "result"
                         : spec.role == OptionRole::axis ? "axis"
                                                         : "-";
      fmt::print("{:<16} {:<15} {:<9} {}\n", spec.flag(), def, role, spec.help);
    }
    fmt::print(
        "\nidentity: result and axis options are part of a run's config_hash when they "
        "differ from their default; axis options also vary within one experiment of the "
        "report; '-' options change only how a run executes.\n");
  });
}

std::function<nlohmann::json()> add_run_option_flags(CLI::App* cmd,
                                                     const std::vector<std::string>& skip) {
  // Every run option's flag comes from the option table (train/config.hpp); the texts given
  // are turned into JSON by the option's kind and read by config_from_json, like a sweep file.
  auto given = std::make_shared<std::map<std::string, std::vector<std::string>>>();
  auto flags = std::make_shared<std::map<std::string, bool>>();
  // A flag given twice takes its last value, so scripts can append overrides.
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  const TrainConfig defaults;
  const auto skipped = [skip](const OptionSpec& spec) {
    return std::find(skip.begin(), skip.end(), spec.name) != skip.end();
  };
  for (const OptionSpec& spec : run_options()) {
    if (skipped(spec)) continue;
    const std::string help = spec.kind == OptionKind::choice
                                 ? fmt::format("{} ({})", spec.help, fmt::join(spec.choices, ", "))
                                 : spec.help;
    if (spec.kind == OptionKind::flag) {
      cmd->add_flag(spec.flag(), (*flags)[spec.name], help);
      continue;
    }
    auto* opt = cmd->add_option(spec.flag(), (*given)[spec.name], help);
    if (spec.kind == OptionKind::text_list)
      opt->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    const nlohmann::json d = spec.get(defaults);
    if (spec.kind == OptionKind::on_off)
      opt->default_str(d.get<bool>() ? "on" : "off");
    else if (d.is_string())
      opt->default_str(d.get<std::string>());
    else if (d.is_number())
      opt->default_str(d.dump());
  }
  return [=] {
    nlohmann::json j = nlohmann::json::object();
    for (const OptionSpec& spec : run_options()) {
      if (skipped(spec)) continue;
      if (spec.kind == OptionKind::flag) {
        if (flags->at(spec.name)) j[spec.name] = true;
        continue;
      }
      const auto& texts = given->at(spec.name);
      if (texts.empty()) continue;
      if (spec.kind == OptionKind::text_list) {
        j[spec.name] = texts;
      } else {
        j[spec.name] = option_value_from_text(spec, texts.back());
      }
    }
    return j;
  };
}

void add_train(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand("train", "Train one network and record it in the database");
  auto save_weights = std::make_shared<std::string>();
  const auto given_options = add_run_option_flags(cmd);
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_option("--data-dir", common.data_dir,
                  "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  cmd->add_option("--save-weights", *save_weights,
                  "write init.safetensors and final.safetensors here");
  auto request = std::make_shared<TrainRequest>();
  request->progress = "auto";
  add_request_flags(cmd, *request);
  auto from_run = std::make_shared<std::string>();
  cmd->add_option("--from-run", *from_run,
                  "start from this run's config (in --db); the flags given here change it");
  cmd->callback([=, &common] {
    nlohmann::json j = given_options();
    if (!from_run->empty()) {
      // --from-run ID: that run's config, with the flags given here on top.
      const RunRecord base = read_run(*from_run, "--from-run", common.db);
      nlohmann::json merged = base.config;
      merged.update(j);
      j = merged;
    }
    TrainRequest q = *request;
    q.save_weights = *save_weights;
    train_and_report(config_from_json(j), q, common);
  });
}

void add_rerun(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand(
      "rerun",
      "Train a stored run's config again (as train --from-run ID; --seed for another seed)");
  auto id = std::make_shared<std::string>();
  auto seed = std::make_shared<std::optional<uint64_t>>();
  auto request = std::make_shared<TrainRequest>();
  request->progress = "auto";
  cmd->add_option("id", *id, "run id (initscope runs lists them)")->required();
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_option("--data-dir", common.data_dir,
                  "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  cmd->add_option("--seed", *seed, "another seed (default: the run's own)");
  add_request_flags(cmd, *request);
  cmd->callback([=, &common] {
    const RunRecord base = read_run(*id, "rerun", common.db);
    nlohmann::json j = base.config;
    if (*seed) j["seed"] = **seed;
    TrainRequest q = *request;
    // A rerun keeps the run's name and tags unless new ones are given; never its sweep.
    if (q.labels.name.empty()) q.labels.name = base.labels.name;
    if (q.labels.tags.empty()) q.labels.tags = base.labels.tags;
    train_and_report(config_from_json(j), q, common);
  });
}

}  // namespace initscope::cli
