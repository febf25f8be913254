// The machine's calibration for the sweep scheduler's placement (placement.hpp): measuring it in
// fresh processes, storing it as JSON in the data directory, and choosing threads per run.
#include "sweep/placement.hpp"

#include <cblas.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "common/time.hpp"
#include "model/cpu.hpp"
#include "run/run.hpp"
#include "train/trainer.hpp"

namespace initscope {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int k_calibration_format = 1;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    size_t b = colon + 1;
    while (b < line.size() && line[b] == ' ') ++b;
    return line.substr(b);
  }
  return "unknown";
}

// The NK17 network's step on random data: what a sweep's runs mostly do. The data are
// random, so nothing but the time matters; the learning rate is small enough that no weight
// becomes NaN or infinite within a calibration (their arithmetic can be slower).
double steps_per_second(int64_t width, int threads, double seconds) {
  openblas_set_num_threads(threads);
  constexpr int64_t n = 1024, dim = 784, classes = 10;
  PreparedData d;
  d.train.n = n;
  d.train.dim = dim;
  d.train.num_classes = static_cast<int>(classes);
  d.train.x.resize(static_cast<size_t>(n * dim));
  d.train.y.resize(static_cast<size_t>(n));
  Rng r(1);
  for (auto& v : d.train.x) v = static_cast<float>(r.normal());
  for (int64_t i = 0; i < n; ++i) d.train.y[static_cast<size_t>(i)] = static_cast<int32_t>(i % 10);
  d.test = d.train;
  d.outputs = classes;
  TrainConfig c;
  c.width = width;
  c.depth = 5;
  c.m = n;
  c.lr = 1e-3;
  c.momentum = 0.9;
  c.batch = 64;
  c.threads = threads;
  Trainer t(c, d);
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = (i * 389) % n;  // a fixed shuffle
  int64_t pos = 0;
  const auto step = [&] {
    t.sgd_step(std::span<const int64_t>(rows).subspan(static_cast<size_t>(pos), 64));
    pos = (pos + 64) % n;
  };
  // Warm-up: caches, pages of the buffers, the thread pools.
  const auto w0 = Clock::now();
  for (int k = 0; k < 3 || std::chrono::duration<double>(Clock::now() - w0).count() < 0.05; ++k)
    step();
  int64_t steps = 0;
  const auto t0 = Clock::now();
  double el = 0.0;
  while (steps < 3 || el < seconds) {
    step();
    ++steps;
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  return static_cast<double>(steps) / el;
}

// Total steps per second of `procs` processes of `threads` threads each at once.
double measure_point(int64_t width, int threads, int procs, double seconds) {
  std::vector<std::pair<pid_t, int>> kids;
  for (int p = 0; p < procs; ++p) {
    int fds[2];
    if (pipe(fds) != 0)
      throw Error(fmt::format("calibration: cannot create a pipe: {}", std::strerror(errno)));
    const pid_t pid = fork();
    if (pid < 0) throw Error(fmt::format("calibration: cannot fork: {}", std::strerror(errno)));
    if (pid == 0) {
      ::close(fds[0]);
      std::string out;
      int code = 0;
      try {
        out = fmt::format("{:.17g}\n", steps_per_second(width, threads, seconds));
      } catch (const std::exception& e) {
        out = std::string("error ") + e.what() + "\n";
        code = 1;
      }
      const ssize_t n = ::write(fds[1], out.data(), out.size());
      (void)n;
      _exit(code);
    }
    ::close(fds[1]);
    kids.emplace_back(pid, fds[0]);
  }
  double total = 0.0;
  std::string failure;
  for (const auto& [pid, fd] : kids) {
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    char* end = nullptr;
    const double v = std::strtod(out.c_str(), &end);
    if (end == out.c_str() || !std::isfinite(v) || v <= 0.0)
      failure = out.empty() ? fmt::format("a measuring process ended with status {}", status)
                            : out.substr(0, out.find('\n'));
    else
      total += v;
  }
  if (!failure.empty())
    throw Error(fmt::format("calibration at H = {}, {} thread(s): {}", width, threads, failure));
  return total;
}

nlohmann::json to_json(const MachineKey& m) {
  return {{"cpu", m.cpu},
          {"cores", m.cores},
          {"kernels", m.kernels},
          {"blas", m.blas},
          {"version", m.version}};
}

// The index of the calibrated width nearest to `width` in log scale.
size_t nearest_width(const Calibration& cal, int64_t width) {
  size_t best = 0;
  double d = INFINITY;
  for (size_t i = 0; i < cal.widths.size(); ++i) {
    const double e = std::fabs(std::log(static_cast<double>(std::max<int64_t>(width, 1))) -
                               std::log(static_cast<double>(cal.widths[i])));
    if (e < d) {
      d = e;
      best = i;
    }
  }
  return best;
}

size_t best_threads_index(const Calibration& cal, size_t w) {
  const auto& r = cal.rate[w];
  return static_cast<size_t>(std::max_element(r.begin(), r.end()) - r.begin());
}

}  // namespace

