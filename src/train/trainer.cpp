// The training loop. Reads top to bottom: gather a batch, forward, loss, backward fused with
// the update (sgd), or the plain backward and Adam's update (adam), or one full-batch step
// through the gradient path (gd). Every buffer a step touches is allocated in the constructor;
// the steps of the fused engine allocate nothing (the reference engine's naive twins do, by
// design).
#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <numbers>
#include <numeric>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/rng.hpp"
#include "measure/spectrum.hpp"

namespace initscope {

namespace {

// bench/fixed_cost.py's marks: with INITSCOPE_BENCH_MARKS=FILE, a run appends "first_step T" when
// it is ready for its first step and "last_step T" after its last, T in seconds of
// CLOCK_MONOTONIC (Python's time.monotonic), so that a run's fixed cost splits into start-up and
// wind-down as the PyTorch reference's does. Outside the steps; off unless the variable is set.
void bench_mark(const char* name) {
  static const char* const file = std::getenv("INITSCOPE_BENCH_MARKS");
  if (file == nullptr || *file == '\0') return;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  if (std::FILE* f = std::fopen(file, "a")) {
    std::fprintf(f, "%s %.9f\n", name,
                 static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec));
    std::fclose(f);
  }
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr int64_t k_eval_chunk = 1024;  // rows per forward pass when evaluating a whole set
// Rows per forward pass of the stopping check, in multiples of one training batch (which the
// panel kernels run at full speed): as many as could decide the check (StopCheck::
// fewest_to_decide), or for loss criteria 64 first and then twice the last, up to k_eval_chunk.
constexpr int64_t k_check_min_chunk = 64;

}  // namespace

PreparedData pretrain_data(const TrainConfig& c, const PreparedData& task) {
  PreparedData p = task;
  p.corrupted.clear();
  Dataset& d = p.train;
  Rng rng(derive_seed(c.seed, "pretrain"));
  // Noise of the data's own scale: one mean and standard deviation over all values.
  const auto moments = [](std::span<const float> v) {
    double sum = 0.0, sq = 0.0;
    for (const float x : v) sum += x;
    const double mean = v.empty() ? 0.0 : sum / static_cast<double>(v.size());
    for (const float x : v) sq += (x - mean) * (x - mean);
    return std::pair{mean, v.empty() ? 0.0 : std::sqrt(sq / static_cast<double>(v.size()))};
  };
  const auto noise_targets = [&] {
    const auto [mean, sd] = moments(d.targets);
    for (auto& t : d.targets) t = static_cast<float>(mean + sd * rng.normal());
  };
  const auto random_labels = [&] {
    const auto classes = static_cast<uint64_t>(p.outputs == 1 ? 2 : d.num_classes);
    for (auto& y : d.y) y = static_cast<int32_t>(rng.below(classes));
  };
  switch (c.pretrain) {
    case Pretrain::none:
      IS_CHECK(false, "pretrain_data without --pretrain");
      break;
    case Pretrain::random_labels:
      random_labels();
      break;
    case Pretrain::noise_targets:
      noise_targets();
      break;
    case Pretrain::noise_inputs: {
      if (d.regression()) {
        // Uniform coordinates in [−1, 1]^d, the task's domain, then the model's encoding.
        const int64_t raw_dim =
            p.encoding.kind == EncodingKind::none ? d.dim : p.encoding.input_dim;
        std::vector<float> raw(static_cast<size_t>(d.n * raw_dim));
        for (auto& x : raw) x = static_cast<float>(-1.0 + 2.0 * rng.uniform());
        d.x = p.encoding.kind == EncodingKind::none ? std::move(raw) : encode(p.encoding, raw);
        noise_targets();
      } else {
        const auto [mean, sd] = moments(std::as_const(d.x).span());
        for (auto& x : d.x) x = static_cast<float>(mean + sd * rng.normal());
        random_labels();
      }
      break;
    }
  }
  return p;
}

int64_t first_nonfinite(std::span<const float> v) {
  // Summing is one pass at memory speed and a NaN or inf anywhere makes the sum non-finite;
  // only then is the culprit looked for. (Finite values can overflow the float sum, so the sum
  // is in double: |Σ| ≤ n·FLT_MAX stays finite.)
  double sum = 0.0;
  for (const float x : v) sum += static_cast<double>(x);
  if (std::isfinite(sum)) return -1;
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) return static_cast<int64_t>(i);
  return -1;
}

PreparedData prepare_data(const TrainConfig& c, TrainTest raw) {
  PreparedData p;
  if (!c.classes.empty()) {
    raw.train = select_classes(raw.train, c.classes);
    raw.test = select_classes(raw.test, c.classes);
  }
  p.outputs = raw.train.regression() ? raw.train.target_dim
              : is_binary_task(c)    ? 1
                                     : raw.train.num_classes;
  if (c.m > 0 && c.m != raw.train.n) {  // choose_subset throws for m > n
    const auto rows = choose_subset(raw.train, c.m, c.subset, derive_seed(c.seed, "subset"));
    raw.train = take_rows(raw.train, rows);
  }
  if (c.labels == LabelMode::random_pm1) {  // after the subset: one draw per training example
    assign_random_binary_labels(raw.train, derive_seed(c.seed, "random-labels"));
    assign_random_binary_labels(raw.test, derive_seed(c.seed, "random-labels-test"));
  }
  if (c.noise > 0.0)
    p.corrupted = apply_label_noise(raw.train, c.noise, derive_seed(c.seed, "noise"));
  if (c.standardize) standardize(raw.train, raw.test);
  // The input encoding, once, so that every pass over the data sees the encoded inputs.
  const EncodingSpec enc{.kind = c.encoding,
                         .features = c.fourier_features,
                         .sigma = c.fourier_sigma,
                         .levels = c.pe_levels};
  p.encoding = make_encoding(enc, raw.train.dim, derive_seed(c.seed, "fourier"));
  if (p.encoding.kind != EncodingKind::none)
    for (Dataset* d : {&raw.train, &raw.test}) {
      d->x = encode(p.encoding, std::as_const(d->x).span());
      d->dim = p.encoding.output_dim();
    }
  p.train = std::move(raw.train);
  p.test = std::move(raw.test);
  return p;
}

