// The training loop. Reads top to bottom: gather a batch, forward, loss, backward fused with
// the update. Every buffer the step touches is allocated in the constructor; the step of the
// fused engine allocates nothing (the reference engine's naive twins do, by design).
#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "train/checkpoint.hpp"

namespace initscope {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr int64_t k_eval_chunk = 1024;  // rows per forward pass when evaluating a whole set
// Rows per forward pass of the stopping check, in multiples of one training batch (which the
// panel kernels run at full speed): as many as could decide the check (StopCheck::
// fewest_to_decide), or for loss criteria 64 first and then twice the last, up to k_eval_chunk.
constexpr int64_t k_check_min_chunk = 64;

SubsetMode parse_subset(const std::string& s) {
  if (s == "stratified") return SubsetMode::stratified;
  if (s == "first") return SubsetMode::first;
  return SubsetMode::random;
}

double quantile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return NAN;
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

PreparedData prepare_data(const TrainConfig& c, TrainTest raw) {
  PreparedData p;
  if (!c.classes.empty()) {
    raw.train = select_classes(raw.train, c.classes);
    raw.test = select_classes(raw.test, c.classes);
  }
  p.outputs = c.classes.size() == 2 ? 1 : raw.train.num_classes;
  if (c.m > 0 && c.m != raw.train.n) {  // choose_subset throws for m > n
    const auto rows =
        choose_subset(raw.train, c.m, parse_subset(c.subset), derive_seed(c.seed, "subset"));
    raw.train = take_rows(raw.train, rows);
  }
  if (c.noise > 0.0)
    p.corrupted = apply_label_noise(raw.train, c.noise, derive_seed(c.seed, "noise"));
  if (c.standardize) standardize(raw.train, raw.test);
  p.train = std::move(raw.train);
  p.test = std::move(raw.test);
  return p;
}

Trainer::Trainer(const TrainConfig& config, const PreparedData& data, Engine engine)
    : config_(config), data_(data), engine_(engine), loss_(parse_loss(config.loss)) {
  MlpSpec spec;
  spec.input_dim = data.train.dim;
  spec.width = config.width;
  spec.depth = config.depth;
  spec.outputs = data.outputs;
  spec.activation = parse_activation(config.activation);
  net_ = Mlp::make(spec);
  for (const auto& s : config.stop) criteria_.push_back(parse_stop(s));

  params_.assign(net_.num_params, 0.0f);
  if (config.init_from.empty())
    init_params(net_, params_, parse_init(config.init), config.init_gain,
                derive_seed(config.seed, "init"));
  else
    load_params(config.init_from, net_, params_);
  init_ = params_;
  momentum_.assign(net_.num_params, 0.0f);

  const int64_t B = std::min<int64_t>(config.batch, std::max<int64_t>(data.train.n, 1));
  train_ws_ = make_workspace(net_, B, /*backward=*/true, config.threads);
  eval_ws_ = make_workspace(net_, k_eval_chunk, /*backward=*/false, config.threads);
  xrows_.assign(static_cast<size_t>(B), nullptr);
  if (engine_ == Engine::reference) xb_.assign(static_cast<size_t>(B * spec.input_dim), 0.0f);
  yb_.assign(static_cast<size_t>(B), 0);
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
      const float* f = logits + i * K;
      const int32_t y = d.y[static_cast<size_t>(start + i)];
      loss_sum += example_loss(loss_, f, y, K);
      wrong += example_error(f, y, K) ? 1 : 0;
      if (margins) ev.margins[static_cast<size_t>(start + i)] = example_margin(f, y, K);
    }
  }
  ev.loss = d.n ? loss_sum / static_cast<double>(d.n) : 0.0;
  ev.error = d.n ? static_cast<double>(wrong) / static_cast<double>(d.n) : 0.0;
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
      const float* f = logits + i * K;
      const int64_t row = order[start + i];
      const int32_t y = train.y[static_cast<size_t>(row)];
      const double loss = example_loss(loss_, f, y, K);
      if (!std::isfinite(loss)) return false;
      check_.add(row, loss, example_margin(f, y, K), example_error(f, y, K));
    }
    check_rows_seen_ += B;
    if (!full && check_.certainly_unmet()) break;
  }
  return true;
}

