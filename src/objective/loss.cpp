// Name parsing for the losses; the math is in the header.
#include "objective/loss.hpp"

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

const std::vector<std::string>& loss_names() {
  static const std::vector<std::string> names{to_string(Loss::ce), to_string(Loss::mse),
                                              to_string(Loss::logistic)};
  return names;
}

}  // namespace initscope
