// `initscope train`: one run from flags, stored in the database, summarized or printed as JSON.
#include <unistd.h>

#include <chrono>
#include <sstream>

#include <fmt/core.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "data/dataset.hpp"
#include "train/run.hpp"

namespace initscope::cli {

namespace {

std::vector<int> parse_classes(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const int v = std::stoi(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      throw Error(
          fmt::format("--classes {}: '{}' is not a class number (expected e.g. 0,1)", text, item));
    }
  }
  return out;
}

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
    fmt::print(
        stderr,
        "\r\033[Kepoch {:>4}  loss {:.4g}  train err {:.2f}%  {} {}{:.4g}  {:.0f} steps/s  {:.1f}s",
        p.epoch, p.loss, 100.0 * p.error, p.criterion_name, p.bound ? std::string(1, p.bound) : "",
        p.criterion, p.steps_per_second, p.elapsed);
    drawn = true;
  }
  void finish() {
    if (drawn) fmt::print(stderr, "\n");
  }
};

}  // namespace

void add_train(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand("train", "Train one network and record it in the database");
  auto cfg = std::make_shared<TrainConfig>();
  auto classes = std::make_shared<std::string>();
  auto shuffle = std::make_shared<std::string>("on");
  auto save_weights = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto seed = std::make_shared<int64_t>(static_cast<int64_t>(cfg->seed));
  // A flag given twice takes its last value, so scripts can append overrides.
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  cmd->add_option("--dataset", cfg->dataset, "mnist, fashion-mnist or cifar10")
      ->capture_default_str();
  cmd->add_option("--m", cfg->m, "training-set size (0 = all)")->capture_default_str();
  cmd->add_option("--subset", cfg->subset, "how to pick m examples: random, stratified, first")
      ->capture_default_str();
  cmd->add_option("--classes", *classes,
                  "keep only these classes, e.g. 0,1 (two = binary task, labels ±1)");
  cmd->add_option("--noise", cfg->noise, "fraction of training labels replaced by random labels")
      ->capture_default_str();
  cmd->add_flag("--standardize", cfg->standardize,
                "per-feature standardization instead of [0,1] pixels");
  cmd->add_option("--depth", cfg->depth, "number of weight layers (hidden layers + 1)")
      ->capture_default_str();
  cmd->add_option("--width", cfg->width, "hidden units per layer, H")->capture_default_str();
  cmd->add_option("--activation", cfg->activation, "relu or linear")->capture_default_str();
  cmd->add_option("--init", cfg->init, "xavier_normal, xavier_uniform, he_normal, lecun_normal")
      ->capture_default_str();
  cmd->add_option("--init-gain", cfg->init_gain, "multiplier on the init's standard deviation")
      ->capture_default_str();
  cmd->add_option("--init-from", cfg->init_from,
                  "start from the weights in this .safetensors file");
  cmd->add_option("--loss", cfg->loss, "ce, mse (squared, Appendix D) or logistic (binary)")
      ->capture_default_str();
  cmd->add_option("--lr", cfg->lr, "learning rate")->capture_default_str();
  cmd->add_option("--momentum", cfg->momentum, "SGD momentum (PyTorch semantics)")
      ->capture_default_str();
  cmd->add_option("--batch", cfg->batch, "minibatch size")->capture_default_str();
  cmd->add_option("--shuffle", *shuffle, "reshuffle each epoch (on) or keep file order (off)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option(
         "--stop", cfg->stop,
         "stopping criterion, repeatable: loss<=X, loss<=F*initial, margin:G:Q, train_error<=X")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--max-epochs", cfg->max_epochs, "cap on epochs")->capture_default_str();
  cmd->add_option("--max-steps", cfg->max_steps,
                  "cap on steps (-1 = none, 0 = measure the init only)")
      ->capture_default_str();
  cmd->add_option("--measure-every", cfg->measure_every,
                  "epochs between trajectory measurements (0 = end only)")
      ->capture_default_str();
  cmd->add_option("--seed", *seed, "run seed; init, order, subset and noise derive from it")
      ->capture_default_str();
  cmd->add_option("--threads", cfg->threads,
                  "threads for this run (kernels and OpenBLAS); 1 per run is fastest for sweeps")
      ->capture_default_str();
  cmd->add_option("--train-eval", cfg->train_eval,
                  "stopping check each epoch: early (evaluate until decided; same run) or full "
                  "(whole training set, exact train loss every epoch)")
      ->capture_default_str();
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_option("--data-dir", common.data_dir,
                  "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  cmd->add_option("--save-weights", *save_weights,
                  "write init.safetensors and final.safetensors here");
  cmd->add_flag("--json", *json, "print the finished run as one JSON object on stdout");

  cmd->callback([=, &common] {
    TrainConfig c = *cfg;
    if (*seed < 0) throw Error(fmt::format("--seed {}: must be non-negative", *seed));
    c.seed = static_cast<uint64_t>(*seed);
    c.shuffle = *shuffle == "on";
    if (!classes->empty()) c.classes = parse_classes(*classes);
    validate(c);
    RunOptions opt;
    opt.data_dir = data_dir(common.data_dir);
    if (!save_weights->empty()) opt.save_weights = *save_weights;
    Db db(common.db);
    ProgressLine line;
    RunRecord r;
    try {
      r = *execute_run(c, opt, db, std::ref(line));
    } catch (...) {
      line.finish();
      throw;
    }
    line.finish();
    if (*json) {
      fmt::print("{}\n", record_json(r).dump());
      return;
    }
    const auto& m = r.metrics;
    const auto get = [&](const char* k) { return m.count(k) ? m.at(k) : NAN; };
    fmt::print("run {} {}: stopped by {}{}\n", r.id, r.status, r.stopped_by,
               r.converged ? "" : " (did not meet its criterion)");
    fmt::print("  epochs {:.0f}  steps {:.0f}  {:.1f}s  ({:.0f} steps/s)\n", get("epochs"),
               get("steps"), get("wall_seconds"), get("steps_per_second"));
    fmt::print("  train loss {:.4g}  train error {:.2f}%  test error {:.2f}%  gen error {:.2f}%\n",
               get("train_loss"), 100 * get("train_error"), 100 * get("test_error"),
               100 * get("gen_error"));
    fmt::print("  dist_init {:.4f}  margin min {:.3g} p10 {:.3g} median {:.3g}\n", get("dist_init"),
               get("margin_min"), get("margin_p10"), get("margin_median"));
    if (!r.error.empty()) fmt::print("  {}\n", r.error);
    fmt::print("  stored in {} (initscope show {} --db {})\n", common.db, r.id, common.db);
  });
}

}  // namespace initscope::cli