MlpSpec model_spec(const TrainConfig& c, const PreparedData& data) {
  MlpSpec spec;
  spec.input_dim = data.train.dim;
  spec.width = c.width;
  spec.depth = c.depth;
  spec.outputs = data.outputs;
  spec.activation = c.activation;
  spec.omega0 = c.omega0;
  spec.omega0_hidden = c.omega0_hidden;
  spec.gauss_width = c.gauss_width;
  return spec;
}

std::string to_string(RunStatus s) {
  switch (s) {
    case RunStatus::completed:
      return "completed";
    case RunStatus::diverged:
      return "diverged";
    case RunStatus::interrupted:
      return "interrupted";
  }
  return "?";
}

ProgressMode parse_progress_mode(const std::string& text, bool stderr_is_terminal) {
  if (text == "auto") return stderr_is_terminal ? ProgressMode::bar : ProgressMode::lines;
  if (text == "bar") return ProgressMode::bar;
  if (text == "lines") return ProgressMode::lines;
  if (text == "none") return ProgressMode::none;
  throw Error(fmt::format("--progress {}: unknown mode (expected auto, bar, lines or none)", text));
}

std::string collapse_warning(const Progress& p) {
  if (p.chance_epochs != k_collapse_warn_epochs) return "";
  return fmt::format(
      "the training loss has sat at chance level ({:.4g}, what a constant output scores) for {} "
      "epochs in a row at epoch {}: the run has probably collapsed (--stop plateau:N ends such "
      "runs as stopped_by plateau)",
      p.chance_loss, p.chance_epochs, p.epoch);
}

Trainer::Trainer(const TrainConfig& config, const PreparedData& data, Engine engine,
                 std::span<const float> start, std::span<const float> origin)
    : config_(config), data_(data), engine_(engine), loss_(config.loss) {
  const MlpSpec spec = model_spec(config, data);
  net_ = Mlp::make(spec);
  for (const auto& s : config.stop) {
    StopCriterion c = parse_stop(s);
    c.range = data.train.psnr_range;
    if (c.kind == StopCriterion::Kind::plateau) {
      if (!plateau_ || c.value < plateau_->value) plateau_ = c;  // the shortest patience wins
    } else {
      criteria_.push_back(c);
    }
  }
  if (!data.train.regression() && data.train.n > 0) {
    const int64_t K = spec.outputs, classes = std::max<int64_t>(K, 2);
    std::vector<double> freq(static_cast<size_t>(classes), 0.0);
    for (const int32_t y : data.train.y)
      if (y >= 0 && y < classes) freq[static_cast<size_t>(y)] += 1.0;
    for (double& f : freq) f /= static_cast<double>(data.train.n);
    chance_loss_ = chance_loss(config.loss, freq, K);
  }

  params_.assign(net_.num_params, 0.0f);
  if (!origin.empty()) {  // pretrained: start from `start`, measure from both
    IS_CHECK(start.size() == params_.size() && origin.size() == params_.size());
    std::copy(start.begin(), start.end(), params_.begin());
    pretrained_ = params_;
    init_.assign(origin.begin(), origin.end());
  } else {
    if (config.init_from.empty()) {
      init_params(net_, params_, config.init, config.init_gain, derive_seed(config.seed, "init"),
                  config.init_gain_first);
    } else {
      IS_CHECK(start.size() == params_.size());  // run/ reads init_from and checks its shapes
      std::copy(start.begin(), start.end(), params_.begin());
    }
    init_ = params_;
  }
  switch (config.optimizer) {
    case Optimizer::sgd:
      momentum_.assign(net_.num_params, 0.0f);
      break;
    case Optimizer::adam:
      adam_ = AdamState(net_.num_params);
      grad_.assign(net_.num_params, 0.0f);
      break;
    case Optimizer::gd:
      momentum_.assign(net_.num_params, 0.0f);
      if (engine_ == Engine::fused) gd_ = make_gd_state(net_, k_gradient_chunk, config.threads);
      break;
  }

  const int64_t B = std::min<int64_t>(config.batch, std::max<int64_t>(data.train.n, 1));
  train_ws_ = make_workspace(net_, B, /*backward=*/true, config.threads);
  eval_ws_ = make_workspace(net_, k_eval_chunk, /*backward=*/false, config.threads);
  xrows_.assign(static_cast<size_t>(B), nullptr);
  if (engine_ == Engine::reference || config.optimizer == Optimizer::adam)
    xb_.assign(static_cast<size_t>(B * spec.input_dim), 0.0f);
  yb_.assign(static_cast<size_t>(B), 0);
  if (data.train.regression()) tb_.assign(static_cast<size_t>(B * spec.outputs), 0.0f);
  dlogits_.assign(static_cast<size_t>(std::max(B, k_eval_chunk) * spec.outputs), 0.0f);
  order_.resize(static_cast<size_t>(data.train.n));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  step_losses_.assign(static_cast<size_t>(B), 0.0);
  risk_.assign(static_cast<size_t>(data.train.n), 0.0f);
  check_ = StopCheck(criteria_, data.train.n);
  check_order_ = order_;
  eval_rows_.assign(static_cast<size_t>(k_eval_chunk), nullptr);
}

