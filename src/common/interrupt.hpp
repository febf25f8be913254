// Stopping on SIGINT and SIGTERM: the signal is only recorded (a lock-free atomic, safe in a
// handler); the trainer looks at it after every step and ends the run as `interrupted`, and the
// CLI exits with 128 + the signal (130 for SIGINT, 143 for SIGTERM) once the row is written.
// Deliberately left out: any work inside the handler itself, and other signals (a crash or
// kill -9 leaves a `running` row that Db::mark_interrupted reconciles later).
#pragma once

#include <signal.h>

#include <atomic>
#include <exception>
#include <string>
#include <utility>

namespace initscope {

/// The first SIGINT or SIGTERM received while StopSignals is installed, or 0; and how many
/// were received. Whoever installs StopSignals resets them if it needs a fresh start (a forked
/// child keeps its parent's, so that a signal between fork and install is not lost).
inline std::atomic<int> g_stop_signal{0};
inline std::atomic<int> g_stop_count{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free int");

/// "SIGINT", "SIGTERM", or "signal N".
inline std::string signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(sig);
}

/// Thrown by a command that stopped because of a signal after recording what it had; main
/// exits with 128 + signal.
class Interrupted : public std::exception {
 public:
  /// `what` is the line main prints after "initscope: "; by default "stopped by SIGINT".
  explicit Interrupted(int sig, std::string what = {})
      : sig_(sig), what_(what.empty() ? "stopped by " + signal_name(sig) : std::move(what)) {}
  int signal() const { return sig_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  int sig_;
  std::string what_;
};

namespace detail {
inline bool g_second_signal_kills = true;
extern "C" inline void on_stop_signal(int sig) {
  g_stop_count.fetch_add(1);
  int expected = 0;
  if (g_stop_signal.compare_exchange_strong(expected, sig)) return;
  // A second signal while the first is being handled: stop at once (the row stays `running`
  // and is marked `interrupted` by the next command that opens the database).
  if (g_second_signal_kills) {
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}
}  // namespace detail

/// Installs the handlers for SIGINT and SIGTERM for its lifetime and restores the previous ones
/// after. `second_kills`: a second signal ends the process at once (an impatient Ctrl-C Ctrl-C);
/// otherwise later signals are only counted (a sweep, which then kills its runs; a sweep's run,
/// which may get a terminal's Ctrl-C and the sweep's forwarded one).
class StopSignals {
 public:
  explicit StopSignals(bool second_kills = true) {
    detail::g_second_signal_kills = second_kills;
    struct sigaction sa {};
    sa.sa_handler = detail::on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGINT, &sa, &old_int_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace initscope
