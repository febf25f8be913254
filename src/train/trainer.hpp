// One training run: data preparation, steps of the chosen optimizer (optim/: sgd, adam or
// full-batch gd) until a stopping criterion or a cap, and the registered measures
// (measure/registry.hpp) at initialization, every N epochs and at the end. The trainer owns the
// seed: init, data order, subset and label noise each get their own stream derived from the run
// seed. Deliberately left out: storage and printing. The caller gets a RunOutcome and a progress
// callback, and decides where they go (database, terminal, JSON).
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "common/rng.hpp"
#include "data/dataset.hpp"
#include "measure/registry.hpp"
#include "model/encoding.hpp"
#include "model/mlp.hpp"
#include "model/network.hpp"
#include "objective/loss.hpp"
#include "optim/gd.hpp"
#include "optim/optimizer.hpp"
#include "train/config.hpp"
#include "train/stop_check.hpp"

namespace initscope {

/// The run's training and test sets after class selection, subsetting, label noise, scaling
/// and the input encoding (whose width their dim then is), with the number of network outputs
/// (1 for a two-class task).
struct PreparedData {
  Dataset train, test;
  Encoding encoding;  // applied to train and test already; part of the model (saved with it)
  int64_t outputs = 10;
  std::vector<int64_t> corrupted;  // training rows whose label was replaced, ascending
};

/// Applies the config's data transforms to a loaded dataset. Throws Error for an m larger than
/// the (class-selected) training set and the like.
PreparedData prepare_data(const TrainConfig& c, TrainTest raw);

/// The data of a run's pretraining phase (config.pretrain, not none): the prepared task data
/// with its labels, targets or inputs corrupted from the seed's `pretrain` stream (Pretrain in
/// train/config.hpp says how). The test set is the task's, so that the phase's test metrics say
/// how the pretrained network does on the task.
PreparedData pretrain_data(const TrainConfig& c, const PreparedData& task);

/// The index of the first value that is NaN or infinite, or −1 if all are finite.
int64_t first_nonfinite(std::span<const float> v);

/// The network a run trains: the config's depth, width and activation on the data's shape.
MlpSpec model_spec(const TrainConfig& c, const PreparedData& data);

/// What the trainer tells its caller after each epoch's check (never during the steps).
struct Progress {
  int64_t epoch = 0, step = 0;
  int64_t max_epochs = 0, max_steps = -1;  // the caps (TrainConfig's)
  // The training set's loss and error, or this epoch's running means if the check stopped early
  // (StopCheck); then `criterion` is only a bound, and `bound` says which way: '>' or '<'.
  double loss = 0.0, error = 0.0;
  double criterion = 0.0;  // the first criterion's current value (loss, error or fraction)
  char bound = 0;
  bool regression = false;  // no error to show
  std::string criterion_name;
  /// The first criterion (what `criterion` measures and where it stops), or nullptr if none.
  const StopCriterion* stop = nullptr;
  double initial_loss = NAN;  // for loss<=F*initial's bound
  /// The loss of the best constant output (chance_loss; 0 for regression), and the epochs in a
  /// row the loss has sat within k_chance_tolerance of it (a collapsed run if many).
  double chance_loss = 0.0;
  int64_t chance_epochs = 0;
  double steps_per_second = 0.0, elapsed = 0.0;
};
/// How close to chance_loss (relative) a loss counts as "at chance level" for plateau:N and
/// the collapse warning. A collapsed network is a constant output that SGD keeps nudging: at
/// lr 0.7 on MNIST its epoch loss wandered 2.316–2.333 against ln 10 = 2.303, outside 1%.
inline constexpr double k_chance_tolerance = 0.02;
/// Epochs at chance level in a row after which `train` warns that the run has collapsed.
inline constexpr int64_t k_collapse_warn_epochs = 20;
using ProgressFn = std::function<void(const Progress&)>;

/// How a command shows progress on stderr: `bar`, one line redrawn in place (a terminal);
/// `lines`, a plain line every so many seconds (logs: nohup, Slurm, a pipe); `none`. `auto`
/// (the flag's default) is bar on a terminal and lines otherwise.
enum class ProgressMode { bar, lines, none };
/// Parses --progress (auto, bar, lines, none); auto resolves by whether stderr is a terminal.
/// Throws Error naming --progress.
ProgressMode parse_progress_mode(const std::string& text, bool stderr_is_terminal);

/// The warning for a run whose loss has sat at chance level for k_collapse_warn_epochs epochs
/// (told once, at that epoch), or "" at any other epoch.
std::string collapse_warning(const Progress& p);

enum class RunStatus { completed, diverged, interrupted };
/// "completed", "diverged", "interrupted": the database's words.
std::string to_string(RunStatus s);

struct RunOutcome {
  RunStatus status = RunStatus::completed;
  std::string stopped_by;  // the criterion's text, or max_epochs / max_steps / diverged
  bool converged = false;  // a criterion, not a cap, ended the run
  std::string error;       // what went wrong for a diverged run
  Metrics metrics;
  std::vector<TrajectoryPoint> trajectory;
  MeasureArrays arrays;  // the measures' arrays (spectra), stored as artifacts
};

/// How the trainer computes a step and an evaluation.
///  fused:     the optimized engine, no allocation in any step. sgd: panel forward kernels,
///             backward fused with the update (no gradient buffer); adam: the same forward, the
///             plain backward (mlp_backward, OpenBLAS) into one gradient buffer, then
///             adam_update; gd: loss_gradient over the whole training set in chunks, then
///             sgd_update.
///  reference: the naive twins (mlp_forward_ref, mlp_backward_ref, sgd_update_ref,
///             adam_update_ref; gd over all rows at once) for the whole step and every
///             evaluation; slow, allocates, and is what tests compare against.
enum class Engine { fused, reference };

class Trainer {
 public:
  /// Builds the network and initializes it: randomly from the run seed, or, if config.init_from
  /// is set, to `start` (num_params floats, which the caller read from that file: run/ does).
  /// After pretraining (run_pretrained) `start` is the pretrained weights and `origin` the
  /// random initialization they came from: measures then take distances from both (dist_init
  /// from origin, dist_pretrain from start).
  Trainer(const TrainConfig& config, const PreparedData& data, Engine engine = Engine::fused,
          std::span<const float> start = {}, std::span<const float> origin = {});
  /// Trains until a criterion or cap; then measures. Call once. If `stop` is given and becomes
  /// nonzero (a signal number: common/interrupt.hpp), the run ends after the current step as
  /// `interrupted`: stopped_by names the signal, the trajectory holds the complete epochs, and
  /// the metrics only the counts and timings (`epochs` counts complete epochs).
  RunOutcome run(const ProgressFn& progress = {}, const std::atomic<int>* stop = nullptr);
  /// Measures the weights it holds without training (`initscope measure`): the k_at_init
  /// measures on the initialization, then the k_at_end ones on the weights, into the outcome's
  /// metrics (status completed, stopped_by "measured", no trajectory). `init` (num_params, or
  /// empty: the weights themselves) replaces the initialization the measures compare against;
  /// `only` selects registered measures by name (empty: all). Call once, instead of run().
  RunOutcome measure_only(std::span<const float> init, const std::vector<std::string>& only);