const float* Trainer::forward_rows(const float* const* rows, int64_t B) {
  if (engine_ == Engine::fused) return mlp_forward(net_, params_.data(), rows, B, eval_ws_);
  const int64_t dim = net_.spec.input_dim;
  std::vector<float> x(static_cast<size_t>(B * dim));
  for (int64_t i = 0; i < B; ++i) std::copy_n(rows[i], dim, x.data() + i * dim);
  ref_logits_ = mlp_forward_ref(net_, params_.data(), x.data(), B);
  return ref_logits_.data();
}

Evaluation Trainer::evaluate(const Dataset& d, bool margins) {
  Evaluation ev;
  const int64_t K = net_.spec.outputs;
  double loss_sum = 0.0;
  int64_t wrong = 0;
  if (margins) ev.margins.resize(static_cast<size_t>(d.n));
  for (int64_t start = 0; start < d.n; start += k_eval_chunk) {
    const int64_t B = std::min(k_eval_chunk, d.n - start);
    // The same panel kernels as the step and the stopping check, so that a run stopped by
    // margin:γ:q reports margins computed the way the check saw them.
    for (int64_t i = 0; i < B; ++i) eval_rows_[static_cast<size_t>(i)] = d.row(start + i);
    const float* logits = forward_rows(eval_rows_.data(), B);
    for (int64_t i = 0; i < B; ++i) {
      const Judged e = judge(d, start + i, logits + i * K);
      loss_sum += e.loss;
      wrong += e.wrong ? 1 : 0;
      if (margins) ev.margins[static_cast<size_t>(start + i)] = e.margin;
    }
  }
  ev.loss = d.n ? loss_sum / static_cast<double>(d.n) : 0.0;
  ev.error = d.n ? static_cast<double>(wrong) / static_cast<double>(d.n) : 0.0;
  if (d.regression()) {
    // A regression task has no classes: no error and no margins, but its mean squared error
    // (the loss itself) and, where the range of the signal is known, its PSNR.
    ev.regression = true;
    ev.error = NAN;
    ev.margins.clear();
    ev.mse = ev.loss;
    ev.psnr = d.psnr_range > 0 ? psnr_db(ev.mse, d.psnr_range) : NAN;
  }
  return ev;
}

bool Trainer::run_check(bool full, double initial_loss) {
  const Dataset& train = data_.train;
  check_.begin(initial_loss);
  const int64_t n = train.n, K = net_.spec.outputs;
  // Rows predicted to fail the first criterion (by this epoch's training pass) go first; within
  // them each chunk takes the riskiest rows left. After a full check the order is irrelevant.
  int64_t predicted = 0;
  if (full) {
    std::iota(check_order_.begin(), check_order_.end(), int64_t{0});
  } else {
    const float t = risk_threshold_;
    int64_t back = n;
    for (int64_t r = n - 1; r >= 0; --r)  // predicted failures to the front, the rest behind
      if (!(risk_[static_cast<size_t>(r)] < t)) check_order_[static_cast<size_t>(--back)] = r;
    for (int64_t r = 0; r < n; ++r)
      if (risk_[static_cast<size_t>(r)] < t) check_order_[static_cast<size_t>(predicted++)] = r;
  }
  const auto riskier = [&](int64_t a, int64_t b) {
    return risk_[static_cast<size_t>(a)] < risk_[static_cast<size_t>(b)];
  };
  int64_t chunk = 0;
  for (int64_t start = 0; start < n; start += chunk) {
    if (full) {
      chunk = k_eval_chunk;
    } else {
      const int64_t fewest = check_.fewest_to_decide();
      chunk = fewest > 0 ? (fewest + k_check_min_chunk - 1) / k_check_min_chunk * k_check_min_chunk
              : chunk == 0 ? k_check_min_chunk
                           : 2 * chunk;
      chunk = std::clamp(chunk, k_check_min_chunk, k_eval_chunk);
    }
    const int64_t B = std::min(chunk, n - start);
    auto* order = check_order_.data();
    if (start + B < predicted)
      std::nth_element(order + start, order + start + B, order + predicted, riskier);
    for (int64_t i = 0; i < B; ++i)
      eval_rows_[static_cast<size_t>(i)] = train.row(order[start + i]);
    const float* logits = forward_rows(eval_rows_.data(), B);
    for (int64_t i = 0; i < B; ++i) {
      const int64_t row = order[start + i];
      const Judged e = judge(train, row, logits + i * K);
      if (!std::isfinite(e.loss)) return false;
      check_.add(row, e.loss, e.margin, e.wrong);
    }
    check_rows_seen_ += B;
    if (!full && check_.certainly_unmet()) break;
  }
  return true;
}

Trainer::Judged Trainer::judge(const Dataset& d, int64_t row, const float* f) const {
  const int64_t K = net_.spec.outputs;
  if (d.regression()) return {regression_loss(f, d.target(row), K), NAN, false};
  const int32_t y = d.y[static_cast<size_t>(row)];
  return {example_loss(loss_, f, y, K), example_margin(f, y, K), example_error(f, y, K)};
}

void Trainer::gather_supervision(std::span<const int64_t> rows) {
  const Dataset& train = data_.train;
  const int64_t T = train.target_dim;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t row = rows[i];
    yb_[i] = train.y[static_cast<size_t>(row)];
    if (T > 0) std::copy_n(train.target(row), T, tb_.data() + static_cast<int64_t>(i) * T);
  }
}

double Trainer::batch_loss_backward(float* dlogits, const float* logits, int64_t B, float scale) {
  const int64_t K = net_.spec.outputs;
  if (data_.train.regression())
    return regression_forward_backward(dlogits, logits, tb_.data(), B, K, scale,
                                       step_losses_.data());
  return loss_forward_backward(loss_, dlogits, logits, yb_.data(), B, K, scale,
                               step_losses_.data());
}

