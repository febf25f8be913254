// See shard.hpp.
#include "cluster/shard.hpp"

#include <algorithm>
#include <charconv>
#include <numeric>

#include <fmt/format.h>

#include "common/error.hpp"

namespace initscope {
namespace {

// A whole non-negative number, or nullopt.
std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  if (s.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

constexpr const char* k_shard_forms =
    "expected i/N with 0 ≤ i < N (e.g. 0/4 … 3/4), auto (inside a Slurm array task) or auto/N";

}  // namespace

ShardSpec parse_shard(const std::string& text, const EnvFn& env) {
  const auto slash = text.find('/');
  const std::string left = text.substr(0, slash);
  std::optional<int> count;
  if (slash != std::string::npos) {
    count = parse_int(std::string_view(text).substr(slash + 1));
    if (!count)
      throw Error(
          fmt::format("--shard {}: the shard count is not a number; {}", text, k_shard_forms));
    if (*count < 1)
      throw Error(
          fmt::format("--shard {}: the shard count must be at least 1; {}", text, k_shard_forms));
  }
  ShardSpec s;
  if (left == "auto") {
    const char* id = env("SLURM_ARRAY_TASK_ID");
    const char* where = "SLURM_ARRAY_TASK_ID";
    if (id == nullptr) {
      id = env("JOB_COMPLETION_INDEX");
      where = "JOB_COMPLETION_INDEX";
    }
    if (id == nullptr)
      throw Error(fmt::format(
          "--shard {}: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set (auto works "
          "inside a Slurm array task or a Kubernetes indexed Job); outside one, give i/N",
          text));
    const auto index = parse_int(id);
    if (!index)
      throw Error(fmt::format("--shard {}: {}='{}' is not a task index", text, where, id));
    if (!count) {
      const char* n =
          std::string(where) == "SLURM_ARRAY_TASK_ID" ? env("SLURM_ARRAY_TASK_COUNT") : nullptr;
      if (n == nullptr)
        throw Error(
            fmt::format("--shard {}: {} is set but no shard count is known; give it as "
                        "--shard auto/N",
                        text, where));
      count = parse_int(n);
      if (!count || *count < 1)
        throw Error(fmt::format("--shard {}: SLURM_ARRAY_TASK_COUNT='{}' is not a count", text, n));
    }
    if (*index >= *count)
      throw Error(fmt::format(
          "--shard {}: task index {} (from {}) is not below the shard count {}; submit the "
          "array as --array=0-{}",
          text, *index, where, *count, *count - 1));
    s.index = *index;
    s.count = *count;
    return s;
  }
  const auto index = parse_int(left);
  if (!index || !count) throw Error(fmt::format("--shard {}: {}", text, k_shard_forms));
  if (*index >= *count)
    throw Error(
        fmt::format("--shard {}: shard {} does not exist among {} (shards are numbered 0 to {})",
                    text, *index, *count, *count - 1));
  s.index = *index;
  s.count = *count;
  return s;
}

std::vector<std::vector<size_t>> partition_runs(const std::vector<TrainConfig>& runs, int count) {
  IS_CHECK(count >= 1, "partition_runs needs at least one shard");
  std::vector<double> secs(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) secs[i] = estimated_run_seconds(runs[i]);
  std::vector<size_t> order(runs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return secs[a] > secs[b]; });
  std::vector<std::vector<size_t>> parts(static_cast<size_t>(count));
  std::vector<double> load(static_cast<size_t>(count), 0.0);
  for (const size_t i : order) {
    const auto k = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    parts[k].push_back(i);
    load[k] += secs[i];
  }
  for (auto& p : parts) std::sort(p.begin(), p.end());
  return parts;
}

Sweep shard_sweep(const Sweep& sweep, ShardSpec shard) {
  const auto parts = partition_runs(sweep.runs, shard.count);
  Sweep out;
  out.file = sweep.file;
  for (const size_t i : parts[static_cast<size_t>(shard.index)]) out.runs.push_back(sweep.runs[i]);
  return out;
}

std::vector<double> shard_seconds(const std::vector<TrainConfig>& runs,
                                  const std::vector<std::vector<size_t>>& parts) {
  std::vector<double> out;
  for (const auto& p : parts) {
    double s = 0.0;
    for (const size_t i : p) s += estimated_run_seconds(runs[i]);
    out.push_back(s);
  }
  return out;
}

std::string expand_shard_template(const std::string& pattern, ShardSpec shard,
                                  const std::string& flag) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
    if (next == 'i') {
      out += std::to_string(shard.index);
    } else if (next == 'n') {
      out += std::to_string(shard.count);
    } else if (next == '%') {
      out += '%';
    } else {
      throw Error(
          fmt::format("{} {}: unknown placeholder '%{}' (expected %i for the shard index, "
                      "%n for the shard count or %% for a percent sign)",
                      flag, pattern, next == '\0' ? std::string() : std::string(1, next)));
    }
    ++i;
  }
  return out;
}

bool has_shard_placeholder(const std::string& pattern) {
  for (size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    if (pattern[i + 1] == 'i') return true;
    ++i;  // skip the escaped character (%% or %n)
  }
  return false;
}

}  // namespace initscope