// One SGD step: PyTorch's SGD with momentum (dampening 0, no Nesterov, no weight decay),
// v ← μ·v + g; w ← w − lr·v, on the mean loss of the batch.
double Trainer::sgd_step(std::span<const int64_t> rows) {
  const Dataset& train = data_.train;
  const int64_t B = static_cast<int64_t>(rows.size()), dim = train.dim, K = net_.spec.outputs;
  IS_CHECK(B >= 1 && B <= train_ws_.batch);
  // The batch: row pointers into the training set (the fused engine reads x where it lies;
  // its first layer transposes the rows into a panel anyway) and labels yb (B).
  for (int64_t i = 0; i < B; ++i) {
    const int64_t row = rows[static_cast<size_t>(i)];
    xrows_[static_cast<size_t>(i)] = train.row(row);
    yb_[static_cast<size_t>(i)] = train.y[static_cast<size_t>(row)];
  }
  const float lr = static_cast<float>(config_.lr), mu = static_cast<float>(config_.momentum);
  const float scale = 1.0f / static_cast<float>(B);  // gradient of the batch mean
  double loss = 0.0;
  if (engine_ == Engine::fused) {
    // logits (B, K) = forward(x); dlogits (B, K) = scale · dloss/dlogits; then the backward
    // pass updates every layer's parameters and momentum as it goes, output layer first.
    const float* logits = mlp_forward(net_, params_.data(), xrows_.data(), B, train_ws_);
    loss = loss_forward_backward(loss_, dlogits_.data(), logits, yb_.data(), B, K, scale,
                                 step_losses_.data());
    note_batch(rows, logits);
    mlp_backward_sgd(net_, params_.data(), momentum_.data(), xrows_.data(), dlogits_.data(), B,
                     train_ws_, lr, mu);
  } else {
    for (int64_t i = 0; i < B; ++i)
      std::copy_n(xrows_[static_cast<size_t>(i)], dim, xb_.data() + i * dim);
    const auto logits = mlp_forward_ref(net_, params_.data(), xb_.data(), B);
    loss = loss_forward_backward(loss_, dlogits_.data(), logits.data(), yb_.data(), B, K, scale,
                                 step_losses_.data());
    note_batch(rows, logits.data());
    const auto grads = mlp_backward_ref(net_, params_.data(), xb_.data(), dlogits_.data(), B);
    sgd_update_ref(params_.data(), momentum_.data(), grads.data(),
                   static_cast<int64_t>(params_.size()), lr, mu);
  }
  return loss / static_cast<double>(B);
}

// What the training pass saw of each example: the epoch's running loss and error, and each
// row's risk of failing the stopping check (its margin, or −loss for a loss criterion).
void Trainer::note_batch(std::span<const int64_t> rows, const float* logits) {
  const int64_t K = net_.spec.outputs;
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* f = logits + static_cast<int64_t>(i) * K;
    const int32_t y = yb_[i];
    epoch_loss_sum_ += step_losses_[i];
    epoch_wrong_ += example_error(f, y, K) ? 1 : 0;
    risk_[static_cast<size_t>(rows[i])] =
        static_cast<float>(risk_is_loss_ ? -step_losses_[i] : example_margin(f, y, K));
  }
}

