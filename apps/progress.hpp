// How `train` shows a run while it runs: one line redrawn in place on a terminal, or a plain
// line every N seconds in a log (nohup, Slurm, `| tee`), with the stopping criterion's value in
// words, the rate and the time to the cap; and the collapse warning in every mode. Only called
// after an epoch's check, never inside a training step.
#pragma once

#include <chrono>
#include <string>

#include "train/trainer.hpp"

namespace initscope::cli {

/// The criterion's value and where it stops, in words: "train error 1.6% (stop at ≤ 1%)",
/// "margin ≥ 10 on 61.2% of examples (stop at ≥ 99%)"; "at most"/"at least" when the check
/// stopped early and the value is a bound.
std::string criterion_words(const Progress& p);

/// "epoch 12/1000  loss 0.345  margin ≥ 10 on 61.2% of examples (stop at ≥ 99%)  3.1 epochs/s
/// elapsed 4s  cap in 5m10s": the line both modes print.
std::string progress_text(const Progress& p);

/// "4s", "5m10s", "1h05m".
std::string duration_words(double seconds);

class TrainProgress {
 public:
  /// every_seconds: lines mode's interval (0: every epoch).
  TrainProgress(ProgressMode mode, double every_seconds) : mode_(mode), every_(every_seconds) {}
  void operator()(const Progress& p);
  /// Ends the bar's line (call once the run has ended).
  void finish();

 private:
  ProgressMode mode_;
  double every_;
  std::chrono::steady_clock::time_point last_{};
  bool drawn_ = false, any_ = false;
};

}  // namespace initscope::cli
