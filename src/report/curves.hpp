// Learning curves for the report: for every sweep cell (an experiment at one width, m and noise
// level), the training loss, training error, test error and distance from initialization over
// the epochs, one line per seed, read from the runs' stored trajectories. Each cell is one
// gnuplot figure of four panels (CELL.png and CELL.svg from CELL.gp and CELL.dat).
// Error metrics are fractions in the data and percentages on the axes. What a trajectory holds
// depends on how the run was trained: every epoch's running loss and error (epoch_loss,
// epoch_error) always; test error and r only every `measure_every` epochs, plus their final
// values (the run's metrics) at its last epoch and r = 0 at epoch 0.
// Deliberately left out: choosing the runs (the report hands over the ones it uses) and any
// statistic over the curves.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "report/page.hpp"
#include "store/db.hpp"

namespace initscope::report {

/// One panel's line for one run: (epoch, value) pairs, ascending epoch.
struct CurveLine {
  uint64_t seed = 0;
  int64_t run = 0;
  std::vector<std::pair<double, double>> points;
};

/// The four panels of one run, from its trajectory and final metrics: "loss", "train error
/// (%)", "test error (%)", "r". A panel the run has no values for is empty.
struct RunCurves {
  CurveLine loss, train_error, test_error, dist;
};
RunCurves run_curves(const RunRecord& run, const std::vector<TrajectoryPoint>& trajectory);

/// The gnuplot data and script of one cell's figure (`name`.png and `name`.svg), for tests.
std::string curves_data(const std::vector<RunCurves>& runs);
std::string curves_script(const std::string& name, const std::string& title,
                          const std::vector<RunCurves>& runs);

/// Adds a "Learning curves" section for `runs` (the runs a study uses) to the page: one figure
/// per sweep cell with a stored trajectory, experiments in order of first appearance. `study`
/// names the section and prefixes the files ("curves_nk17_e1_H64_m1024_p0").
void learning_curves(Page& page, const std::vector<const RunRecord*>& runs,
                     const std::function<std::vector<TrajectoryPoint>(int64_t)>& trajectory,
                     const std::string& study);

}  // namespace initscope::report
