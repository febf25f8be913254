// The full configuration of one training run, with every default written down once.
// The CLI fills it from flags, a sweep from TOML; both go through config_from_json so that the
// same names, ranges and error messages apply everywhere. The resolved config is stored with
// every run as JSON, and its hash identifies the run for resuming sweeps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace initscope {

/// One stopping criterion, parsed from --stop:
///   loss<=X            mean training loss ≤ X
///   loss<=F*initial    mean training loss ≤ F × the loss at initialization
///   margin:γ:q         a fraction ≥ q of training points has margin ≥ γ (Figure 1: margin:10:0.99)
///   train_error<=X     training error ≤ X
struct StopCriterion {
  enum class Kind { loss, loss_relative, margin, train_error };
  Kind kind = Kind::loss;
  double value = 0.0;     // X, F or γ
  double quantile = 0.0;  // q, margin only
  std::string text;       // as given, used as stopped_by
};
StopCriterion parse_stop(const std::string& text);  // throws Error naming --stop

struct TrainConfig {
  // data
  std::string dataset = "mnist";
  int64_t m = 0;                  // training-set size; 0 = the whole training set
  std::string subset = "random";  // random | stratified | first
  std::vector<int> classes;       // empty = all; two classes = binary task with one output
  double noise = 0.0;             // fraction of training labels replaced by random labels
  bool standardize = false;       // per-feature standardization instead of pixels in [0, 1]
  // model
  int depth = 5;  // weight layers d: 4 hidden layers as in the paper
  int64_t width = 256;
  std::string activation = "relu";
  std::string init = "xavier_normal";
  double init_gain = 1.0;
  std::string init_from;  // .safetensors file to start from instead of a random init
  // optimization
  std::string loss = "ce";
  double lr = 0.01;
  double momentum = 0.9;
  int64_t batch = 64;
  bool shuffle = true;
  std::vector<std::string> stop;  // criteria; the run stops when any is met
  int64_t max_epochs = 1000;      // cap; generous so that slow runs still reach their criterion
  int64_t max_steps = -1;         // cap; -1 = none, 0 = measure the initialization only
  int64_t measure_every = 0;      // epochs between trajectory measurements; 0 = only at the end
  uint64_t seed = 1;
  // execution (not part of the config hash: they do not change the result's meaning)
  int threads = 1;  // threads for this run: our kernels' and OpenBLAS's
  // How much of the training set the stopping check evaluates after each epoch:
  //  early: only until the decision is known (StopCheck), the likeliest failures first; the run
  //         stops at the same epoch with the same weights, and the trajectory has the exact
  //         train_loss/train_error only where the whole set was evaluated (epoch 0, measurement
  //         epochs, the last), plus every epoch's running epoch_loss/epoch_error;
  //  full:  all of it every epoch, with train_loss/train_error in the trajectory every epoch.
  std::string train_eval = "early";
};

/// Every field, defaults included.
nlohmann::json to_json(const TrainConfig& c);

/// Reads the keys present in `j` over the defaults. Unknown keys, wrong types and out-of-range
/// values throw Error; `where` prefixes the message ("sweep.toml line 4", or "" for CLI flags,
/// where messages name the flag).
TrainConfig config_from_json(const nlohmann::json& j, const std::string& where = "");

/// Range checks of every field; throws Error naming the flag.
void validate(const TrainConfig& c);

/// 16 hex digits identifying the config's result-relevant fields (threads excluded).
std::string config_hash(const TrainConfig& c);

}  // namespace initscope