  /// One SGD step on these rows of the training set (at most config.batch of them): gather,
  /// forward, loss, backward and update. Returns the batch's mean loss. run() is a loop of
  /// these for --optimizer sgd; benchmarks call it directly.
  double sgd_step(std::span<const int64_t> rows);
  /// One Adam step on these rows (at most config.batch): forward, loss, the batch mean's
  /// gradient into one flat buffer, adam_update. Returns the batch's mean loss. Needs
  /// config.optimizer == adam (its moments exist only then).
  double adam_step(std::span<const int64_t> rows);
  /// One full-batch gd step: the gradient of the mean loss over the whole training set, then
  /// SGD's update with config.momentum. Returns the mean loss before the step. Needs
  /// config.optimizer == gd.
  double gd_step();
  /// sgd_step or adam_step, by config.optimizer (gd has none: refused).
  double minibatch_step(std::span<const int64_t> rows);

  const Mlp& net() const { return net_; }
  Engine engine() const { return engine_; }
  std::span<const float> params() const { return params_; }
  std::span<const float> initial_params() const { return init_; }
  /// The weights training started from when they were pretrained (else empty).
  std::span<const float> pretrained_params() const { return pretrained_; }
  /// Loss, error and (optionally) margins of `d` at the current parameters.
  Evaluation evaluate(const Dataset& d, bool margins);

 private:
  // The state of run() between its steps.
  struct RunState {
    RunOutcome out;
    bool diverged = false;
    int64_t step = 0, epoch = 0, checks = 0;
    double initial_loss = NAN;
    double t_train = 0.0, t_eval = 0.0, t_measure = 0.0;
    std::chrono::steady_clock::time_point t_start;
    Metrics init_metrics;       // the k_at_init measures
    int signal = 0;             // the signal that stopped the run, or 0
    int64_t chance_epochs = 0;  // epochs in a row whose loss sat at chance level (plateau:N)
  };
  // run(), step by step.
  void measure_at_init(RunState& s);
  bool train_epoch(RunState& s);  // one epoch of steps (gd: one step); true if max_steps cut it
  const StopCriterion* end_of_epoch(RunState& s, const ProgressFn& progress);
  void learn_risk_order(double initial_loss);  // after the first complete check
  void record_check(RunState& s, bool complete, double epoch_loss, double epoch_error,
                    const StopCriterion*& met);
  void measure_during(RunState& s);
  void report_progress(const RunState& s, bool complete, double epoch_loss, double epoch_error,
                       const ProgressFn& progress) const;
  void measure_at_end(RunState& s);
  void record_counts(RunState& s);
  bool stop_requested(RunState& s) const;  // notes a pending stop signal in s.signal
  MeasureInput measure_input(MeasureTime when, const RunState& s);
  AdamHyper adam_hyper() const { return {config_.beta1, config_.beta2, config_.eps}; }