RunOutcome Trainer::run(const ProgressFn& progress) {
  RunOutcome out;
  const Dataset& train = data_.train;
  const int64_t n = train.n, B_max = train_ws_.batch;
  Rng order_rng(derive_seed(config_.seed, "order"));
  const auto t_start = Clock::now();
  double t_train = 0.0, t_eval = 0.0, t_measure = 0.0;
  int64_t step = 0, epoch = 0, checks = 0;
  double initial_loss = NAN;

  const Metrics init_metrics = [&] {
    const auto t = Clock::now();
    Metrics m = measure_init(net_, init_);
    t_measure += seconds_since(t);
    return m;
  }();

  // The stopping check after each epoch (StopCheck): evaluates the training set until the
  // decision is known, or all of it at epoch 0, at measurement epochs and with
  // train_eval = "full"; records the trajectory, reports progress, and returns the criterion
  // that is met (or nullptr).
  const auto check = [&]() -> const StopCriterion* {
    const auto t = Clock::now();
    const bool full = epoch == 0 || config_.train_eval == "full" ||
                      (config_.measure_every > 0 && epoch % config_.measure_every == 0);
    const bool finite = run_check(full, initial_loss);
    const bool complete = finite && check_.complete();
    if (epoch == 0 && complete) {
      initial_loss = check_.loss();
      if (!criteria_.empty()) {
        const auto& c = criteria_[0];
        risk_is_loss_ =
            c.kind == StopCriterion::Kind::loss || c.kind == StopCriterion::Kind::loss_relative;
        risk_threshold_ = static_cast<float>(
            c.kind == StopCriterion::Kind::margin        ? c.value
            : c.kind == StopCriterion::Kind::train_error ? std::nextafter(0.0, 1.0)
            : c.kind == StopCriterion::Kind::loss        ? -c.value
                                                         : -c.value * initial_loss);
      } else {
        risk_threshold_ = -INFINITY;  // nothing to predict: the order does not matter
      }
    }
    const double epoch_loss = epoch_loss_sum_ / static_cast<double>(std::max<int64_t>(n, 1));
    const double epoch_error =
        static_cast<double>(epoch_wrong_) / static_cast<double>(std::max<int64_t>(n, 1));
    if (epoch > 0) {
      out.trajectory.push_back({step, epoch, "epoch_loss", epoch_loss});
      out.trajectory.push_back({step, epoch, "epoch_error", epoch_error});
    }
    const StopCriterion* met = nullptr;
    for (size_t i = 0; i < criteria_.size() && complete; ++i) {
      if (criteria_[i].kind == StopCriterion::Kind::margin)
        out.trajectory.push_back({step, epoch, "margin_fraction", check_.value(i)});
      if (check_.met(i) && !met) met = &criteria_[i];
    }
    if (complete) {
      out.trajectory.push_back({step, epoch, "train_loss", check_.loss()});
      out.trajectory.push_back({step, epoch, "train_error", check_.error()});
    }
    t_eval += seconds_since(t);
    if (config_.measure_every > 0 && epoch % config_.measure_every == 0) {
      const auto tm = Clock::now();
      const Evaluation te = evaluate(data_.test, false);
      out.trajectory.push_back({step, epoch, "test_loss", te.loss});
      out.trajectory.push_back({step, epoch, "test_error", te.error});
      for (const auto& [name, value] : measure_weights(net_, params_, init_, init_metrics, false))
        if (name.rfind("dist_", 0) == 0 || name.rfind("fro_w", 0) == 0)
          out.trajectory.push_back({step, epoch, name, value});
      t_measure += seconds_since(tm);
    }
    // Divergence: an example's loss that is not finite, or, when the check stopped early and
    // saw only part of the set, a running loss of the epoch that is not finite.
    const bool diverged = !finite || (!complete && epoch > 0 && !std::isfinite(epoch_loss));
    if (diverged && out.status.empty()) {
      out.status = k_status_diverged;
      out.stopped_by = "diverged";
      out.error = fmt::format("training loss became {} at epoch {} (step {})",
                              finite ? epoch_loss : NAN, epoch, step);
    }
    if (progress) {
      Progress p;
      p.epoch = epoch;
      p.step = step;
      p.loss = complete ? check_.loss() : epoch_loss;
      p.error = complete ? check_.error() : epoch_error;
      p.criterion = criteria_.empty() ? p.loss : check_.value(0);
      if (!complete && !criteria_.empty())
        p.bound = criteria_[0].kind == StopCriterion::Kind::margin ? '<' : '>';
      p.criterion_name = criteria_.empty() ? "loss" : criteria_[0].text;
      p.elapsed = seconds_since(t_start);
      p.steps_per_second = t_train > 0 ? static_cast<double>(step) / t_train : 0.0;
      progress(p);
    }
    epoch_loss_sum_ = 0.0;
    epoch_wrong_ = 0;
    ++checks;
    return met;
  };

  const StopCriterion* met = check();
  const bool capped_now = config_.max_steps == 0 || config_.max_epochs == 0;
  while (!met && out.status.empty() && !capped_now) {
    ++epoch;
    if (config_.shuffle) order_rng.shuffle(std::span<int64_t>(order_));
    const auto t = Clock::now();
    bool step_cap = false;
    for (int64_t start = 0; start < n; start += B_max) {
      const int64_t B = std::min(B_max, n - start);
      sgd_step(std::span<const int64_t>(order_).subspan(static_cast<size_t>(start),
                                                        static_cast<size_t>(B)));
      ++step;
      if (config_.max_steps > 0 && step >= config_.max_steps) {
        step_cap = true;
        break;
      }
    }
    t_train += seconds_since(t);
    met = check();
    if (met || !out.status.empty()) break;
    if (step_cap) {
      out.stopped_by = "max_steps";
      break;
    }
    if (epoch >= config_.max_epochs) {
      out.stopped_by = "max_epochs";
      break;
    }
  }
  if (capped_now && !met && out.status.empty())
    out.stopped_by = config_.max_steps == 0 ? "max_steps" : "max_epochs";
  if (out.status.empty()) {
    out.status = k_status_completed;
    out.converged = met != nullptr;
    if (met) out.stopped_by = met->text;
  }

  // Final measures.
  const auto t_fin = Clock::now();
  Metrics& m = out.metrics;
  m = measure_weights(net_, params_, init_, init_metrics, true);
  Evaluation tr = evaluate(train, true);
  const Evaluation te = evaluate(data_.test, false);
  std::sort(tr.margins.begin(), tr.margins.end());
  m["train_loss"] = tr.loss;
  m["train_error"] = tr.error;
  m["test_loss"] = te.loss;
  m["test_error"] = te.error;
  m["gen_error"] = te.error - tr.error;
  m["margin_min"] = tr.margins.empty() ? NAN : tr.margins.front();
  m["margin_p10"] = quantile_sorted(tr.margins, 0.10);
  m["margin_median"] = quantile_sorted(tr.margins, 0.50);
  m["initial_loss"] = initial_loss;
  m["steps"] = static_cast<double>(step);
  m["epochs"] = static_cast<double>(epoch);
  m["m"] = static_cast<double>(n);
  m["noise_count"] = static_cast<double>(data_.corrupted.size());
  m["num_params"] = static_cast<double>(net_.num_params);
  m["converged"] = out.converged ? 1.0 : 0.0;
  t_measure += seconds_since(t_fin);
  m["train_seconds"] = t_train;
  m["eval_seconds"] = t_eval;
  m["measure_seconds"] = t_measure;
  m["wall_seconds"] = seconds_since(t_start);
  m["steps_per_second"] = t_train > 0 ? static_cast<double>(step) / t_train : 0.0;
  // The share of the training set the stopping checks evaluated (1 = every example each time).
  m["check_rows_fraction"] =
      static_cast<double>(check_rows_seen_) / static_cast<double>(std::max<int64_t>(n * checks, 1));
  return out;
}

}  // namespace initscope