// One SGD step: PyTorch's SGD with momentum (dampening 0, no Nesterov, no weight decay),
// v ← μ·v + g; w ← w − lr·v, on the mean loss of the batch.
double Trainer::sgd_step(std::span<const int64_t> rows) {
  IS_CHECK(config_.optimizer == Optimizer::sgd);  // momentum_ exists, Adam's moments do not
  const Dataset& train = data_.train;
  const int64_t B = static_cast<int64_t>(rows.size()), dim = train.dim;
  IS_CHECK(B >= 1 && B <= train_ws_.batch);
  // The batch: row pointers into the training set (the fused engine reads x where it lies;
  // its first layer transposes the rows into a panel anyway) and labels yb (B).
  for (int64_t i = 0; i < B; ++i)
    xrows_[static_cast<size_t>(i)] = train.row(rows[static_cast<size_t>(i)]);
  gather_supervision(rows);
  const float lr = static_cast<float>(config_.lr), mu = static_cast<float>(config_.momentum);
  const float scale = 1.0f / static_cast<float>(B);  // gradient of the batch mean
  double loss = 0.0;
  if (engine_ == Engine::fused) {
    // logits (B, K) = forward(x); dlogits (B, K) = scale · dloss/dlogits; then the backward
    // pass updates every layer's parameters and momentum as it goes, output layer first.
    const float* logits = mlp_forward(net_, params_.data(), xrows_.data(), B, train_ws_);
    loss = batch_loss_backward(dlogits_.data(), logits, B, scale);
    note_batch(rows, logits);
    mlp_backward_sgd(net_, params_.data(), momentum_.data(), xrows_.data(), dlogits_.data(), B,
                     train_ws_, lr, mu);
  } else {
    for (int64_t i = 0; i < B; ++i)
      std::copy_n(xrows_[static_cast<size_t>(i)], dim, xb_.data() + i * dim);
    const auto logits = mlp_forward_ref(net_, params_.data(), xb_.data(), B);
    loss = batch_loss_backward(dlogits_.data(), logits.data(), B, scale);
    note_batch(rows, logits.data());
    const auto grads = mlp_backward_ref(net_, params_.data(), xb_.data(), dlogits_.data(), B);
    sgd_update_ref(params_.data(), momentum_.data(), grads.data(),
                   static_cast<int64_t>(params_.size()), lr, mu);
  }
  return loss / static_cast<double>(B);
}

double Trainer::minibatch_step(std::span<const int64_t> rows) {
  switch (config_.optimizer) {
    case Optimizer::sgd:
      return sgd_step(rows);
    case Optimizer::adam:
      return adam_step(rows);
    case Optimizer::gd:
      break;
  }
  IS_CHECK(false, "gd has no minibatch step (train_epoch calls gd_step)");
  return NAN;
}

// One Adam step: PyTorch's torch.optim.Adam (optim/optimizer.hpp) on the gradient of the
// batch's mean loss. The backward is the plain one (OpenBLAS) into grad_, then one pass of the
// update. Measured (bench/step_bench --mode adam, 784-256-256-256-10, one thread): at batch 64
// the step takes 1.63 ms against 1.26 ms for the fused SGD step, the update alone 0.20 ms; at
// batch 4096 the update is 0.2% of the step. So fusing Adam into the backward kernels could
// win at most ~0.4 ms at batch 64 and nothing at large batches, for a second set of fused
// kernels (and twins) in model/: not done.
double Trainer::adam_step(std::span<const int64_t> rows) {
  IS_CHECK(config_.optimizer == Optimizer::adam);
  const Dataset& train = data_.train;
  const int64_t B = static_cast<int64_t>(rows.size()), dim = train.dim;
  IS_CHECK(B >= 1 && B <= train_ws_.batch);
  // The batch gathered into xb_ (B, dim): mlp_backward's first layer reads x as one matrix.
  for (int64_t i = 0; i < B; ++i)
    std::copy_n(train.row(rows[static_cast<size_t>(i)]), dim, xb_.data() + i * dim);
  gather_supervision(rows);
  const float scale = 1.0f / static_cast<float>(B);
  double loss = 0.0;
  if (engine_ == Engine::fused) {
    const float* logits = mlp_forward(net_, params_.data(), xb_.data(), B, train_ws_);
    loss = batch_loss_backward(dlogits_.data(), logits, B, scale);
    note_batch(rows, logits);
    mlp_backward(net_, params_.data(), grad_.data(), xb_.data(), dlogits_.data(), B, train_ws_);
    adam_update(params_, adam_, grad_, config_.lr, adam_hyper());
  } else {
    const auto logits = mlp_forward_ref(net_, params_.data(), xb_.data(), B);
    loss = batch_loss_backward(dlogits_.data(), logits.data(), B, scale);
    note_batch(rows, logits.data());
    const auto grads = mlp_backward_ref(net_, params_.data(), xb_.data(), dlogits_.data(), B);
    adam_update_ref(params_.data(), adam_.m.data(), adam_.v.data(), grads.data(),
                    static_cast<int64_t>(params_.size()), config_.lr, adam_hyper(), ++adam_.t);
  }
  return loss / static_cast<double>(B);
}

