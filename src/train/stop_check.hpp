// The stopping check on the training set, evaluated only as far as the decision needs.
// Each criterion is a mean over examples of a nonnegative term (loss, error, a margin below γ),
// so the examples seen so far bound the whole set's value: once every criterion is certainly
// unmet, the rest of the set cannot change the decision and need not be evaluated. The trainer
// feeds the examples most likely to fail first, so one chunk usually decides; the decision, and
// with it the run, is the one a full evaluation gives. Only a complete pass yields the values.
#pragma once

#include <cstdint>
#include <vector>

#include "train/config.hpp"

namespace initscope {

class StopCheck {
 public:
  StopCheck() = default;
  StopCheck(std::vector<StopCriterion> criteria, int64_t n);

  /// Starts a check. initial_loss is the loss at initialization (NaN before it is known), for
  /// loss<=F*initial.
  void begin(double initial_loss);
  /// Adds the example in row `row` (each row once per check): its loss, margin and whether it is
  /// misclassified.
  void add(int64_t row, double loss, double margin, bool wrong);

  int64_t seen() const { return seen_; }
  bool complete() const { return seen_ == n_; }
  /// True once no criterion can be met whatever the unseen examples are.
  bool certainly_unmet() const;
  /// The fewest further examples that could make certainly_unmet() true (all of them misses or
  /// errors), so that the next chunk need be no larger; 0 if a loss criterion makes that unknown.
  int64_t fewest_to_decide() const;
  /// Criterion i's value if the check is complete; otherwise the best value it could still reach
  /// (a lower bound of the loss or error, an upper bound of the margin fraction).
  double value(size_t i) const;
  /// Whether criterion i is met; only meaningful once complete.
  bool met(size_t i) const;

  /// Mean loss and error of a complete check; the loss is summed in row order, as a plain pass
  /// over the set would, so the value does not depend on the order the examples came in.
  double loss() const;
  double error() const;

  const std::vector<StopCriterion>& criteria() const { return criteria_; }

 private:
  /// Whether count criterion i (margin or train_error) holds with k misses or errors.
  bool holds_with(size_t i, int64_t k) const;

  std::vector<StopCriterion> criteria_;
  int64_t n_ = 0;
  std::vector<double> loss_;  // (n) by row
  double initial_loss_ = 0.0;
  int64_t seen_ = 0, wrong_ = 0;
  double partial_loss_ = 0.0;    // Σ loss over the examples seen, in arrival order
  std::vector<int64_t> misses_;  // per criterion: examples seen with margin < γ (margin only)
};

}  // namespace initscope
