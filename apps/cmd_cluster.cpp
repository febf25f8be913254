// `initscope slurm FILE.toml --shards N`: the sbatch array script for a sharded sweep (and
// `--submit` to hand it to sbatch); `initscope merge OUT.db SHARD.db...`: the shards'
// databases joined into one. The shards themselves are `initscope sweep --shard` (cmd_sweep).
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>

#include <fmt/core.h>

#include "cli.hpp"
#include "cluster/merge.hpp"
#include "cluster/sbatch.hpp"
#include "common/error.hpp"
#include "data/dataset.hpp"
#include "sweep/sweep.hpp"

namespace initscope::cli {
namespace {

namespace fs = std::filesystem;

// Runs `sbatch --parsable FILE` and returns the job id it prints.
std::string submit(const fs::path& script) {
  const std::string cmd = "sbatch --parsable " + shell_quote(script.string()) + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw Error("--submit: cannot run sbatch");
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (status != 0 || out.empty() || !std::isdigit(static_cast<unsigned char>(out[0])))
    throw Error(fmt::format("--submit: sbatch {} failed: {}", script.string(),
                            out.empty() ? "no output (is Slurm installed?)" : out));
  return out.substr(0, out.find(';'));  // "1234" or "1234;cluster"
}

}  // namespace

void add_cluster(CLI::App& app, Common& common) {
  {
    auto* cmd = app.add_subcommand(
        "slurm",
        "Write an sbatch array script that runs a sweep as N shards (--submit: submit it)");
    auto file = std::make_shared<std::string>();
    auto o = std::make_shared<SbatchOptions>();
    auto out = std::make_shared<std::string>();
    auto do_submit = std::make_shared<bool>(false);
    o->shards = 0;
    cmd->add_option("file", *file, "sweep file (TOML)")->required();
    cmd->add_option("--shards", o->shards, "array tasks, one shard each")->required();
    cmd->add_option("--db", o->db,
                    "each task's database; %i is the shard index (relative paths: from the "
                    "current directory)")
        ->capture_default_str();
    cmd->add_option("--time", o->time,
                    "time limit per task: auto (the cost model's estimate of the slowest task "
                    "×1.5 + 10 min) or HH:MM:SS / D-HH:MM:SS")
        ->capture_default_str();
    cmd->add_option("--cpus-per-task", o->cpus_per_task, "CPUs per task; its runs at once")
        ->capture_default_str();
    cmd->add_option("--partition", o->partition, "Slurm partition");
    cmd->add_option("--account", o->account, "Slurm account");
    cmd->add_option("--mem", o->mem, "memory per task (sbatch --mem, e.g. 4G)");
    cmd->add_option("--job-name", o->job_name, "job name (default initscope-FILE)");
    cmd->add_option("--extra", o->extra, "another #SBATCH line, e.g. '--qos=long' (repeatable)");
    cmd->add_option(
        "--data-dir", common.data_dir,
        "data directory the nodes read (default $INITSCOPE_DATA or ~/.cache/initscope)");
    auto max_runs_text = std::make_shared<std::string>();
    cmd->add_option("--max-runs", *max_runs_text,
                    fmt::format("allow a sweep of more than {} configurations (passed on to "
                                "the tasks)",
                                k_sweep_max_runs));
    cmd->add_option("--out", *out, "write the script to this file instead of stdout");
    cmd->add_flag("--submit", *do_submit,
                  "submit the script with sbatch (written to --out, else next to the databases) "
                  "and print the job id");
    cmd->callback([=, &common] {
      const fs::path sweep_file = fs::absolute(*file);
      SbatchOptions opt = *o;
      if (!max_runs_text->empty()) opt.max_runs = parse_max_runs(*max_runs_text, 0);
      const Sweep sweep = sweep_load(sweep_file, opt.max_runs ? opt.max_runs : k_sweep_max_runs);
      opt.workdir = fs::current_path();
      opt.data_dir = fs::absolute(data_dir(common.data_dir));
      opt.binary = fs::read_symlink("/proc/self/exe");
      if (!fs::path(opt.db).is_absolute()) opt.db = (opt.workdir / opt.db).string();
      const SbatchPlan plan = make_sbatch(sweep, opt);
      // Slurm does not create the folder of --output; the tasks' logs go next to the databases.
      const fs::path db_dir = fs::path(opt.db).parent_path();
      if (db_dir.string().find('%') == std::string::npos) fs::create_directories(db_dir);
      fs::path script_path = *out;
      if (*do_submit && script_path.empty())
        script_path = db_dir / fmt::format("{}.sbatch", sweep_file.stem().string());
      if (script_path.empty()) {
        fmt::print("{}", plan.script);
      } else {
        std::ofstream f(script_path);
        f << plan.script;
        f.close();
        if (!f) throw Error(fmt::format("--out {}: cannot write the script", script_path.string()));
        fs::permissions(script_path, fs::perms::owner_exec | fs::perms::group_exec,
                        fs::perm_options::add);
      }
      fmt::print(stderr,
                 "{}: {} runs in {} tasks, estimated {:.2f} CPU-hours (the slowest task {}), "
                 "time limit {}\n",
                 *file, sweep.runs.size(), opt.shards, plan.total_cpu_seconds / 3600.0,
                 format_slurm_time(plan.longest_task_seconds), plan.time_limit);
      if (!script_path.empty()) fmt::print(stderr, "script: {}\n", script_path.string());
      if (*do_submit) fmt::print("submitted job {}\n", submit(script_path));
    });
  }
  {
    auto* cmd = app.add_subcommand(
        "merge", "Copy the runs of shard databases into one (idempotent, one transaction)");
    auto out = std::make_shared<std::string>();
    auto sources = std::make_shared<std::vector<std::string>>();
    cmd->add_option("out", *out, "the merged database (created if missing)")->required();
    cmd->add_option("sources", *sources, "databases to merge in")->required();
    cmd->callback([=] {
      std::vector<fs::path> files(sources->begin(), sources->end());
      const MergeSummary s = merge_databases(*out, files);
      for (const auto& src : s.sources)
        fmt::print(
            "{}: {} copied, {} already present{}{}\n", src.file.string(), src.copied, src.present,
            src.conflicts ? fmt::format(", {} conflicts", src.conflicts) : "",
            src.unfinished ? fmt::format(", {} unfinished (not copied)", src.unfinished) : "");
      for (const auto& c : s.conflicts) fmt::print(stderr, "conflict: {}\n", c);
      fmt::print("merged into {}: {} runs copied, {} already present, {} conflicts\n", *out,
                 s.copied, s.present, s.conflict_count);
    });
  }
}

}  // namespace initscope::cli
