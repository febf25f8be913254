// `initscope sweep FILE.toml`: run every configuration of a sweep file into the database; and
// `initscope calibrate`: measure how this machine's cores are best filled (sweep/placement.hpp).
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "cluster/shard.hpp"
#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "data/dataset.hpp"
#include "store/db.hpp"
#include "sweep/placement.hpp"
#include "sweep/sweep.hpp"

namespace initscope::cli {
namespace {

// The whole partition (runs and estimated CPU time of every shard), then the chosen shard.
void print_partition(const Sweep& sweep, ShardSpec shard) {
  const auto parts = partition_runs(sweep.runs, shard.count);
  const auto secs = shard_seconds(sweep.runs, parts);
  double total = 0.0;
  for (const double s : secs) total += s;
  fmt::print("{}: {} runs in {} shards, estimated {:.2f} CPU-hours (cost model)\n",
             sweep.file.string(), sweep.runs.size(), shard.count, total / 3600.0);
  for (size_t k = 0; k < parts.size(); ++k)
    fmt::print("shard {:>3}/{}: {:>4} runs  {:8.3f} CPU-h{}\n", k, shard.count, parts[k].size(),
               secs[k] / 3600.0, static_cast<int>(k) == shard.index ? "  <- this shard" : "");
}

}  // namespace

uint64_t parse_max_runs(const std::string& text, uint64_t fallback) {
  if (text.empty()) return fallback;
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1)
    throw Error(fmt::format(
        "--max-runs {}: expected a number of runs from 1 to 2^64 − 1, e.g. --max-runs 200000",
        text));
  return n;
}

