// The sweep scheduler: one child process per run, `jobs` at a time.
// Processes, not threads: each run gets its own BLAS state and its own database connection,
// a crash takes down one run and not the sweep, and a killed sweep takes its children with it
// (PR_SET_PDEATHSIG), so no orphan finishes a run that the resumed sweep starts again.
// The datasets are loaded once in the parent (mapped from the dataset cache, data/cache.hpp)
// and shared with the children; a run copies only the rows it changes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "store/db.hpp"
#include "sweep/placement.hpp"
#include "sweep/sweep.hpp"

namespace initscope {

namespace {

using Clock = std::chrono::steady_clock;

std::string hms(double s) {
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t / 60) % 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

// What a child reports through its pipe: "claimed <id>" once its row exists, then one line,
// "<status> <stopped_by> <dist_init> <secs> <converged>", "skipped" or "error <message>".
struct Child {
  pid_t pid = 0;
  int fd = -1;
  size_t index = 0;
  std::string out;
  Clock::time_point started{};
};

void write_all(int fd, const std::string& msg) {
  const ssize_t n = ::write(fd, msg.data(), msg.size());
  (void)n;  // a pipe write of one short line is atomic; the parent notices a missing line
}

[[noreturn]] void child_main(const TrainConfig& c, const SweepOptions& o,
                             const std::map<std::string, TrainTest>& data, int fd,
                             const std::string& label) {
  // The sweep's stop (the SIGINT or SIGTERM it received, forwarded) ends the run after its
  // current step as `interrupted`. A terminal's Ctrl-C reaches the whole process group, so the
  // run may get the signal twice: the second is ignored, and the sweep kills the run (SIGKILL)
  // if it receives a second signal itself.
  const StopSignals signals(/*second_kills=*/false);
  std::string msg;
  int code = 0;
  try {
    Db db(o.db);
    RunOptions ro = o.run;
    ro.claim = true;
    ro.retry_failed = o.retry_failed;
    ro.stop = &g_stop_signal;
    ro.on_claim = [fd](int64_t id) { write_all(fd, fmt::format("claimed {}\n", id)); };
    const std::string key = task_data_key(c);
    // The run's own progress is not shown (many run at once); a collapse is.
    const auto warn = [&label](const Progress& p) {
      const std::string w = collapse_warning(p);
      if (!w.empty()) fmt::print(stderr, "\r\033[Kinitscope: warning: {}: {}\n", label, w);
    };
    const auto r = execute_run(c, ro, db, warn, key.empty() ? nullptr : &data.at(key));
    if (!r) {
      msg = "skipped";
    } else {
      const auto it = r->metrics.find("dist_init");
      msg = fmt::format(
          "{} {} {} {:.1f} {}", r->status, r->stopped_by.empty() ? "-" : r->stopped_by,
          it == r->metrics.end() ? NAN : it->second, r->wall_seconds, r->converged ? 1 : 0);
    }
  } catch (const std::exception& e) {
    msg = std::string("error ") + e.what();
    code = 1;
  }
  msg += "\n";
  write_all(fd, msg);
  ::close(fd);
  _exit(code);  // no destructors or atexit handlers of the parent's objects
}

/// A process that holds one connection to the sweep's database open while the sweep runs, so
/// that a run's process closing its connection is never the last one: SQLite makes the last
/// connection checkpoint the write-ahead log into the database and sync it, twice, which cost
/// each run 0.1–0.4 s on a busy disk. The log is checkpointed as it grows (every 1000 pages)
/// and when the keeper closes, at the end of the sweep. It is a process, not a connection in
/// the scheduler, because SQLite's connections must not be carried across fork() into the runs.
class ConnectionKeeper {
 public:
  explicit ConnectionKeeper(const std::filesystem::path& db) {
    int fds[2];
    if (pipe(fds) != 0) return;  // only an optimization: without a keeper, runs checkpoint
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      ::signal(SIGINT, SIG_IGN);  // the sweep decides when it ends, by closing the pipe
      ::signal(SIGTERM, SIG_IGN);
      try {
        Db keep(db);
        char c;
        for (;;) {  // until end of file: the sweep closed its end, or died
          const ssize_t n = ::read(fds[0], &c, 1);
          if (n == 0 || (n < 0 && errno != EINTR)) break;
        }
      } catch (const std::exception&) {
      }
      _exit(0);
    }
    ::close(fds[0]);
    if (pid_ < 0) {
      ::close(fds[1]);
      return;
    }
    fd_ = fds[1];
  }
  ~ConnectionKeeper() {
    if (fd_ < 0) return;
    ::close(fd_);  // end of file for the keeper: it closes its connection and exits
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  ConnectionKeeper(const ConnectionKeeper&) = delete;
  ConnectionKeeper& operator=(const ConnectionKeeper&) = delete;

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
};

}  // namespace

double run_cost(const TrainConfig& c) {
  const bool cifar = c.dataset == "cifar10";
  const double in = cifar ? 3072.0 : 784.0;
  const double out = is_binary_task(c)   ? 1.0
                     : c.classes.empty() ? 10.0
                                         : static_cast<double>(c.classes.size());
  const double h = static_cast<double>(c.width);
  const double m = c.m > 0 ? static_cast<double>(c.m) : cifar ? 50000.0 : 60000.0;
  if (c.depth <= 1) return m * in * out;
  return m * (in * h + (c.depth - 2) * h * h + h * out);
}

double estimated_epochs(const TrainConfig& c) {
  const double m = c.m > 0 ? static_cast<double>(c.m) : 60000.0;
  // Epochs to reach each criterion on clean labels at m = 1024, and how they scale with m.
  // margin:10:0.9 in the quick sweep: 52 epochs at m = 1024, 30 at 4096, 29 at 8192;
  // margin:10:0.99: 400–530 at m = 1024 (the quick file's calibration), 207 at m = 4096 (the
  // README's run); both about ∝ m^-0.5. Noisy labels must be memorised: 2.2× the epochs at
  // noise 0.1 and 2.6× at 0.2 in the quick sweep, taken as 1 + 10·noise.
  double clean = 0.0;
  for (const auto& text : c.stop) {
    const StopCriterion s = parse_stop(text);
    double e = 0.0;
    switch (s.kind) {
      case StopCriterion::Kind::margin:
        e = s.quantile <= 0.9 ? 55.0 : s.quantile <= 0.99 ? 480.0 : 1000.0;
        break;
      case StopCriterion::Kind::loss:
      case StopCriterion::Kind::loss_relative:
      case StopCriterion::Kind::train_error:
      case StopCriterion::Kind::mse:
      case StopCriterion::Kind::psnr:
        e = 200.0;
        break;
      case StopCriterion::Kind::plateau:
        continue;  // ends only collapsed runs: no estimate of when a healthy run stops
    }
    clean = clean == 0.0 ? e : std::min(clean, e);  // the first criterion met stops the run
  }
  double epochs = static_cast<double>(c.max_epochs);
  // Random ±1 labels (Figure 5) must all be memorised, as with noise 1.
  const double noise = c.labels == LabelMode::random_pm1 ? 1.0 : c.noise;
  if (clean > 0.0)
    epochs = std::min(epochs, clean * std::pow(m / 1024.0, -0.5) * (1.0 + 10.0 * noise));
  if (c.max_steps >= 0) {
    const double steps_per_epoch =
        std::ceil(m / static_cast<double>(std::max<int64_t>(1, c.batch)));
    epochs = std::min(epochs, static_cast<double>(c.max_steps) / steps_per_epoch);
  }
  return std::max(epochs, 1.0);
}

double estimated_run_seconds(const TrainConfig& c) {
  // The quick Figure-1 sweep (4.4e13 training FLOPs, 69 runs) takes about 4 minutes on the 2
  // AVX-512 cores of the reference machine: 100 GFLOP/s per core with everything around the
  // step. Cores with AVX2 only take about twice as long.
  constexpr double k_flops_per_second = 100e9;
  constexpr double k_check_share = 0.1;      // stopping checks (eval_seconds): 5–10% of training
  constexpr double k_startup_seconds = 1.0;  // data preparation, final measures, database
  const double train = 6.0 * run_cost(c) * estimated_epochs(c) / k_flops_per_second;
  return train * (1.0 + k_check_share) + k_startup_seconds;
}

SweepSummary sweep_run(const Sweep& sweep, const SweepOptions& options) {
  SweepSummary sum;
  sum.total = static_cast<int>(sweep.runs.size());
  const auto t0 = Clock::now();
  const int cores = std::max(1, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  const int jobs = options.jobs > 0 ? options.jobs : cores;
  const bool bar = options.progress == ProgressMode::bar;
  const bool lines = options.progress == ProgressMode::lines;
  const auto axes = sweep_axes(sweep);

  // Pending runs: not completed or diverged already.
  std::vector<size_t> pending;
  {
    Db db(options.db);
    sum.interrupted = db.mark_interrupted();
    upgrade_run_identities(db);  // runs stored by an older initscope count as done
    for (size_t i = 0; i < sweep.runs.size(); ++i) {
      if (db.is_done(config_hash(sweep.runs[i]), options.retry_failed)) {
        ++sum.skipped;
        continue;
      }
      pending.push_back(i);
    }
  }
  if (pending.empty()) {
    sum.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return sum;
  }

  // Placement: the threads each run gets. Automatic placement fills `jobs` (= cores) slots
  // with runs of the thread count the calibration measured fastest at their width; fixed
  // placement runs `jobs` runs at once, each with its config's threads (one slot each).
  const bool automatic = options.placement == Placement::automatic && options.jobs == 0;
  std::vector<int> threads(sweep.runs.size());
  for (const size_t i : pending) threads[i] = sweep.runs[i].threads;
  std::optional<Calibration> cal;
  std::string why;  // why a stored calibration was not used ("" if there was none)
  if (automatic && cores > 1) {
    const auto file = calibration_path(options.run.data_dir);
    cal = load_calibration(file, &why);
    double work = 0.0;
    for (const size_t i : pending) work += estimated_run_seconds(sweep.runs[i]);
    if (!cal && work >= options.calibrate_above_seconds) {
      if (options.progress != ProgressMode::none)
        fmt::print(stderr,
                   "sweep: {}measuring this machine for placement, once (about 15 s; stored in "
                   "{})\n",
                   why.empty() ? "" : why + "; ", file.string());
      cal = calibrate(k_calibration_widths);
      const std::string failed = save_calibration(*cal, file);
      if (!failed.empty())
        fmt::print(stderr,
                   "sweep: cannot store the calibration in {}: {}; it serves this sweep only\n",
                   file.string(), failed);
    }
  }
  std::vector<TrainConfig> placed;
  for (const size_t i : pending) {
    if (cal && sweep.runs[i].threads == 1) threads[i] = placement_threads(*cal, sweep.runs[i]);
    placed.push_back(sweep.runs[i]);
    placed.back().threads = threads[i];
  }
  const auto slots_of = [&](size_t i) { return automatic ? std::min(threads[i], jobs) : 1; };
  if (cal) {
    sum.placement = fmt::format(
        "placement {}; the last run to start takes idle cores where one run is "
        "faster with them (calibrated {}, {})",
        describe_placement(*cal, placed), cal->measured_at,
        calibration_path(options.run.data_dir).string());
  } else {
    sum.placement = fmt::format(
        "placement: {} run{} at once, {}{}", jobs, jobs == 1 ? "" : "s",
        std::all_of(pending.begin(), pending.end(), [&](size_t i) { return threads[i] == 1; })
            ? "1 thread each"
            : "threads as the sweep file sets them",
        !automatic || cores == 1 ? ""
        : why.empty()
            ? " (no calibration of this machine yet: the sweep is too short to repay one; "
              "initscope calibrate measures it)"
            : fmt::format(" (the stored calibration is not used: {}; the sweep is too short to "
                          "repay measuring again; initscope calibrate does)",
                          why));
  }
  if (options.progress != ProgressMode::none) fmt::print(stderr, "sweep: {}\n", sum.placement);

  // Longest first, so the last runs to finish are short ones and the cores stay busy to the
  // end; with automatic placement, runs of more threads first, so that the cores go from runs
  // that fill them all to runs that share them, and never wait for slots to free up.
  std::stable_sort(pending.begin(), pending.end(), [&](size_t a, size_t b) {
    if (slots_of(a) != slots_of(b)) return slots_of(a) > slots_of(b);
    return run_cost(sweep.runs[a]) > run_cost(sweep.runs[b]);
  });

  // Load each dataset once; children share its mapping (or, where the cache could not be
  // written, its memory copy-on-write). (signal1d's data depend on the run's seed: each run
  // makes its own.)
  std::map<std::string, TrainTest> data;
  for (const size_t i : pending) {
    const std::string key = task_data_key(sweep.runs[i]);
    if (!key.empty() && !data.count(key))
      data.emplace(key, load_task(sweep.runs[i], options.run.data_dir));
  }

  const ConnectionKeeper keeper(options.db);

  // The first SIGINT or SIGTERM stops the sweep: no new runs, and the runs in flight get that
  // signal, so they store what they have as `interrupted`. A second signal kills them (their
  // rows are marked `interrupted` below).
  g_stop_signal.store(0);
  g_stop_count.store(0);
  const StopSignals signals(/*second_kills=*/false);
  const auto g_stop = [] { return g_stop_signal.load() != 0; };
  bool terminated = false, killed = false;

  const int todo = static_cast<int>(pending.size());
  int done = 0;
  size_t next = 0;
  int used = 0;  // slots (threads, or runs with fixed placement) of the runs in flight
  std::vector<Child> running;
  // The ETA: the cost model's seconds for the runs not finished, scaled by what the finished
  // runs took against what the model gave them (the model can be 2× off, and this machine is
  // not the reference), spread over the jobs.
  double model_done = 0.0, actual_done = 0.0;
  int calibrated_by = 0;
  const auto eta = [&]() -> std::string {
    const double scale = calibrated_by > 0 && model_done > 0 ? actual_done / model_done : 1.0;
    double left = 0.0;
    for (size_t k = next; k < pending.size(); ++k)
      left += scale * estimated_run_seconds(sweep.runs[pending[k]]);
    for (const auto& c : running) {
      const double ran = std::chrono::duration<double>(Clock::now() - c.started).count();
      left += std::max(0.0, scale * estimated_run_seconds(sweep.runs[c.index]) - ran);
    }
    const double workers = static_cast<double>(
        std::min<size_t>(static_cast<size_t>(jobs), pending.size() - static_cast<size_t>(done)));
    return fmt::format(
        "ETA {}{}", hms(left / std::max(workers, 1.0)),
        calibrated_by ? fmt::format(" (cost model × {:.2g}, from {} runs)", scale, calibrated_by)
                      : std::string(" (cost model, not yet calibrated)"));
  };
  const auto status_line = [&] {
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    return fmt::format("{}/{} runs done{}  {} failed  {} diverged  {} running  {} elapsed  {}",
                       done + sum.skipped, sum.total,
                       sum.skipped ? fmt::format(" ({} before)", sum.skipped) : "", sum.failed,
                       sum.diverged, running.size(), hms(el), eta());
  };
  auto last_line = Clock::now();
  bool printed = false;
  const auto draw = [&] {
    if (lines) {
      // A status line at the start and then every progress_every seconds.
      if (printed &&
          std::chrono::duration<double>(Clock::now() - last_line).count() < options.progress_every)
        return;
      last_line = Clock::now();
      printed = true;
      fmt::print(stderr, "sweep: {}\n", status_line());
      std::fflush(stderr);
      return;
    }
    if (!bar) return;
    const int width = 20, filled = todo ? width * done / todo : width;
    fmt::print(stderr, "\r\033[K[{}{}] {}", std::string(static_cast<size_t>(filled), '#'),
               std::string(static_cast<size_t>(width - filled), '.'), status_line());
  };
  const auto report = [&](const std::string& line) {
    if (bar) fmt::print(stderr, "\r\033[K");
    fmt::print(stderr, "{}\n", line);
    draw();
  };

  while ((next < pending.size() && !g_stop()) || !running.empty()) {
    while (!g_stop() && next < pending.size() && used + slots_of(pending[next]) <= jobs) {
      const size_t i = pending[next++];
      // The last run to start gets the cores that would otherwise idle, where the calibration
      // says one run goes faster with them (a sweep of one long run, or a long last run).
      if (cal && automatic && next == pending.size() && sweep.runs[i].threads == 1)
        threads[i] = last_run_threads(*cal, sweep.runs[i], jobs - used);
      used += slots_of(i);
      int fds[2];
      if (pipe(fds) != 0)
        throw Error(fmt::format("sweep: cannot create a pipe: {}", std::strerror(errno)));
      const pid_t parent = getpid();
      const pid_t pid = fork();
      if (pid < 0) throw Error(fmt::format("sweep: cannot fork: {}", std::strerror(errno)));
      if (pid == 0) {
        ::close(fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // die with the sweep, never finish a run it restarts
        if (getppid() != parent) _exit(3);
        TrainConfig c = sweep.runs[i];
        c.threads = threads[i];  // not part of the run's identity: it changes no stored number
        child_main(c, options, data, fds[1], describe(sweep.runs[i], axes));
      }
      ::close(fds[1]);
      // The child writes twice ("claimed", then its result): reading must never block, or a
      // stop signal would wait for the run to finish.
      ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
      running.push_back({pid, fds[0], i, {}, Clock::now()});
    }
    // Ctrl-C or SIGTERM: the runs in flight get the same signal, stop and are stored
    // `interrupted`; all finished runs are already committed, so running the sweep again
    // resumes it.
    if (g_stop() && !terminated) {
      for (const auto& c : running) ::kill(c.pid, g_stop_signal.load());
      terminated = true;
    }
    if (g_stop_count.load() > 1 && !killed) {
      for (const auto& c : running) ::kill(c.pid, SIGKILL);
      killed = true;
    }
    // Collect output and exits; wake at least once a second for the progress bar.
    std::vector<pollfd> pfds;
    for (const auto& c : running) pfds.push_back({c.fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), 1000);
    for (size_t k = 0; k < running.size();) {
      Child& c = running[k];
      char buf[4096];
      ssize_t n;
      while ((pfds[k].revents & (POLLIN | POLLHUP)) && (n = ::read(c.fd, buf, sizeof buf)) > 0)
        c.out.append(buf, static_cast<size_t>(n));
      int status = 0;
      if (waitpid(c.pid, &status, WNOHANG) != c.pid) {
        ++k;
        continue;
      }
      while ((n = ::read(c.fd, buf, sizeof buf)) > 0) c.out.append(buf, static_cast<size_t>(n));
      ::close(c.fd);
      const std::string label = describe(sweep.runs[c.index], axes);
      // The child's lines: "claimed <id>" (if it got that far), then its result (if it lived).
      int64_t claimed = 0;
      std::string out = c.out;
      if (out.rfind("claimed ", 0) == 0) {
        const size_t eol = out.find('\n');
        claimed = std::strtoll(out.c_str() + 8, nullptr, 10);
        out = eol == std::string::npos ? "" : out.substr(eol + 1);
      }
      if (!out.empty() && out.back() == '\n') out.pop_back();
      ++done;
      if (out.empty() && killed) {
        // killed by a second stop signal; its row becomes `interrupted` below
      } else if (out.empty()) {
        // The process died without a word (an abort, the OOM killer): its row is recorded
        // `failed`, so the config is not retried on every resume (--retry-failed retries it).
        const std::string why =
            WIFSIGNALED(status)
                ? fmt::format("the run's process was killed by signal {} ({})", WTERMSIG(status),
                              strsignal(WTERMSIG(status)))
                : fmt::format("the run's process ended with status {} and no result",
                              WEXITSTATUS(status));
        if (claimed > 0) Db(options.db).mark_failed(claimed, why);
        ++sum.failed;
        report(fmt::format("FAILED {}: {}", label, why));
      } else if (out.rfind("error ", 0) == 0) {
        ++sum.failed;
        report(fmt::format("FAILED {}: {}", label, out.substr(6)));
      } else if (out == "skipped") {
        ++sum.skipped;
      } else {
        char st[32] = {}, by[128] = {};
        double r = NAN, secs = 0;
        int conv = 0;
        std::sscanf(out.c_str(), "%31s %127s %lf %lf %d", st, by, &r, &secs, &conv);
        if (std::string(st) == k_status_diverged) {
          ++sum.diverged;
        } else if (std::string(st) == k_status_interrupted) {
          ++sum.stopped_runs;
        } else {
          ++sum.completed;
          sum.converged += conv;
        }
        if (std::string(st) != k_status_interrupted) {
          model_done += estimated_run_seconds(sweep.runs[c.index]);
          actual_done += std::chrono::duration<double>(Clock::now() - c.started).count();
          ++calibrated_by;
        }
        if (lines)
          report(fmt::format("[{}/{}] {}: {} by {} r={:.3f} in {}", done, todo, label, st, by, r,
                             hms(secs)));
      }
      used -= slots_of(c.index);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
      pfds.erase(pfds.begin() + static_cast<std::ptrdiff_t>(k));
      draw();
    }
    draw();
  }
  if (bar) fmt::print(stderr, "\n");
  sum.signal = g_stop_signal.load();
  sum.stopped = sum.signal != 0;
  Db(options.db).mark_interrupted();  // rows of killed children (a second signal)
  sum.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return sum;
}

}  // namespace initscope
