// See sbatch.hpp.
#include "cluster/sbatch.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cluster/shard.hpp"
#include "common/error.hpp"
#include "run/run.hpp"

namespace initscope {

double time_with_margin(double seconds) {
  return seconds * 1.5 + 600.0;
}

std::string format_slurm_time(double seconds) {
  const auto minutes = static_cast<int64_t>(std::ceil(std::max(seconds, 60.0) / 60.0));
  const int64_t d = minutes / (24 * 60), h = (minutes / 60) % 24, m = minutes % 60;
  if (d > 0) return fmt::format("{}-{:02}:{:02}:00", d, h, m);
  return fmt::format("{:02}:{:02}:00", h, m);
}

double parse_slurm_time(const std::string& text, const std::string& flag) {
  const auto bad = [&] {
    return Error(fmt::format("{} {}: expected auto, MM:SS, HH:MM:SS or D-HH:MM:SS", flag, text));
  };
  std::string rest = text;
  int64_t days = 0;
  if (const auto dash = rest.find('-'); dash != std::string::npos) {
    try {
      size_t used = 0;
      days = std::stoll(rest.substr(0, dash), &used);
      if (used != dash || days < 0) throw bad();
    } catch (const std::logic_error&) {
      throw bad();
    }
    rest = rest.substr(dash + 1);
  }
  std::vector<int64_t> parts;
  size_t start = 0;
  while (true) {
    const auto colon = rest.find(':', start);
    const std::string p =
        rest.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos || p.size() > 6)
      throw bad();
    parts.push_back(std::stoll(p));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 3 || (days > 0 && parts.size() != 3)) throw bad();
  if (parts.size() == 2) parts.insert(parts.begin(), 0);
  if (parts[1] >= 60 || parts[2] >= 60) throw bad();
  const double s = static_cast<double>(((days * 24 + parts[0]) * 60 + parts[1]) * 60 + parts[2]);
  if (s <= 0) throw bad();
  return s;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

SbatchPlan make_sbatch(const Sweep& sweep, const SbatchOptions& o) {
  if (o.shards < 1) throw Error(fmt::format("--shards {}: expected at least 1", o.shards));
  if (o.cpus_per_task < 1)
    throw Error(fmt::format("--cpus-per-task {}: expected at least 1", o.cpus_per_task));
  if (!has_shard_placeholder(o.db) && o.shards > 1)
    throw Error(
        fmt::format("--db {}: the tasks need one database each; put %i (the shard "
                    "index) in it, e.g. results/shard-%i.db",
                    o.db));
  expand_shard_template(o.db, {0, o.shards});  // a bad placeholder fails here, not on the node

  SbatchPlan plan;
  const auto parts = partition_runs(sweep.runs, o.shards);
  plan.task_cpu_seconds = shard_seconds(sweep.runs, parts);
  for (size_t k = 0; k < parts.size(); ++k) {
    plan.task_runs.push_back(parts[k].size());
    plan.total_cpu_seconds += plan.task_cpu_seconds[k];
    // A task runs cpus_per_task runs at once; it lasts at least as long as its longest run.
    double longest = 0.0;
    for (const size_t i : parts[k])
      longest = std::max(longest, estimated_run_seconds(sweep.runs[i]));
    plan.longest_task_seconds = std::max(
        plan.longest_task_seconds, std::max(longest, plan.task_cpu_seconds[k] / o.cpus_per_task));
  }
  if (o.time == "auto") {
    plan.time_limit = format_slurm_time(time_with_margin(plan.longest_task_seconds));
  } else {
    const double given = parse_slurm_time(o.time);
    if (given < plan.longest_task_seconds)
      throw Error(fmt::format(
          "--time {}: shorter than the cost model's estimate for the slowest task ({} on {} "
          "CPU{}); give at least {}, or --time auto ({} with a margin)",
          o.time, format_slurm_time(plan.longest_task_seconds), o.cpus_per_task,
          o.cpus_per_task == 1 ? "" : "s", format_slurm_time(plan.longest_task_seconds),
          format_slurm_time(time_with_margin(plan.longest_task_seconds))));
    plan.time_limit = o.time;
  }

  const std::filesystem::path db_dir = std::filesystem::path(o.db).parent_path();
  const bool plain_dir =
      o.db.find('%') == std::string::npos || db_dir.string().find('%') == std::string::npos;
  const std::filesystem::path log_dir =
      plain_dir ? (db_dir.is_absolute() ? db_dir : o.workdir / db_dir) : o.workdir;
  const std::string name =
      o.job_name.empty() ? "initscope-" + sweep.file.stem().string() : o.job_name;

  std::string s;
  s += "#!/bin/bash\n";
  s += fmt::format(
      "# {} as a Slurm array of {} shards, written by initscope {} (initscope slurm).\n",
      sweep.file.string(), o.shards, initscope_version());
  s += fmt::format("# Estimated by the cost model: {} runs, {:.3f} CPU-hours in all; per task:\n",
                   sweep.runs.size(), plan.total_cpu_seconds / 3600.0);
  for (size_t k = 0; k < parts.size(); ++k)
    s += fmt::format("#   task {:>3}: {:>4} runs  {:9.3f} CPU-h\n", k, plan.task_runs[k],
                     plan.task_cpu_seconds[k] / 3600.0);
  s += fmt::format("#   sum of the tasks: {:.3f} CPU-h; the slowest task about {} on {} CPU(s)\n",
                   plan.total_cpu_seconds / 3600.0, format_slurm_time(plan.longest_task_seconds),
                   o.cpus_per_task);
  s += "# After a time-out or failure, submit this file again: each shard skips the runs its\n";
  s += "# database already holds. Only some tasks: sbatch --array=2,5 THIS_FILE. Then:\n";
  std::string all;  // the shards' databases as a shell glob
  for (size_t i = 0; i < o.db.size(); ++i) {
    if (o.db.compare(i, 2, "%i") == 0) {
      all += '*';
      ++i;
    } else {
      all += o.db[i];
    }
  }
  s += fmt::format("#   {} merge OUT.db {}\n", o.binary.string(), all);
  s += fmt::format("#SBATCH --job-name={}\n", name);
  s += fmt::format("#SBATCH --array=0-{}\n", o.shards - 1);
  s += "#SBATCH --ntasks=1\n";
  s += fmt::format("#SBATCH --cpus-per-task={}\n", o.cpus_per_task);
  s += fmt::format("#SBATCH --time={}\n", plan.time_limit);
  s += fmt::format("#SBATCH --output={}/slurm-%A_%a.out\n", log_dir.string());
  if (!o.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", o.partition);
  if (!o.account.empty()) s += fmt::format("#SBATCH --account={}\n", o.account);
  if (!o.mem.empty()) s += fmt::format("#SBATCH --mem={}\n", o.mem);
  for (const auto& e : o.extra) {
    std::string line = e;
    if (line.rfind("#SBATCH", 0) == 0) line = line.substr(7);
    line.erase(0, line.find_first_not_of(' '));
    if (line.empty() || line.find('\n') != std::string::npos)
      throw Error(fmt::format("--extra '{}': expected one sbatch option, e.g. --qos=long", e));
    s += fmt::format("#SBATCH {}\n", line);
  }
  s += "set -euo pipefail\n";
  s += fmt::format("cd {}\n", shell_quote(o.workdir.string()));
  s += fmt::format("export INITSCOPE_DATA={}\n", shell_quote(o.data_dir.string()));
  if (plain_dir && !db_dir.empty()) s += fmt::format("mkdir -p {}\n", shell_quote(db_dir.string()));
  s += fmt::format(
      "exec {} sweep {} --shard auto/{} --db {} --jobs \"${{SLURM_CPUS_PER_TASK:-{}}}\"{}\n",
      shell_quote(o.binary.string()), shell_quote(sweep.file.string()), o.shards, shell_quote(o.db),
      o.cpus_per_task, o.max_runs ? fmt::format(" --max-runs {}", o.max_runs) : "");
  plan.script = s;
  return plan;
}

}  // namespace initscope