void add_sweep(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand("sweep", "Run every configuration of a sweep file (resumable)");
  auto file = std::make_shared<std::string>();
  auto jobs = std::make_shared<int>(0);
  auto dry = std::make_shared<bool>(false);
  cmd->add_option("file", *file, "sweep file (TOML with [base], [grid] and [[runs]])")->required();
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_option("--data-dir", common.data_dir,
                  "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  cmd->add_option("--jobs", *jobs,
                  "runs at once, each with its config's threads (implies --placement fixed)")
      ->check(CLI::Range(0, 1024));
  auto placement = std::make_shared<std::string>("auto");
  cmd->add_option("--placement", *placement,
                  "auto: threads per run from this machine's calibration (initscope calibrate); "
                  "fixed: one run per core (or --jobs), with the config's threads")
      ->check(CLI::IsMember({"auto", "fixed"}))
      ->capture_default_str();
  cmd->add_flag("--dry-run", *dry, "print the number of runs and list them; run nothing");
  auto retry_failed = std::make_shared<bool>(false);
  cmd->add_flag("--retry-failed", *retry_failed,
                "run configs whose only rows are failed again (failed runs count as done "
                "otherwise; interrupted runs always run again, diverged ones never)");
  auto progress = std::make_shared<std::string>("auto");
  auto every = std::make_shared<double>(30.0);
  cmd->add_option("--progress", *progress,
                  "progress on stderr: auto (bar on a terminal, lines otherwise), bar, lines, none")
      ->capture_default_str();
  cmd->add_option("--progress-every", *every,
                  "seconds between status lines in lines mode (0: at every finished run)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  auto max_runs_text = std::make_shared<std::string>();
  cmd->add_option("--max-runs", *max_runs_text,
                  fmt::format("run a sweep of more than {} configurations (counted before any is "
                              "expanded; --dry-run lists any number)",
                              k_sweep_max_runs));
  auto shard_text = std::make_shared<std::string>();
  cmd->add_option("--shard", *shard_text,
                  "run only shard i of N (i/N, 0 ≤ i < N; auto or auto/N inside a Slurm array "
                  "task or Kubernetes indexed Job); %i in --db becomes i");
  cmd->callback([=, &common] {
    const ProgressMode mode = parse_progress_mode(*progress, isatty(STDERR_FILENO) != 0);
    const uint64_t max_runs = parse_max_runs(*max_runs_text, k_sweep_max_runs);
    std::optional<ShardSpec> shard;
    if (!shard_text->empty())
      shard = parse_shard(*shard_text, [](const char* v) { return std::getenv(v); });
    if (shard) {
      common.db = expand_shard_template(common.db, *shard);
    } else if (has_shard_placeholder(common.db)) {
      throw Error(fmt::format("--db {}: %i stands for the shard index, but no --shard is given",
                              common.db));
    }
    if (*dry) {
      // The status that makes each config done, as the sweep would decide (completed before
      // diverged before failed).
      std::map<std::string, std::string> done;
      const auto rank = [](const std::string& st) {
        return st == k_status_completed ? 3 : st == k_status_diverged ? 2 : 1;
      };
      if (std::filesystem::exists(common.db)) {
        Db db(common.db, DbMode::read_only);
        for (const auto& r : db.runs()) {
          if (r.status != k_status_completed && r.status != k_status_diverged &&
              (r.status != k_status_failed || *retry_failed))
            continue;
          // Today's identity of each stored run, without upgrading the file: a dry run writes
          // nothing.
          auto& d = done[config_hash_of_stored(r.config)];
          if (d.empty() || rank(r.status) > rank(d)) d = r.status;
        }
      }
      const auto print = [&](const TrainConfig& c, size_t i, const std::vector<std::string>& axes) {
        const std::string h = config_hash(c);
        const auto it = done.find(h);
        fmt::print("{:>5}  {}  {}{}\n", i, h, describe(c, axes),
                   it == done.end() ? "" : "  [" + it->second + "]");
      };
      if (shard) {
        Sweep sweep = sweep_load(*file, max_runs);
        print_partition(sweep, *shard);
        sweep = shard_sweep(sweep, *shard);
        const auto axes = sweep_axes(sweep);
        fmt::print("{} runs\n", sweep.runs.size());
        size_t i = 0;
        for (const auto& c : sweep.runs) print(c, ++i, axes);
        return;
      }
      // Streamed, twice (the count comes first): a grid of 10^6 runs lists in bounded memory
      // (reliability B7), and past --max-runs, so that a big sweep can be looked at before it
      // is allowed.
      const SweepPlan plan = sweep_parse(*file);
      const auto axes = sweep_axes(plan);
      size_t n = 0;
      sweep_expand(plan, [&](const TrainConfig&) { ++n; });
      fmt::print("{} runs\n", n);
      size_t i = 0;
      sweep_expand(plan, [&](const TrainConfig& c) { print(c, ++i, axes); });
      if (plan.size() > max_runs)
        fmt::print(
            "{} configurations are more than the {} a sweep may have without --max-runs; "
            "running it needs --max-runs {}\n",
            plan.size(), max_runs, plan.size());
      return;
    }
    Sweep sweep = sweep_load(*file, max_runs);
    if (shard) sweep = shard_sweep(sweep, *shard);
    SweepOptions o;
    o.db = common.db;
    o.run.data_dir = data_dir(common.data_dir);
    o.jobs = *jobs;
    o.placement = *placement == "fixed" ? Placement::fixed : Placement::automatic;
    o.retry_failed = *retry_failed;
    o.progress = mode;
    // Each run records which sweep it belongs to (never part of its identity).
    o.run.labels.sweep_id = sweep.id;
    o.run.labels.sweep_file = *file;
    o.run.labels.sweep_description = sweep.description;
    o.progress_every = *every;
    const SweepSummary s = sweep_run(sweep, o);
    fmt::print(
        "sweep {}: {} runs: {} already done, {} completed ({} converged, {} stopped by a cap), "
        "{} diverged, {} failed in {:.0f}s{}\n",
        *file, s.total, s.skipped, s.completed, s.converged, s.completed - s.converged, s.diverged,
        s.failed, s.seconds,
        s.interrupted
            ? fmt::format("; {} interrupted runs of an earlier sweep found", s.interrupted)
            : "");
    if (s.stopped)
      throw Interrupted(s.signal,
                        fmt::format("sweep stopped by {}; {} runs in flight are stored as "
                                    "interrupted; run the same command again to resume",
                                    signal_name(s.signal), s.stopped_runs));
    if (s.failed)
      throw Error(fmt::format(
          "{} runs failed; their errors are above and in the database (initscope runs)", s.failed));
  });
}

void add_calibrate(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand(
      "calibrate",
      "Measure how sweeps best fill this machine's cores (threads per run), and store it");
  cmd->add_option("--data-dir", common.data_dir,
                  "data directory, where the calibration is stored (default $INITSCOPE_DATA or "
                  "~/.cache/initscope)");
  auto show = std::make_shared<bool>(false);
  cmd->add_flag("--show", *show, "print the stored calibration; measure nothing");
  cmd->callback([show, &common] {
    const auto file = calibration_path(data_dir(common.data_dir));
    if (*show) {
      std::string why;
      const auto cal = load_calibration(file, &why);
      if (!cal)
        throw Error(why.empty()
                        ? fmt::format("{}: no calibration yet (initscope calibrate measures one)",
                                      file.string())
                        : why + " (initscope calibrate measures it again)");
      fmt::print("{}{}", file.string(), "\n");
      fmt::print("{}", describe_calibration(*cal));
      return;
    }
    fmt::print(stderr,
               "calibrate: timing the NK17 network's step at H = {} for every way of filling "
               "the cores (about 15 s; other work running now skews it)\n",
               fmt::join(k_calibration_widths, ", "));
    const Calibration cal = calibrate(k_calibration_widths);
    fmt::print("{}", describe_calibration(cal));
    const std::string failed = save_calibration(cal, file);
    if (!failed.empty())
      throw Error(fmt::format("{}: cannot write the calibration: {}", file.string(), failed));
    fmt::print("stored in {}; sweeps with --placement auto (the default) use it\n", file.string());
  });
}

}  // namespace initscope::cli
