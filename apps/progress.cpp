// See progress.hpp.
#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/core.h>

namespace initscope::cli {

std::string duration_words(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t / 60) % 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

std::string criterion_words(const Progress& p) {
  if (p.stop == nullptr) return "no stopping criterion: runs to the cap";
  const StopCriterion& c = *p.stop;
  // An early check saw part of the set: its value is the best the criterion can still reach.
  const char* at = p.bound == '<' ? "at most " : p.bound == '>' ? "at least " : "";
  const double v = p.criterion;
  switch (c.kind) {
    case StopCriterion::Kind::margin:
      return fmt::format("margin ≥ {:g} on {}{:.1f}% of examples (stop at ≥ {:g}%)", c.value, at,
                         100 * v, 100 * c.quantile);
    case StopCriterion::Kind::train_error:
      return fmt::format("train error {}{:.2f}% (stop at ≤ {:g}%)", at, 100 * v, 100 * c.value);
    case StopCriterion::Kind::loss:
      return fmt::format("loss {}{:.4g} (stop at ≤ {:g})", at, v, c.value);
    case StopCriterion::Kind::loss_relative:
      return fmt::format("loss {}{:.4g} (stop at ≤ {:.4g}, {:g} × the initial loss)", at, v,
                         c.value * p.initial_loss, c.value);
    case StopCriterion::Kind::mse:
      return fmt::format("train mse {}{:.4g} (stop at ≤ {:g})", at, v, c.value);
    case StopCriterion::Kind::psnr:
      return fmt::format("train psnr {}{:.2f} dB (stop at ≥ {:g} dB)", at, v, c.value);
    case StopCriterion::Kind::plateau:
      break;  // never the StopCheck's first criterion
  }
  return c.text;
}

std::string progress_text(const Progress& p) {
  std::string line = fmt::format("epoch {}/{}", p.epoch, p.max_epochs);
  const bool on_loss = p.stop && p.stop->on_loss() && p.stop->kind != StopCriterion::Kind::psnr;
  const bool on_error = p.stop && p.stop->kind == StopCriterion::Kind::train_error;
  if (!on_loss) line += fmt::format("  loss {:.4g}", p.loss);
  if (!p.regression && !on_error) line += fmt::format("  train error {:.2f}%", 100 * p.error);
  line += "  " + criterion_words(p);
  // The rate over the whole run so far (measures included), and the cap it leads to.
  const double epochs_per_second = p.elapsed > 0 ? static_cast<double>(p.epoch) / p.elapsed : 0;
  if (p.epoch > 0 && epochs_per_second > 0) {
    line += epochs_per_second >= 1 ? fmt::format("  {:.1f} epochs/s", epochs_per_second)
                                   : fmt::format("  {:.1f} s/epoch", 1 / epochs_per_second);
    double left = static_cast<double>(p.max_epochs - p.epoch) / epochs_per_second;
    if (p.max_steps >= 0 && p.step > 0)
      left = std::min(left, static_cast<double>(p.max_steps - p.step) * p.elapsed /
                                static_cast<double>(p.step));
    line += fmt::format("  elapsed {}  cap in {}", duration_words(p.elapsed), duration_words(left));
  } else {
    line += fmt::format("  elapsed {}", duration_words(p.elapsed));
  }
  return line;
}

void TrainProgress::operator()(const Progress& p) {
  const std::string warning = collapse_warning(p);
  if (!warning.empty()) {
    if (drawn_) fmt::print(stderr, "\r\033[K");
    fmt::print(stderr, "initscope: warning: {}\n", warning);
  }
  if (mode_ == ProgressMode::none) return;
  const auto now = std::chrono::steady_clock::now();
  if (mode_ == ProgressMode::bar) {
    // At most ten redraws a second; the line is cut to the terminal's width, since a wrapped
    // line cannot be redrawn with \r.
    if (any_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    any_ = true;
    std::string line = progress_text(p);
    winsize ws{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) {
      // Count code points, not bytes (≥, ×), and cut at a code point's start.
      size_t cols = 0, i = 0;
      for (; i < line.size(); ++i)
        if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80 && ++cols >= ws.ws_col) break;
      line.resize(i);
    }
    fmt::print(stderr, "\r\033[K{}", line);
    drawn_ = true;
    return;
  }
  // lines: the first epoch, then one line per interval (every epoch with an interval of 0).
  if (any_ && std::chrono::duration<double>(now - last_).count() < every_) return;
  last_ = now;
  any_ = true;
  fmt::print(stderr, "{}\n", progress_text(p));
  std::fflush(stderr);
}

void TrainProgress::finish() {
  if (drawn_) fmt::print(stderr, "\n");
  drawn_ = false;
}

}  // namespace initscope::cli
