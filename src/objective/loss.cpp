// Name parsing for the losses; the math is in the header.
#include "objective/loss.hpp"

#include <cmath>

#include <fmt/format.h>

#include "common/error.hpp"

namespace initscope {

Loss parse_loss(const std::string& name) {
  if (name == "ce") return Loss::ce;
  if (name == "mse") return Loss::mse;
  if (name == "logistic") return Loss::logistic;
  throw Error(fmt::format("--loss: unknown loss '{}' (expected ce, mse or logistic)", name));
}

std::string to_string(Loss l) {
  switch (l) {
    case Loss::ce:
      return "ce";
    case Loss::mse:
      return "mse";
    case Loss::logistic:
      return "logistic";
  }
  return "?";
}

double chance_loss(Loss loss, const std::vector<double>& freq, int64_t outputs) {
  double sum_sq = 0.0, entropy = 0.0;
  for (const double p : freq) {
    sum_sq += p * p;
    if (p > 0) entropy -= p * std::log(p);
  }
  switch (loss) {
    case Loss::ce:
    case Loss::logistic:  // binary: the entropy of (p₀, p₁)
      return entropy;
    case Loss::mse:
      if (outputs == 1) {
        const double p1 = freq.size() > 1 ? freq[1] : 0.0, mean = 2.0 * p1 - 1.0;
        return 1.0 - mean * mean;
      }
      return (1.0 - sum_sq) / static_cast<double>(outputs);
  }
  IS_CHECK(false, "unknown Loss value");
  return NAN;
}

const std::vector<std::string>& loss_names() {
  static const std::vector<std::string> names{to_string(Loss::ce), to_string(Loss::mse),
                                              to_string(Loss::logistic)};
  return names;
}

}  // namespace initscope
