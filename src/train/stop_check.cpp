// See stop_check.hpp.
#include "train/stop_check.hpp"

#include <cmath>
#include <numeric>

#include "common/error.hpp"

namespace initscope {

namespace {

// The arrival-order partial sum of the losses may round above the row-order sum of the same
// terms by up to about n·ε relative; this slack keeps "certainly unmet" certain. Tiny negative
// losses (a cross-entropy of −1e-17 on a perfect prediction) are covered by the absolute part.
constexpr double k_loss_slack = 1e-9;

}  // namespace

StopCheck::StopCheck(std::vector<StopCriterion> criteria, int64_t n)
    : criteria_(std::move(criteria)), n_(n), loss_(static_cast<size_t>(n), 0.0) {
  misses_.assign(criteria_.size(), 0);
}

void StopCheck::begin(double initial_loss) {
  initial_loss_ = initial_loss;
  seen_ = wrong_ = 0;
  partial_loss_ = 0.0;
  std::fill(misses_.begin(), misses_.end(), 0);
}

void StopCheck::add(int64_t row, double loss, double margin, bool wrong) {
  IS_CHECK(row >= 0 && row < n_ && seen_ < n_);
  loss_[static_cast<size_t>(row)] = loss;
  partial_loss_ += loss;
  wrong_ += wrong ? 1 : 0;
  for (size_t i = 0; i < criteria_.size(); ++i)
    if (criteria_[i].kind == StopCriterion::Kind::margin && !(margin >= criteria_[i].value))
      ++misses_[i];  // a NaN margin is a miss, as in the full count
  ++seen_;
}

double StopCheck::value(size_t i) const {
  const auto& c = criteria_[i];
  const double n = static_cast<double>(std::max<int64_t>(n_, 1));
  switch (c.kind) {
    case StopCriterion::Kind::loss:
    case StopCriterion::Kind::loss_relative:
    case StopCriterion::Kind::mse:
      return complete() ? loss() : partial_loss_ / n;
    case StopCriterion::Kind::psnr:  // an upper bound until complete, as the MSE's is a lower
      return psnr_db(complete() ? loss() : partial_loss_ / n, c.range);
    case StopCriterion::Kind::train_error:
      return static_cast<double>(wrong_) / n;
    case StopCriterion::Kind::margin:
      return static_cast<double>(n_ - misses_[i]) / n;
    case StopCriterion::Kind::plateau:
      break;
  }
  IS_CHECK(false, "plateau:N is the trainer's, never the StopCheck's");
  return NAN;
}

bool StopCheck::holds_with(size_t i, int64_t k) const {
  const auto& c = criteria_[i];
  const double n = static_cast<double>(std::max<int64_t>(n_, 1));
  return c.kind == StopCriterion::Kind::margin ? static_cast<double>(n_ - k) / n >= c.quantile
                                               : static_cast<double>(k) / n <= c.value;
}

bool StopCheck::met(size_t i) const {
  const auto& c = criteria_[i];
  switch (c.kind) {
    case StopCriterion::Kind::loss:
      return value(i) <= c.value;
    case StopCriterion::Kind::loss_relative:
      return value(i) <= c.value * initial_loss_;
    case StopCriterion::Kind::mse:
    case StopCriterion::Kind::psnr:  // on the MSE, so that the PSNR's rounding cannot differ
      return (complete() ? loss()
                         : partial_loss_ / static_cast<double>(std::max<int64_t>(n_, 1))) <=
             c.loss_bound(initial_loss_);
    case StopCriterion::Kind::train_error:
      return holds_with(i, wrong_);
    case StopCriterion::Kind::margin:
      return holds_with(i, misses_[i]);
    case StopCriterion::Kind::plateau:
      break;
  }
  IS_CHECK(false, "plateau:N is the trainer's, never the StopCheck's");
  return false;
}

bool StopCheck::certainly_unmet() const {
  if (complete()) {
    for (size_t i = 0; i < criteria_.size(); ++i)
      if (met(i)) return false;
    return true;
  }
  const double n = static_cast<double>(n_);
  for (size_t i = 0; i < criteria_.size(); ++i) {
    const auto& c = criteria_[i];
    switch (c.kind) {
      case StopCriterion::Kind::loss:
      case StopCriterion::Kind::loss_relative:
      case StopCriterion::Kind::mse:
      case StopCriterion::Kind::psnr: {
        const double bound = c.loss_bound(initial_loss_);
        // NaN (initial loss unknown, or a NaN loss seen) never counts as certain.
        if (!(partial_loss_ / n > bound * (1 + k_loss_slack) + 1e-15)) return false;
        break;
      }
      case StopCriterion::Kind::train_error:
      case StopCriterion::Kind::margin:
        if (met(i)) return false;  // value(i) is already the best the criterion can reach
        break;
      case StopCriterion::Kind::plateau:
        IS_CHECK(false, "plateau:N is the trainer's, never the StopCheck's");
        break;
    }
  }
  return true;
}

int64_t StopCheck::fewest_to_decide() const {
  const double n = static_cast<double>(std::max<int64_t>(n_, 1));
  int64_t most = 0;
  for (size_t i = 0; i < criteria_.size(); ++i) {
    const auto& c = criteria_[i];
    if (c.on_loss()) return 0;
    const bool margin = c.kind == StopCriterion::Kind::margin;
    const int64_t count = margin ? misses_[i] : wrong_;
    // Start just below the allowance and step up to the first count that cannot hold.
    const double allowance = margin ? (1.0 - c.quantile) * n : c.value * n;
    int64_t k = std::max(count, static_cast<int64_t>(std::floor(allowance)) - 2);
    while (k <= n_ && holds_with(i, k)) ++k;
    most = std::max(most, k - count);
  }
  return most;
}

double StopCheck::loss() const {
  IS_CHECK(complete());
  return n_ ? std::accumulate(loss_.begin(), loss_.end(), 0.0) / static_cast<double>(n_) : 0.0;
}

double StopCheck::error() const {
  IS_CHECK(complete());
  return n_ ? static_cast<double>(wrong_) / static_cast<double>(n_) : 0.0;
}

}  // namespace initscope