// One full-batch gd step: the mean loss's gradient over the whole training set (in order_,
// which gd never shuffles), then v ← μ·v + g; w ← w − lr·v.
double Trainer::gd_step() {
  IS_CHECK(config_.optimizer == Optimizer::gd);
  const Dataset& train = data_.train;
  const int64_t n = train.n, dim = train.dim, K = net_.spec.outputs;
  const float lr = static_cast<float>(config_.lr), mu = static_cast<float>(config_.momentum);
  if (engine_ == Engine::fused) {
    // What the gradient pass sees of each row goes to the epoch's running loss and error and
    // to the stopping check's order, as note_batch does for minibatches.
    struct Observer final : RowObserver {
      Trainer* t;
      explicit Observer(Trainer* tr) : t(tr) {}
      void chunk(int64_t first, const float* logits, int64_t B) override {
        t->note_rows(std::span<const int64_t>(t->order_).subspan(static_cast<size_t>(first),
                                                                 static_cast<size_t>(B)),
                     logits);
      }
    } observer(this);
    return initscope::gd_step(net_, params_, momentum_, loss_, train.x.data(), train.y.data(),
                              train.regression() ? train.targets.data() : nullptr, order_, lr, mu,
                              gd_, &observer);
  }
  // The reference: every row at once through the naive twins in double, as the oracle of
  // objective/'s gradient tests (a float sum over thousands of rows, in row order, would be
  // the least accurate of the two engines), then the float update.
  std::vector<double> x(static_cast<size_t>(n * dim)), p(params_.begin(), params_.end());
  std::vector<int32_t> y(static_cast<size_t>(n));
  std::vector<float> t(static_cast<size_t>(n * train.target_dim));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = order_[static_cast<size_t>(i)];
    std::copy_n(train.row(row), dim, x.data() + i * dim);
    y[static_cast<size_t>(i)] = train.y[static_cast<size_t>(row)];
    if (train.regression())
      std::copy_n(train.target(row), train.target_dim, t.data() + i * train.target_dim);
  }
  const auto logits = mlp_forward_ref(net_, p.data(), x.data(), n);
  std::vector<double> dlogits(logits.size());
  const double inv_n = 1.0 / static_cast<double>(n);
  const double loss =
      train.regression()
          ? regression_forward_backward(dlogits.data(), logits.data(), t.data(), n, K, inv_n)
          : loss_forward_backward(loss_, dlogits.data(), logits.data(), y.data(), n, K, inv_n);
  note_rows(order_, std::vector<float>(logits.begin(), logits.end()).data());
  const auto g = mlp_backward_ref(net_, p.data(), x.data(), dlogits.data(), n);
  const std::vector<float> grads(g.begin(), g.end());
  sgd_update_ref(params_.data(), momentum_.data(), grads.data(),
                 static_cast<int64_t>(params_.size()), lr, mu);
  return loss / static_cast<double>(n);
}

// What the training pass saw of each example: the epoch's running loss and error, and each
// row's risk of failing the stopping check (its margin, or −loss for a loss criterion).
void Trainer::note_batch(std::span<const int64_t> rows, const float* logits) {
  const int64_t K = net_.spec.outputs;
  const bool regression = data_.train.regression();
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* f = logits + static_cast<int64_t>(i) * K;
    const int32_t y = yb_[i];
    epoch_loss_sum_ += step_losses_[i];
    if (regression) {  // no classes: only the loss tells the risk
      risk_[static_cast<size_t>(rows[i])] = static_cast<float>(-step_losses_[i]);
      continue;
    }
    epoch_wrong_ += example_error(f, y, K) ? 1 : 0;
    risk_[static_cast<size_t>(rows[i])] =
        static_cast<float>(risk_is_loss_ ? -step_losses_[i] : example_margin(f, y, K));
  }
}

// note_batch for rows whose losses nobody computed yet (gd's gradient pass).
void Trainer::note_rows(std::span<const int64_t> rows, const float* logits) {
  const int64_t K = net_.spec.outputs;
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* f = logits + static_cast<int64_t>(i) * K;
    const auto row = static_cast<size_t>(rows[i]);
    const Judged e = judge(data_.train, rows[i], f);
    epoch_loss_sum_ += e.loss;
    epoch_wrong_ += e.wrong ? 1 : 0;
    risk_[row] = static_cast<float>(risk_is_loss_ ? -e.loss : e.margin);
  }
}

// The run, step by step: measure the initialization, check it, then epochs of SGD each
// followed by the stopping check (and measurements every N epochs), until a criterion, a cap or
// divergence ends it; then the final measures.
RunOutcome Trainer::run(const ProgressFn& progress, const std::atomic<int>* stop) {
  RunState s;
  s.t_start = Clock::now();
  stop_ = stop;
  order_rng_ = Rng(derive_seed(config_.seed, "order"));
  measure_at_init(s);
  const StopCriterion* met = end_of_epoch(s, progress);
  const bool capped_now = config_.max_steps == 0 || config_.max_epochs == 0;
  bench_mark("first_step");
  while (!met && !s.diverged && !capped_now) {
    if (stop_requested(s)) break;
    ++s.epoch;
    const bool step_cap = train_epoch(s);
    if (s.signal) {
      --s.epoch;  // the epoch was cut short: it is not checked, and not counted
      break;
    }
    met = end_of_epoch(s, progress);
    if (met || s.diverged) break;
    if (step_cap) {
      s.out.stopped_by = "max_steps";
      break;
    }
    if (s.epoch >= config_.max_epochs) {
      s.out.stopped_by = "max_epochs";
      break;
    }
  }
  bench_mark("last_step");
  if (s.signal) {
    // Stopped by SIGINT or SIGTERM: what was measured until the last complete epoch (its
    // trajectory) and the counts, without the final measures (they can take seconds at large
    // widths, and describe no finished run).
    s.out.status = RunStatus::interrupted;
    s.out.stopped_by = signal_name(s.signal);
    s.out.error = fmt::format("stopped by {} after {} complete epochs ({} steps)",
                              signal_name(s.signal), s.epoch, s.step);
    record_counts(s);
    return s.out;
  }
  if (capped_now && !met && !s.diverged)
    s.out.stopped_by = config_.max_steps == 0 ? "max_steps" : "max_epochs";
  if (!s.diverged) {
    s.out.status = RunStatus::completed;
    // plateau:N ends a collapsed run: a stop, never convergence.
    const bool plateau = met && met->kind == StopCriterion::Kind::plateau;
    s.out.converged = met != nullptr && !plateau;
    if (met) s.out.stopped_by = plateau ? "plateau" : met->text;
  }
  measure_at_end(s);
  return s.out;
}

