// One training run: data preparation, SGD with momentum until a stopping criterion or a cap,
// and the measures at the end. The trainer owns the seed: init, data order, subset and label
// noise each get their own stream derived from the run seed.
// Deliberately left out: storage and printing. The caller gets a RunOutcome and a progress
// callback, and decides where they go (database, terminal, JSON).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "measure/weights.hpp"
#include "model/mlp.hpp"
#include "model/network.hpp"
#include "store/db.hpp"
#include "train/config.hpp"
#include "train/loss.hpp"

namespace initscope {

/// The run's training and test sets after class selection, subsetting, label noise and
/// scaling, with the number of network outputs (1 for a two-class task).
struct PreparedData {
  Dataset train, test;
  int64_t outputs = 10;
  std::vector<int64_t> corrupted;  // training rows whose label was replaced, ascending
};

/// Applies the config's data transforms to a loaded dataset. Throws Error for an m larger than
/// the (class-selected) training set and the like.
PreparedData prepare_data(const TrainConfig& c, TrainTest raw);

/// Loss, error and margins of the whole dataset, evaluated in chunks.
struct Evaluation {
  double loss = 0.0;   // mean
  double error = 0.0;  // fraction misclassified
  std::vector<double> margins;  // one per example (only if asked for)
};

struct Progress {
  int64_t epoch = 0, step = 0;
  double loss = 0.0, error = 0.0;
  double criterion = 0.0;          // the first criterion's current value (loss, error or fraction)
  std::string criterion_name;
  double steps_per_second = 0.0, elapsed = 0.0;
};
using ProgressFn = std::function<void(const Progress&)>;

struct RunOutcome {
  std::string status;      // completed | diverged
  std::string stopped_by;  // the criterion's text, or max_epochs / max_steps / diverged
  bool converged = false;  // a criterion, not a cap, ended the run
  std::string error;       // what went wrong for a diverged run
  Metrics metrics;
  std::vector<TrajectoryPoint> trajectory;
};

class Trainer {
 public:
  /// Builds the network and initializes it (randomly, or from config.init_from).
  Trainer(const TrainConfig& config, const PreparedData& data);
  /// Trains until a criterion or cap; then measures. Call once.
  RunOutcome run(const ProgressFn& progress = {});

  const Mlp& net() const { return net_; }
  std::span<const float> params() const { return params_; }
  std::span<const float> initial_params() const { return init_; }
  /// Loss, error and (optionally) margins of `d` at the current parameters.
  Evaluation evaluate(const Dataset& d, bool margins);

 private:
  void sgd_step(int64_t B);

  TrainConfig config_;
  const PreparedData& data_;
  Mlp net_;
  Loss loss_;
  std::vector<StopCriterion> criteria_;
  // One flat buffer each (STYLE.md practice 3); layers are offsets into them.
  std::vector<float> params_, init_, grads_, momentum_;
  Workspace train_ws_, eval_ws_;
  std::vector<float> xb_, dlogits_;  // gathered batch (B, dim) and its logit gradient (B, K)
  std::vector<int32_t> yb_;
  std::vector<int64_t> order_;
};

}  // namespace initscope