  // What one example's outputs f score against its label, or its targets for regression (no
  // margin, NaN, and never "wrong": a regression task has no classes).
  struct Judged {
    double loss, margin;
    bool wrong;
  };
  Judged judge(const Dataset& d, int64_t row, const float* f) const;
  /// The batch's labels into yb_, and for regression its targets into tb_.
  void gather_supervision(std::span<const int64_t> rows);
  /// Sum of the gathered batch's losses; dlogits (B, K) = scale · ∂loss/∂logits, each example's
  /// loss into step_losses_.
  double batch_loss_backward(float* dlogits, const float* logits, int64_t B, float scale);

  /// The stopping check after an epoch: evaluates the training set into check_ in the order of
  /// risk from this epoch's training pass, until the decision is known, or everything if `full`.
  /// Returns false if an example's loss is not finite.
  bool run_check(bool full, double initial_loss);
  const float* forward_rows(const float* const* rows, int64_t B);  // logits (B, K), eval_ws_
  void note_batch(std::span<const int64_t> rows, const float* logits);
  void note_rows(std::span<const int64_t> rows, const float* logits);  // gd: losses computed here

  TrainConfig config_;
  const PreparedData& data_;
  const std::atomic<int>* stop_ = nullptr;  // run()'s stop signal, checked after every step
  Engine engine_;
  Mlp net_;
  Loss loss_;
  std::vector<StopCriterion> criteria_;   // the StopCheck's: every criterion but plateau:N
  std::optional<StopCriterion> plateau_;  // plateau:N, checked by end_of_epoch
  double chance_loss_ = 0.0;              // chance_loss of the training labels; 0: regression
  // One flat buffer each (STYLE.md practice 3); layers are offsets into them. sgd has no
  // gradient buffer: the fused engine applies each layer's gradient as it computes it. The
  // optimizers' state exists only for the chosen one: momentum_ for sgd and gd, adam_'s moments
  // and grad_ for adam, gd_'s gradient workspace for gd.
  std::vector<float> params_, init_, momentum_;
  std::vector<float> pretrained_;  // (num_params) after pretraining: where training started
  std::vector<float> grad_;        // (num_params) adam: the batch mean's gradient
  AdamState adam_;
  GdState gd_;
  Workspace train_ws_, eval_ws_;
  std::vector<const float*> xrows_;  // the batch's rows, by pointer into the training set (B)
  std::vector<float> xb_;            // the batch gathered (B, dim): reference engine and adam
  std::vector<float> dlogits_;       // the logits' gradient (B, K)
  std::vector<int32_t> yb_;
  std::vector<float> tb_;  // (B, K) the batch's targets (regression only)
  std::vector<int64_t> order_;
  Rng order_rng_{0};               // the data order's stream, seeded by run()
  std::vector<float> ref_logits_;  // reference engine: forward_rows's logits (B, K)
  // What the training pass saw of each example this epoch, for the check's order and the
  // epoch's running loss and error; written by sgd_step, O(B·K) per step.
  std::vector<double> step_losses_;  // (B)
  std::vector<float> risk_;      // (n) per training row: its margin, or −loss for loss criteria
  bool risk_is_loss_ = false;    // the first criterion is on the loss
  float risk_threshold_ = 0.0f;  // risk below it: predicted to fail the first criterion
  double epoch_loss_sum_ = 0.0;
  int64_t epoch_wrong_ = 0;
  StopCheck check_;
  std::vector<int64_t> check_order_;     // (n)
  std::vector<const float*> eval_rows_;  // (k_eval_chunk) rows of one evaluation forward pass
  int64_t check_rows_seen_ = 0;          // examples evaluated by all checks, for the run's metrics
};

/// A run with pretraining (config.pretrain not none). Phase 1 trains the random initialization
/// on pretrain_data until config.pretrain_stop or the caps; phase 2 trains the task from the
/// weights it reached, with dist_init measured from the random initialization and
/// dist_pretrain from the pretrained weights. The outcome is phase 2's with phase 1 folded in:
/// phase 1's trajectory first, its names prefixed "pretrain_" (phase 2's steps and epochs
/// continue from phase 1's), and the metrics pretrain_steps, pretrain_epochs,
/// pretrain_converged, pretrain_train_loss, pretrain_seconds; wall_seconds covers both. A
/// pretraining that diverges ends the run there, as diverged.
struct PretrainedRun {
  RunOutcome out;
  std::vector<float> init, pretrained, final_params;  // (num_params) each
  Mlp net;
};
/// `stop` as for Trainer::run: a signal during either phase ends the run there, interrupted.
PretrainedRun run_pretrained(const TrainConfig& config, const PreparedData& task,
                             const ProgressFn& progress = {},
                             const std::atomic<int>* stop = nullptr);

}  // namespace initscope
