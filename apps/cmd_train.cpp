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
#include "run/run.hpp"

namespace initscope::cli {

namespace {

// A one-line progress display on a terminal, redrawn at most ten times a second.
struct ProgressLine {
  bool enabled = isatty(STDERR_FILENO) != 0;
  std::chrono::steady_clock::time_point last{};
  bool drawn = false;
  void operator()(const Progress& p) {
    if (!enabled) return;
    const auto now = std::chrono::steady_clock::now();
    if (p.epoch > 0 && now - last < std::chrono::milliseconds(100)) return;
    last = now;
    const std::string err = p.regression ? "" : fmt::format("  train err {:.2f}%", 100.0 * p.error);
    fmt::print(stderr, "\r\033[Kepoch {:>4}  loss {:.4g}{}  {} {}{:.4g}  {:.0f} steps/s  {:.1f}s",
               p.epoch, p.loss, err, p.criterion_name, p.bound ? std::string(1, p.bound) : "",
               p.criterion, p.steps_per_second, p.elapsed);
    drawn = true;
  }
  void finish() {
    if (drawn) fmt::print(stderr, "\n");
  }
};

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
  auto json = std::make_shared<bool>(false);
  const auto given_options = add_run_option_flags(cmd);
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_option("--data-dir", common.data_dir,
                  "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  cmd->add_option("--save-weights", *save_weights,
                  "write init.safetensors and final.safetensors here");
  cmd->add_flag("--json", *json, "print the finished run as one JSON object on stdout");

  cmd->callback([=, &common] {
    const nlohmann::json j = given_options();
    const TrainConfig c = config_from_json(j);
    RunOptions opt;
    opt.data_dir = data_dir(common.data_dir);
    if (!save_weights->empty()) opt.save_weights = *save_weights;
    // SIGINT or SIGTERM stops the run after its current step; it is stored `interrupted` with
    // its trajectory so far, and the command exits 130 or 143 (a second signal ends it at once).
    g_stop_signal.store(0);
    g_stop_count.store(0);
    const StopSignals signals;
    opt.stop = &g_stop_signal;
    Db db(common.db);
    db.mark_interrupted();  // rows of runs on this host whose process is gone (kill -9, a crash)
    ProgressLine line;
    RunRecord r;
    try {
      r = *execute_run(c, opt, db, std::ref(line));
    } catch (...) {
      line.finish();
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
    if (*json) {
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
      fmt::print(
          "  train loss {:.4g}  train error {:.2f}%  test error {:.2f}%  gen error {:.2f}%\n",
          get("train_loss"), 100 * get("train_error"), 100 * get("test_error"),
          100 * get("gen_error"));
      fmt::print("  dist_init {:.4f}  margin min {:.3g} p10 {:.3g} median {:.3g}\n",
                 get("dist_init"), get("margin_min"), get("margin_p10"), get("margin_median"));
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
  });
}

}  // namespace initscope::cli