RunOutcome Trainer::measure_only(std::span<const float> init,
                                 const std::vector<std::string>& only) {
  if (!init.empty()) {
    IS_CHECK(init.size() == init_.size());
    init_.assign(init.begin(), init.end());
  }
  RunState s;
  s.t_start = Clock::now();
  auto t = Clock::now();
  MeasureInput at_init = measure_input(k_at_init, s);
  at_init.only = only;
  run_measures(at_init, s.init_metrics);
  s.t_measure += seconds_since(t);
  t = Clock::now();
  MeasureInput in = measure_input(k_at_end, s);
  in.arrays = &s.out.arrays;
  in.only = only;
  run_measures(in, s.out.metrics);
  s.t_measure += seconds_since(t);
  s.out.status = RunStatus::completed;
  s.out.stopped_by = "measured";
  Metrics& m = s.out.metrics;
  m["m"] = static_cast<double>(data_.train.n);
  m["num_params"] = static_cast<double>(net_.num_params);
  m["measure_seconds"] = s.t_measure;
  m["wall_seconds"] = seconds_since(s.t_start);
  return s.out;
}

MeasureInput Trainer::measure_input(MeasureTime when, const RunState& s) {
  MeasureInput in;
  in.when = when;
  in.net = &net_;
  in.params = when == k_at_init ? std::span<const float>(init_) : std::span<const float>(params_);
  in.init = init_;
  in.pretrained = pretrained_;
  in.init_metrics = &s.init_metrics;
  in.evaluate = [this](Split split, bool margins) {
    return evaluate(split == Split::train ? data_.train : data_.test, margins);
  };
  in.train = &data_.train;
  in.test = &data_.test;
  in.options = to_json(config_);
  if (data_.train.regression()) {  // coordinate tasks: their function's spectra
    in.box.dims =
        data_.encoding.kind == EncodingKind::none ? data_.train.dim : data_.encoding.input_dim;
    in.box.encoding = &data_.encoding;
    in.box.threads = config_.threads;
    if (config_.dataset == "signal1d") {
      const std::vector<double> phi = signal_phases(config_.signal_freqs.size());
      std::vector<double> amps = config_.signal_amps;
      if (amps.empty()) amps.assign(config_.signal_freqs.size(), 1.0);
      in.box.target = [f = config_.signal_freqs, a = amps, phi](double x) {
        double y = 0.0;
        for (size_t k = 0; k < f.size(); ++k)
          y += a[k] * std::sin(2.0 * std::numbers::pi * f[k] * x + phi[k]);
        return y;
      };
      in.box.target_freqs = config_.signal_freqs;
      for (const double f : config_.signal_freqs)
        in.box.cutoff = std::max(in.box.cutoff, std::fabs(f));
    } else {  // an image: the training lattice's Nyquist frequency, in cycles per unit
      in.box.cutoff = static_cast<double>(config_.image_size - 1) /
                      (4.0 * static_cast<double>(config_.train_stride));
    }
  }
  const Dataset& train = data_.train;
  in.gradient_rows = {train.x.data(), train.y.data(),
                      train.regression() ? train.targets.data() : nullptr, train.n, loss_};
  in.flatness = config_.flatness;
  in.flatness_rows = config_.flatness_rows;
  in.seed = config_.seed;
  return in;
}

void Trainer::measure_at_init(RunState& s) {
  const auto t = Clock::now();
  run_measures(measure_input(k_at_init, s), s.init_metrics);
  s.t_measure += seconds_since(t);
}

bool Trainer::train_epoch(RunState& s) {
  const int64_t n = data_.train.n, B_max = train_ws_.batch;
  const auto capped = [&] { return config_.max_steps > 0 && s.step >= config_.max_steps; };
  bool step_cap = false;
  switch (config_.optimizer) {
    case Optimizer::sgd:
    case Optimizer::adam: {
      if (config_.shuffle) order_rng_.shuffle(std::span<int64_t>(order_));
      const auto t = Clock::now();
      for (int64_t start = 0; start < n; start += B_max) {
        const int64_t B = std::min(B_max, n - start);
        minibatch_step(std::span<const int64_t>(order_).subspan(static_cast<size_t>(start),
                                                                static_cast<size_t>(B)));
        ++s.step;
        if (capped()) {
          step_cap = true;
          break;
        }
        if (stop_requested(s)) break;
      }
      s.t_train += seconds_since(t);
      break;
    }
    case Optimizer::gd: {  // an epoch is one step over every row; the order does not matter
      const auto t = Clock::now();
      gd_step();
      ++s.step;
      step_cap = capped();
      s.t_train += seconds_since(t);
      break;
    }
  }
  return step_cap;
}

