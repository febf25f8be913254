// What a run measures, as plain values: named scalars (Metrics) and points of its trajectory.
// Here, below every folder that makes or keeps them, so that measure/ and train/ produce them
// and store/ writes them without either knowing the other.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace initscope {

/// Named scalar results of a run or of one measurement ("dist_init", "test_error", ...).
using Metrics = std::map<std::string, double>;

/// One value of the trajectory: `name` measured after `step` steps, at the end of `epoch`.
struct TrajectoryPoint {
  int64_t step = 0;
  int64_t epoch = 0;
  std::string name;
  double value = 0.0;
};

}  // namespace initscope
