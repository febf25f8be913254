// The full configuration of one training run, and the one table that declares its options.
// Each option is declared once (config.cpp, run_options()): its name, kind, default, range
// check, help and README text, whether it changes the result, and how the report treats it.
// From that table come the config's JSON, its parsing from JSON and TOML, validation, the CLI
// flags and their help, the README's option table, and the run's identity (config_hash).
// Deliberately left out: what a run does with its config (train/, run/), and the CLI plumbing
// (apps/ binds the flags this table describes).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.hpp"
#include "model/encoding.hpp"
#include "model/mlp.hpp"
#include "objective/loss.hpp"
#include "optim/optimizer.hpp"

namespace initscope {

/// One stopping criterion, parsed from --stop:
///   loss<=X            mean training loss ≤ X
///   loss<=F*initial    mean training loss ≤ F × the loss at initialization
///   margin:γ:q         a fraction ≥ q of training points has margin ≥ γ (Figure 1: margin:10:0.99)
///   train_error<=X     training error ≤ X
///   mse<=X             regression: training mean squared error ≤ X
///   psnr>=X            image regression: training PSNR ≥ X dB (the MSE bound it implies)
///   plateau:N          classification: the training loss has sat at chance level (the loss of
///                      the best constant output, ln K for balanced cross-entropy) for N epochs
///                      in a row; the run ends as `stopped_by plateau`, not converged (a
///                      collapsed run, not a result). Never part of the StopCheck.
struct StopCriterion {
  enum class Kind { loss, loss_relative, margin, train_error, mse, psnr, plateau };
  Kind kind = Kind::loss;
  double value = 0.0;     // X, F or γ
  double quantile = 0.0;  // q, margin only
  double range = 0.0;     // psnr: the targets' peak-to-peak range (set by the trainer)
  std::string text;       // as given, used as stopped_by
  /// Whether it bounds the mean loss (loss, loss_relative, mse, psnr); the others count examples.
  bool on_loss() const {
    return kind != Kind::margin && kind != Kind::train_error && kind != Kind::plateau;
  }
  /// The mean training loss that meets an on_loss() criterion.
  double loss_bound(double initial_loss) const;
};
StopCriterion parse_stop(const std::string& text);  // throws Error naming --stop

/// How much of the training set the stopping check evaluates after each epoch:
///  early: only until the decision is known (StopCheck), the likeliest failures first; the run
///         stops at the same epoch with the same weights, and the trajectory has the exact
///         train_loss/train_error only where the whole set was evaluated (epoch 0, measurement
///         epochs, the last), plus every epoch's running epoch_loss/epoch_error;
///  full:  all of it every epoch, with train_loss/train_error in the trajectory every epoch.
enum class TrainEval { early, full };
TrainEval parse_train_eval(const std::string& name);  // throws Error naming --train-eval
std::string to_string(TrainEval e);
SubsetMode parse_subset(const std::string& name);  // throws Error naming --subset
std::string to_string(SubsetMode s);
LabelMode parse_labels(const std::string& name);  // throws Error naming --labels
std::string to_string(LabelMode l);

/// What a run trains on before its task, when its initialization is itself trained
/// (RM23's "bad initialization" made concrete):
///  random_labels: the task's inputs, every label replaced by a uniformly random class;
///  noise_targets: the task's inputs (regression), targets replaced by white Gaussian noise of
///                 the targets' own standard deviation;
///  noise_inputs:  inputs replaced by Gaussian noise of the data's mean and standard deviation
///                 (classification, with random labels) or by uniform points of [−1, 1]^d
///                 (regression, with noise targets).
enum class Pretrain { none, random_labels, noise_targets, noise_inputs };
Pretrain parse_pretrain(const std::string& name);  // throws Error naming --pretrain
std::string to_string(Pretrain p);                 // "none", "random-labels", ...

/// Whether a dataset name is a regression task (signal1d, image:NAME) rather than classes.
bool is_regression_task(const std::string& dataset);

/// The defaults here are the schema's: changing one changes what an absent key means, so it
/// needs a k_config_schema bump (the golden test of the defaults says so when it fails).
struct TrainConfig {
  // data
  std::string dataset = "mnist";
  int64_t m = 0;                           // training-set size; 0 = the whole training set
  SubsetMode subset = SubsetMode::random;  // how the m examples are chosen
  std::vector<int> classes;                // empty = all; two = binary task with one output
  double noise = 0.0;                      // fraction of training labels replaced at random
  LabelMode labels = LabelMode::given;     // random_pm1: random ±1 labels, binary task
  bool standardize = false;                // per-feature standardization instead of [0, 1]
  // regression tasks: signal1d (data/dataset.hpp, SignalSpec) and image:NAME (image_task)
  std::vector<double> signal_freqs{1, 2, 3};
  std::vector<double> signal_amps;  // empty = all 1
  bool signal_grid = false;         // training points on a grid instead of uniform random
  int64_t test_grid = 2048;         // signal1d: test points
  double target_noise = 0.0;        // std of Gaussian noise added to training targets
  int64_t image_size = 256;         // image: side after the central square crop
  int64_t train_stride = 2;         // image: train on every stride-th pixel in each axis
  // model
  int depth = 5;  // weight layers d: 4 hidden layers as in the paper
  int64_t width = 256;
  Activation activation = Activation::relu;
  double omega0 = 30.0;         // sine: ω of the first layer, sin(ω·(Wx + b))
  double omega0_hidden = 30.0;  // sine: ω of the later layers; the siren init's ω₀
  double gauss_width = 1.0;     // gaussian: s in exp(−z²/(2s²))
  InitScheme init = InitScheme::xavier_normal;
  double init_gain = 1.0;
  double init_gain_first = 0.0;  // the first layer's gain; 0 = init_gain
  std::string init_from;         // .safetensors file to start from instead of a random init
  EncodingKind encoding = EncodingKind::none;  // input encoding (model/encoding.hpp)
  int64_t fourier_features = 256;              // fourier: rows of B
  double fourier_sigma = 10.0;                 // fourier: std of B
  int pe_levels = 10;                          // positional: L
  // optimization
  Loss loss = Loss::ce;
  Optimizer optimizer = Optimizer::sgd;
  double lr = 0.01;
  double momentum = 0.9;                          // sgd's and gd's μ
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam's, PyTorch's defaults
  int64_t batch = 64;
  bool shuffle = true;
  std::vector<std::string> stop;  // criteria; the run stops when any is met
  int64_t max_epochs = 1000;      // cap; generous so that slow runs still reach their criterion
  int64_t max_steps = -1;         // cap; -1 = none, 0 = measure the initialization only
  int64_t measure_every = 0;      // epochs between trajectory measurements; 0 = only at the end
  std::string flatness;           // flatness measures at the end (measure/flatness.hpp); "" = none
  int64_t flatness_rows = 4096;   // training rows they use (a seeded subset; 0 = all)
  Pretrain pretrain = Pretrain::none;      // train on corrupted data first (Pretrain)
  std::vector<std::string> pretrain_stop;  // the pretraining phase's criteria (as `stop`)
  // optional measures (their values change no training)
  double rademacher_radius = 0.0;   // Theorem 5.1's estimate at the end (linear nets); 0 = off
  int64_t rademacher_draws = 20;    // its ξ draws
  int64_t line_segments = 0;        // RM23 E3: Fourier line spectra of a classifier; 0 = off
  int64_t line_points = 256;        // samples per segment
  double line_cutoff = 0.0;         // their high-frequency cut-off, cycles per unit; 0 = none
  std::string line_mode = "pairs";  // segments between test pairs, or along random directions
  bool mechanism = false;           // RM23 E4: ‖G(ξ, θ)‖ and the rate bound (signal1d)
  uint64_t seed = 1;
  // execution (not part of the run's identity: they do not change its result)
  int threads = 1;  // threads for this run: our kernels' and OpenBLAS's
  TrainEval train_eval = TrainEval::early;
};

/// True if the run is a binary task with one output and labels ±1: two --classes, or
/// --labels random-pm1.
bool is_binary_task(const TrainConfig& c);

/// The version of what a config's identity means. Bump it when a default changes or an
/// option's meaning does; Db rows hashed under an older schema are re-hashed on open
/// (run/results.hpp).
inline constexpr int k_config_schema = 2;

/// How an option enters the run's identity and the report's grouping.
enum class OptionRole {
  result,     // changes the result: in config_hash, and the report's experiments differ by it
  axis,       // changes the result but varies within one experiment (seed, sizes, caps)
  execution,  // changes only how the run executes (threads): in neither
};

/// How an option is written on the command line and in TOML.
enum class OptionKind {
  integer,    // --depth 5
  real,       // --lr 0.1
  flag,       // --standardize (a boolean that is off by default)
  on_off,     // --shuffle on|off (a boolean that is on by default)
  text,       // --init-from FILE
  choice,     // --loss ce (one of `choices`)
  int_list,   // --classes 0,1 (TOML: an array of integers)
  real_list,  // --signal-freqs 1,2.5 (TOML: an array of numbers)
  text_list,  // --stop X --stop Y (repeatable; TOML: a string or an array of strings)
};

/// One run option. The accessors convert between the typed field of TrainConfig and its JSON
/// value; `set` checks the value (type and range) and throws Error naming the flag.
struct OptionSpec {
  std::string name;  // JSON/TOML key; the flag is "--" + name with '_' → '-'
  OptionKind kind = OptionKind::integer;
  OptionRole role = OptionRole::result;
  std::string help;                  // one line, for --help
  std::string doc;                   // the README's "meaning" cell (Markdown)
  std::vector<std::string> choices;  // kind choice: the accepted names
  // The report's keys (report/aggregate.hpp): whether the option fixes the distribution of the
  // initialization at a given width (init_key), and whether a key lists it even at its default.
  // Only the options of config schema 2 are listed at their default, so that the keys of runs
  // stored then keep their spelling; an option added later appears in a key only when set away
  // from its default, so adding one never moves a key (nor the bootstrap seeds drawn from it).
  bool init_distribution = false;
  bool keyed_at_default = false;
  std::function<nlohmann::json(const TrainConfig&)> get;
  std::function<void(TrainConfig&, const nlohmann::json&)> set;
  std::string flag() const;  // "--init-gain"
};

/// Every run option, in the order of the README table and of --help.
const std::vector<OptionSpec>& run_options();
/// The option named `name` (JSON key), or nullptr.
const OptionSpec* find_option(const std::string& name);

/// Every option, defaults included.
nlohmann::json to_json(const TrainConfig& c);

/// Reads the keys present in `j` over the defaults. Unknown keys, wrong types and out-of-range
/// values throw Error; `where` prefixes the message ("sweep.toml line 4", or "" for CLI flags,
/// where messages name the flag).
TrainConfig config_from_json(const nlohmann::json& j, const std::string& where = "");

/// What config_from_json does after setting each key (OptionSpec::set), for a config built one
/// option at a time (a sweep's expansion): applies what an absent key means (a regression
/// task's loss is mse unless `loss_given`) and checks the options against each other. Throws
/// Error naming the flag.
void finish_config(TrainConfig& c, bool loss_given);

/// An option's value from command-line text (by its kind: "0,1" for a list of classes, a
/// number, a name), as JSON for config_from_json. Throws Error naming the flag.
nlohmann::json option_value_from_text(const OptionSpec& spec, const std::string& text);

/// Range checks of every option and the checks between options; throws Error naming the flag.
void validate(const TrainConfig& c);

/// The run's identity: the schema version and every result-changing option (roles result and
/// axis) whose value differs from its default. Adding an option with a default leaves every
/// existing identity unchanged.
/// `options` is the table to take them from (tests pass a table with an option added).
nlohmann::json identity_json(const TrainConfig& c,
                             const std::vector<OptionSpec>& options = run_options());

/// 16 hex digits: FNV-1a of identity_json's canonical text (keys sorted).
std::string config_hash(const TrainConfig& c,
                        const std::vector<OptionSpec>& options = run_options());

/// The hash a stored config (a run's JSON, possibly written before some options existed) has
/// under today's schema; "" if it no longer parses.
std::string config_hash_of_stored(const nlohmann::json& stored);

/// A stored config with every option present (missing keys take their defaults), so that runs
/// stored before an option existed compare equal to runs stored after. A config that no longer
/// parses is returned unchanged.
nlohmann::json normalized_config(const nlohmann::json& stored);

/// The options of `stored` (normalized) a report key holds: those `pick` accepts, each if it is
/// keyed at its default or differs from it.
nlohmann::json key_of_options(const nlohmann::json& stored,
                              const std::function<bool(const OptionSpec&)>& pick);

/// The README's option table (Markdown), generated from run_options().
std::string options_markdown();

}  // namespace initscope
