// The measures a run takes, as a registry: each has a name, the moments it runs at (at
// initialization, every N epochs, at the end), what it needs (the weights, data, a gradient),
// and the function that computes it. The trainer runs every registered measure at its moments
// and knows none of them by name; a new measure is a function plus one entry in measures().
// Deliberately left out: storage (the caller writes the metrics) and choosing measures per run
// (every registered measure runs; a measure that is costly and optional reads its own option).
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics.hpp"
#include "data/dataset.hpp"
#include "model/encoding.hpp"
#include "model/mlp.hpp"
#include "objective/loss.hpp"

namespace initscope {

/// When a measure runs; a measure's `when` is a bit set of these.
enum MeasureTime : unsigned {
  k_at_init = 1,  // once, on the initialization, before training
  k_during = 2,   // every config.measure_every epochs, into the trajectory
  k_at_end = 4,   // once, after training, into the run's metrics
};

/// What a measure reads besides the weights; a trainer that cannot provide it refuses.
enum MeasureNeed : unsigned {
  k_needs_weights = 1,
  k_needs_data = 2,      // evaluations of the training or test set
  k_needs_gradient = 4,  // gradients of the training loss: MeasureInput::train
};

/// Loss, error and margins of a whole dataset at the current parameters.
/// For a regression task error is NaN, margins empty, and mse (and psnr where the data's
/// range is known) hold the fit.
struct Evaluation {
  double loss = 0.0;            // mean
  double error = 0.0;           // fraction misclassified
  std::vector<double> margins;  // one per example (only if asked for)
  bool regression = false;
  double mse = NAN, psnr = NAN;
};
enum class Split { train, test };

/// The training set as the network sees it (encoded), with the run's loss: what a measure
/// that takes gradients or perturbs the weights evaluates (loss_gradient's arguments).
struct TrainingRows {
  const float* x = nullptr;        // (n, input_dim) row-major; nullptr: not provided
  const int32_t* y = nullptr;      // (n) labels (classification)
  const float* targets = nullptr;  // (n, outputs) for a regression task, else nullptr
  int64_t n = 0;
  Loss loss = Loss::ce;
};

/// Everything a measure may read at one moment.
/// The box a coordinate task's function lives on, for its Fourier spectra (fourier.cpp).
struct FunctionBox {
  int64_t dims = 0;  // raw input coordinates in [−1, 1]^dims (1 or 2); 0: not a coordinate task
  double cutoff = 0.0;  // cycles per unit: the target's top frequency, or the training lattice's
                        // Nyquist frequency for images; the spectra's high bands lie above it
  const Encoding* encoding = nullptr;  // applied to the coordinates before the network
  int threads = 1;
  // signal1d: the target function and its frequencies, for the per-frequency fit
  std::function<double(double)> target;
  std::vector<double> target_freqs;
};

/// Named arrays a measure leaves for the run's artifacts (spectra), beside its scalar metrics.
using MeasureArrays = std::map<std::string, std::vector<double>>;

struct MeasureInput {
  MeasureTime when = k_at_end;
  const Mlp* net = nullptr;
  std::span<const float> params;      // (num_params) the current weights (the init at k_at_init)
  std::span<const float> init;        // (num_params) the initialization
  std::span<const float> pretrained;  // (num_params) the pretrained start, or empty
  const Metrics* init_metrics = nullptr;  // what k_at_init measures found, constant over a run
  std::function<Evaluation(Split, bool margins)> evaluate;  // set if the trainer has data
  FunctionBox box;                  // set for coordinate tasks (signal1d, image:NAME)
  MeasureArrays* arrays = nullptr;  // where k_at_end measures may leave arrays
  // The prepared sets (inputs as the network sees them), set with `evaluate`, for measures that
  // need the inputs themselves rather than an evaluation.
  const Dataset* train = nullptr;
  const Dataset* test = nullptr;
  // The run's options (its config's JSON, every option present): what an optional measure reads
  // to know whether and how to run ("rademacher_radius"), and the run seed ("seed").
  nlohmann::json options = nlohmann::json::object();
  TrainingRows gradient_rows;  // set if the caller can give gradients (k_needs_gradient)
  std::string flatness;        // --flatness: the flatness measures asked for (flatness.hpp)
  int64_t flatness_rows = 0;   // --flatness-rows: training rows they use (0: all)
  uint64_t seed = 0;           // the run seed, from which measures derive their streams
  // If not empty, only the registered measures of these names run (`initscope measure
  // --measures`); empty: every one, as in a training run.
  std::vector<std::string> only;
};

struct Measure {
  std::string name;
  unsigned when = 0;   // MeasureTime bits
  unsigned needs = 0;  // MeasureNeed bits
  /// Adds its values to `out` (metric names: the README's measures table).
  std::function<void(const MeasureInput&, Metrics& out)> fn;
};

/// Every registered measure, in the order they run.
const std::vector<Measure>& measures();

/// Runs every registered measure that runs `in.when` (and is in `in.only`, if given) into
/// `out`. Throws Error if a measure needs data or a gradient that `in` does not provide.
void run_measures(const MeasureInput& in, Metrics& out);

/// The p-quantile of sorted values by linear interpolation (NaN for none).
double quantile_sorted(const std::vector<double>& sorted, double p);

}  // namespace initscope