// The stopping check after each epoch (StopCheck): evaluates the training set until the
// decision is known, or all of it at epoch 0, at measurement epochs and with
// train_eval = full; records the trajectory, measures every N epochs, notes divergence,
// reports progress, and returns the criterion that is met (or nullptr).
const StopCriterion* Trainer::end_of_epoch(RunState& s, const ProgressFn& progress) {
  const int64_t n = data_.train.n;
  const bool measuring = config_.measure_every > 0 && s.epoch % config_.measure_every == 0;
  const auto t = Clock::now();
  const bool full = s.epoch == 0 || config_.train_eval == TrainEval::full || measuring;
  const bool finite = run_check(full, s.initial_loss);
  const bool complete = finite && check_.complete();
  if (s.epoch == 0 && complete) {
    s.initial_loss = check_.loss();
    learn_risk_order(s.initial_loss);
  }
  const double epoch_loss = epoch_loss_sum_ / static_cast<double>(std::max<int64_t>(n, 1));
  const double epoch_error =
      static_cast<double>(epoch_wrong_) / static_cast<double>(std::max<int64_t>(n, 1));
  const StopCriterion* met = nullptr;
  record_check(s, complete, epoch_loss, epoch_error, met);
  // Chance level: the loss of the best constant output (ln K for balanced cross-entropy). The
  // initialization's loss is often there, so epoch 0 never counts.
  const double seen_loss = complete ? check_.loss() : epoch_loss;
  if (s.epoch > 0 && chance_loss_ > 0 &&
      std::fabs(seen_loss - chance_loss_) <= k_chance_tolerance * chance_loss_)
    ++s.chance_epochs;
  else
    s.chance_epochs = 0;
  if (!met && plateau_ && static_cast<double>(s.chance_epochs) >= plateau_->value) met = &*plateau_;
  s.t_eval += seconds_since(t);
  if (measuring) measure_during(s);
  // Divergence: an example's loss that is not finite, or, when the check stopped early and
  // saw only part of the set, a running loss of the epoch that is not finite; or a parameter
  // that is not finite while the loss still is (a ReLU maps NaN to 0, so a NaN hidden weight can
  // leave the loss near ln K for good).
  const bool loss_diverged = !finite || (!complete && s.epoch > 0 && !std::isfinite(epoch_loss));
  const int64_t bad_param = loss_diverged ? -1 : first_nonfinite(params_);
  if ((loss_diverged || bad_param >= 0) && !s.diverged) {
    s.diverged = true;
    s.out.status = RunStatus::diverged;
    s.out.stopped_by = "diverged";
    s.out.error = loss_diverged
                      ? fmt::format("training loss became {} at epoch {} (step {})",
                                    finite ? epoch_loss : NAN, s.epoch, s.step)
                      : fmt::format("parameter {} became {} at epoch {} (step {})", bad_param,
                                    params_[static_cast<size_t>(bad_param)], s.epoch, s.step);
  }
  report_progress(s, complete, epoch_loss, epoch_error, progress);
  epoch_loss_sum_ = 0.0;
  epoch_wrong_ = 0;
  ++s.checks;
  return met;
}

// Which rows the check takes first from now on: those the training pass predicts to fail the
// first criterion (risk below the threshold), known once the initial loss is.
void Trainer::learn_risk_order(double initial_loss) {
  if (criteria_.empty()) {
    risk_threshold_ = -INFINITY;  // nothing to predict: the order does not matter
    return;
  }
  const auto& c = criteria_[0];
  switch (c.kind) {
    case StopCriterion::Kind::margin:
      risk_is_loss_ = false;
      risk_threshold_ = static_cast<float>(c.value);
      break;
    case StopCriterion::Kind::train_error:
      risk_is_loss_ = false;
      risk_threshold_ = static_cast<float>(std::nextafter(0.0, 1.0));
      break;
    case StopCriterion::Kind::loss:
      risk_is_loss_ = true;
      risk_threshold_ = static_cast<float>(-c.value);
      break;
    case StopCriterion::Kind::loss_relative:
    case StopCriterion::Kind::mse:
    case StopCriterion::Kind::psnr:
      risk_is_loss_ = true;
      risk_threshold_ = static_cast<float>(-c.loss_bound(initial_loss));
      break;
    case StopCriterion::Kind::plateau:
      IS_CHECK(false, "plateau:N is kept out of criteria_");
      break;
  }
}

// The check's results into the trajectory; `met` becomes the first criterion that holds.
void Trainer::record_check(RunState& s, bool complete, double epoch_loss, double epoch_error,
                           const StopCriterion*& met) {
  auto& traj = s.out.trajectory;
  const Dataset& train = data_.train;
  if (s.epoch > 0) {
    traj.push_back({s.step, s.epoch, "epoch_loss", epoch_loss});
    if (!train.regression()) traj.push_back({s.step, s.epoch, "epoch_error", epoch_error});
  }
  for (size_t i = 0; i < criteria_.size() && complete; ++i) {
    if (criteria_[i].kind == StopCriterion::Kind::margin)
      traj.push_back({s.step, s.epoch, "margin_fraction", check_.value(i)});
    if (check_.met(i) && !met) met = &criteria_[i];
  }
  if (complete) {
    traj.push_back({s.step, s.epoch, "train_loss", check_.loss()});
    if (!train.regression())
      traj.push_back({s.step, s.epoch, "train_error", check_.error()});
    else if (train.psnr_range > 0)
      traj.push_back({s.step, s.epoch, "train_psnr", psnr_db(check_.loss(), train.psnr_range)});
  }
}

// The k_during measures into the trajectory.
void Trainer::measure_during(RunState& s) {
  const auto t = Clock::now();
  Metrics m;
  run_measures(measure_input(k_during, s), m);
  for (const auto& [name, value] : m) s.out.trajectory.push_back({s.step, s.epoch, name, value});
  s.t_measure += seconds_since(t);
}