MachineKey this_machine() {
  MachineKey m;
  m.cpu = cpu_model();
  m.cores = std::max(1, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  m.kernels = to_string(kernel_isa());
  m.blas = blas_core_name();
  m.version = initscope_version();
  return m;
}

std::filesystem::path calibration_path(const std::filesystem::path& data_dir) {
  return data_dir / "calibration.json";
}

Calibration calibrate(const std::vector<int64_t>& widths, double seconds_per_point) {
  const auto t0 = Clock::now();
  Calibration cal;
  double loads[1] = {0.0};
  if (getloadavg(loads, 1) == 1) cal.load = loads[0];
  cal.machine = this_machine();
  cal.widths = widths;
  for (int t = 1; t <= cal.machine.cores; t *= 2) cal.threads.push_back(t);
  for (const int64_t w : widths) {
    std::vector<double> row;
    for (const int t : cal.threads)
      row.push_back(measure_point(w, t, cal.machine.cores / t, seconds_per_point));
    cal.rate.push_back(row);
  }
  cal.measured_at = utc_now();
  cal.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return cal;
}

std::optional<Calibration> load_calibration(const std::filesystem::path& file, std::string* why) {
  const auto fail = [&](const std::string& w) -> std::optional<Calibration> {
    if (why) *why = w;
    return std::nullopt;
  };
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return fail("");
  std::ifstream in(file);
  if (!in) return fail(fmt::format("{}: cannot be read", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  try {
    if (j.is_discarded() || !j.is_object()) return fail(fmt::format("{}: not JSON", file.string()));
    if (j.value("format", 0) != k_calibration_format)
      return fail(fmt::format("{}: format {} (this initscope writes {})", file.string(),
                              j.value("format", 0), k_calibration_format));
    Calibration cal;
    const auto& m = j.at("machine");
    cal.machine.cpu = m.at("cpu").get<std::string>();
    cal.machine.cores = m.at("cores").get<int>();
    cal.machine.kernels = m.at("kernels").get<std::string>();
    cal.machine.blas = m.at("blas").get<std::string>();
    cal.machine.version = m.at("version").get<std::string>();
    cal.widths = j.at("widths").get<std::vector<int64_t>>();
    cal.threads = j.at("threads").get<std::vector<int>>();
    cal.rate = j.at("steps_per_second").get<std::vector<std::vector<double>>>();
    cal.measured_at = j.value("measured_at", "");
    cal.seconds = j.value("seconds", 0.0);
    cal.load = j.value("load", 0.0);
    bool shaped =
        !cal.widths.empty() && !cal.threads.empty() && cal.rate.size() == cal.widths.size();
    for (const auto& r : cal.rate) {
      shaped = shaped && r.size() == cal.threads.size();
      for (const double v : r) shaped = shaped && std::isfinite(v) && v > 0.0;
    }
    for (const int64_t w : cal.widths) shaped = shaped && w > 0;
    for (const int t : cal.threads) shaped = shaped && t >= 1 && t <= cal.machine.cores;
    if (!shaped) return fail(fmt::format("{}: its tables do not match in size", file.string()));
    if (!(cal.machine == this_machine()))
      return fail(
          fmt::format("{}: measured on another machine or by another initscope", file.string()));
    return cal;
  } catch (const nlohmann::json::exception& e) {
    return fail(fmt::format("{}: {}", file.string(), e.what()));
  }
}

std::string save_calibration(const Calibration& cal, const std::filesystem::path& file) {
  const nlohmann::json j = {{"format", k_calibration_format},
                            {"what",
                             "steps per second of the NK17 network (784-H-H-H-H-10, "
                             "batch 64), all processes together, when cores/t processes "
                             "of t threads run at once; initscope calibrate measures "
                             "it again"},
                            {"machine", to_json(cal.machine)},
                            {"widths", cal.widths},
                            {"threads", cal.threads},
                            {"steps_per_second", cal.rate},
                            {"measured_at", cal.measured_at},
                            {"seconds", cal.seconds},
                            {"load", cal.load}};
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  const std::string tmp = fmt::format("{}.tmp.{}", file.string(), getpid());
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    out.close();
    if (!out) {
      const std::string why = std::strerror(errno);
      std::filesystem::remove(tmp, ec);
      return why;
    }
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::filesystem::remove(tmp, ec);
    return why;
  }
  return "";
}

int placement_threads(const Calibration& cal, const TrainConfig& c) {
  if (c.depth <= 1 || cal.widths.empty()) return 1;
  return cal.threads[best_threads_index(cal, nearest_width(cal, c.width))];
}

int last_run_threads(const Calibration& cal, const TrainConfig& c, int free) {
  const int base = placement_threads(cal, c);
  if (c.depth <= 1 || cal.widths.empty()) return base;
  const auto& r = cal.rate[nearest_width(cal, c.width)];
  int best = base;
  double best_rate = -1.0;
  for (size_t k = 0; k < cal.threads.size(); ++k) {
    const int t = cal.threads[k];
    if (t > std::max(free, base)) continue;
    const double per_process = r[k] / std::max(1, cal.machine.cores / t);
    if (per_process > best_rate) {
      best_rate = per_process;
      best = t;
    }
  }
  return std::max(best, base);
}

std::string describe_calibration(const Calibration& cal) {
  std::string s = fmt::format(
      "{} ({} cores, kernels {}, OpenBLAS {}), measured {} in {:.1f} s at load {:.2f}\n",
      cal.machine.cpu, cal.machine.cores, cal.machine.kernels, cal.machine.blas, cal.measured_at,
      cal.seconds, cal.load);
  s += fmt::format("{:>6}", "H");
  for (const int t : cal.threads)
    s += fmt::format("  {:>22}", fmt::format("{}×{} thread{} steps/s", cal.machine.cores / t, t,
                                             t == 1 ? "" : "s"));
  s += "  chosen\n";
  for (size_t w = 0; w < cal.widths.size(); ++w) {
    s += fmt::format("{:>6}", cal.widths[w]);
    for (const double v : cal.rate[w]) s += fmt::format("  {:>22.1f}", v);
    const int t = cal.threads[best_threads_index(cal, w)];
    s += fmt::format("  {} thread{} per run\n", t, t == 1 ? "" : "s");
  }
  return s;
}

std::string describe_placement(const Calibration& cal, const std::vector<TrainConfig>& runs) {
  // threads → the smallest and largest width given that many.
  std::map<int, std::pair<int64_t, int64_t>> by;
  for (const auto& c : runs) {
    const int t = c.threads;
    auto it = by.find(t);
    if (it == by.end())
      by.emplace(t, std::make_pair(c.width, c.width));
    else
      it->second = {std::min(it->second.first, c.width), std::max(it->second.second, c.width)};
  }
  std::string s;
  for (const auto& [t, range] : by) {
    if (!s.empty()) s += "; ";
    const int at_once = std::max(1, cal.machine.cores / t);
    s += fmt::format(
        "H {}{}: {} thread{} per run, {}", range.first,
        range.second == range.first ? "" : fmt::format("–{}", range.second), t, t == 1 ? "" : "s",
        at_once == 1 ? std::string("one at a time") : fmt::format("{} at once", at_once));
  }
  return s;
}

}  // namespace initscope