void Trainer::report_progress(const RunState& s, bool complete, double epoch_loss,
                              double epoch_error, const ProgressFn& progress) const {
  if (!progress) return;
  Progress p;
  p.epoch = s.epoch;
  p.step = s.step;
  p.regression = data_.train.regression();
  p.loss = complete ? check_.loss() : epoch_loss;
  p.error = complete ? check_.error() : epoch_error;
  p.criterion = criteria_.empty() ? p.loss : check_.value(0);
  if (!complete && !criteria_.empty())
    p.bound = criteria_[0].kind == StopCriterion::Kind::margin ||
                      criteria_[0].kind == StopCriterion::Kind::psnr
                  ? '<'
                  : '>';
  p.criterion_name = criteria_.empty() ? "loss" : criteria_[0].text;
  p.stop = criteria_.empty() ? nullptr : &criteria_[0];
  p.max_epochs = config_.max_epochs;
  p.max_steps = config_.max_steps;
  p.initial_loss = s.initial_loss;
  p.chance_loss = chance_loss_;
  p.chance_epochs = s.chance_epochs;
  p.elapsed = seconds_since(s.t_start);
  p.steps_per_second = s.t_train > 0 ? static_cast<double>(s.step) / s.t_train : 0.0;
  progress(p);
}

// The k_at_end measures and the run's own counts and timings, into the run's metrics.
void Trainer::measure_at_end(RunState& s) {
  const auto t = Clock::now();
  Metrics& m = s.out.metrics;
  MeasureInput in = measure_input(k_at_end, s);
  in.arrays = &s.out.arrays;
  run_measures(in, m);
  fourier_reach_steps(s.out.trajectory, m);
  s.t_measure += seconds_since(t);
  record_counts(s);
}

bool Trainer::stop_requested(RunState& s) const {
  if (stop_ == nullptr || s.signal != 0) return s.signal != 0;
  s.signal = stop_->load(std::memory_order_relaxed);
  return s.signal != 0;
}

// The run's own counts and timings, into its metrics (after the final measures, or alone for an
// interrupted run).
void Trainer::record_counts(RunState& s) {
  const int64_t n = data_.train.n;
  Metrics& m = s.out.metrics;
  m["initial_loss"] = s.initial_loss;
  m["steps"] = static_cast<double>(s.step);
  m["epochs"] = static_cast<double>(s.epoch);
  m["m"] = static_cast<double>(n);
  m["noise_count"] = static_cast<double>(data_.corrupted.size());
  m["num_params"] = static_cast<double>(net_.num_params);
  m["converged"] = s.out.converged ? 1.0 : 0.0;
  m["train_seconds"] = s.t_train;
  m["eval_seconds"] = s.t_eval;
  m["measure_seconds"] = s.t_measure;
  m["wall_seconds"] = seconds_since(s.t_start);
  m["steps_per_second"] = s.t_train > 0 ? static_cast<double>(s.step) / s.t_train : 0.0;
  // The share of the training set the stopping checks evaluated (1 = every example each time).
  m["check_rows_fraction"] = static_cast<double>(check_rows_seen_) /
                             static_cast<double>(std::max<int64_t>(n * s.checks, 1));
}

PretrainedRun run_pretrained(const TrainConfig& config, const PreparedData& task,
                             const ProgressFn& progress, const std::atomic<int>* stop) {
  IS_CHECK(config.pretrain != Pretrain::none);
  TrainConfig first = config;
  first.stop = config.pretrain_stop;
  first.pretrain = Pretrain::none;
  first.pretrain_stop.clear();
  first.flatness.clear();  // measured once, on the task's final weights
  const PreparedData pre = pretrain_data(config, task);
  Trainer phase1(first, pre, Engine::fused);
  RunOutcome one = phase1.run(progress, stop);
  PretrainedRun r;
  r.net = phase1.net();
  r.init.assign(phase1.initial_params().begin(), phase1.initial_params().end());
  r.pretrained.assign(phase1.params().begin(), phase1.params().end());
  const auto pretrain_metrics = [&](Metrics& m) {
    const auto get = [&](const char* k) { return one.metrics.count(k) ? one.metrics.at(k) : NAN; };
    m["pretrain_steps"] = get("steps");
    m["pretrain_epochs"] = get("epochs");
    m["pretrain_converged"] = one.converged ? 1.0 : 0.0;
    m["pretrain_train_loss"] = one.metrics.count("train_loss") ? one.metrics.at("train_loss") : NAN;
    m["pretrain_seconds"] = get("wall_seconds");
  };
  if (one.status != RunStatus::completed) {  // diverged or interrupted while pretraining
    Metrics counts;
    pretrain_metrics(counts);  // before `one` is moved from
    r.out = std::move(one);
    r.out.error = "pretraining: " + r.out.error;
    for (auto& p : r.out.trajectory) p.name = "pretrain_" + p.name;
    r.out.metrics.insert(counts.begin(), counts.end());
    r.final_params = r.pretrained;
    return r;
  }
  Trainer phase2(config, task, Engine::fused, r.pretrained, r.init);
  RunOutcome two = phase2.run(progress, stop);
  r.final_params.assign(phase2.params().begin(), phase2.params().end());
  const auto steps = static_cast<int64_t>(one.metrics.at("steps"));
  const auto epochs = static_cast<int64_t>(one.metrics.at("epochs"));
  std::vector<TrajectoryPoint> traj;
  traj.reserve(one.trajectory.size() + two.trajectory.size());
  for (auto& p : one.trajectory) traj.push_back({p.step, p.epoch, "pretrain_" + p.name, p.value});
  for (auto& p : two.trajectory)
    traj.push_back({p.step + steps, p.epoch + epochs, p.name, p.value});
  two.trajectory = std::move(traj);
  pretrain_metrics(two.metrics);
  two.metrics["wall_seconds"] += one.metrics.at("wall_seconds");
  r.out = std::move(two);
  return r;
}

}  // namespace initscope
