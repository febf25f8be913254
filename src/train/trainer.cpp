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
}

Evaluation Trainer::evaluate(const Dataset& d, bool margins) {
  Evaluation ev;
  const int64_t K = net_.spec.outputs;
  double loss_sum = 0.0;
  int64_t wrong = 0;
  if (margins) ev.margins.resize(static_cast<size_t>(d.n));
  std::vector<float> ref_logits;  // reference engine only
  for (int64_t start = 0; start < d.n; start += k_eval_chunk) {
    const int64_t B = std::min(k_eval_chunk, d.n - start);
    const float* logits = nullptr;
    if (engine_ == Engine::fused) {
      logits = mlp_forward(net_, params_.data(), d.row(start), B, eval_ws_);
    } else {
      ref_logits = mlp_forward_ref(net_, params_.data(), d.row(start), B);
      logits = ref_logits.data();
    }
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
    loss = loss_forward_backward(loss_, dlogits_.data(), logits, yb_.data(), B, K, scale);
    mlp_backward_sgd(net_, params_.data(), momentum_.data(), xrows_.data(), dlogits_.data(), B,
                     train_ws_, lr, mu);
  } else {
    for (int64_t i = 0; i < B; ++i)
      std::copy_n(xrows_[static_cast<size_t>(i)], dim, xb_.data() + i * dim);
    const auto logits = mlp_forward_ref(net_, params_.data(), xb_.data(), B);
    loss = loss_forward_backward(loss_, dlogits_.data(), logits.data(), yb_.data(), B, K, scale);
    const auto grads = mlp_backward_ref(net_, params_.data(), xb_.data(), dlogits_.data(), B);
    sgd_update_ref(params_.data(), momentum_.data(), grads.data(),
                   static_cast<int64_t>(params_.size()), lr, mu);
  }
  return loss / static_cast<double>(B);
}

RunOutcome Trainer::run(const ProgressFn& progress) {
  RunOutcome out;
  const Dataset& train = data_.train;
  const int64_t n = train.n, B_max = train_ws_.batch;
  const bool need_margins =
      std::any_of(criteria_.begin(), criteria_.end(),
                  [](const StopCriterion& c) { return c.kind == StopCriterion::Kind::margin; });
  Rng order_rng(derive_seed(config_.seed, "order"));
  const auto t_start = Clock::now();
  double t_train = 0.0, t_eval = 0.0, t_measure = 0.0;
  int64_t step = 0, epoch = 0;
  double initial_loss = NAN;

  const Metrics init_metrics = [&] {
    const auto t = Clock::now();
    Metrics m = measure_init(net_, init_);
    t_measure += seconds_since(t);
    return m;
  }();

  // Evaluates the training set, records the trajectory, reports progress, and returns the
  // criterion that is met (or nullptr).
  const auto check = [&]() -> const StopCriterion* {
    const auto t = Clock::now();
    const Evaluation ev = evaluate(train, need_margins);
    if (epoch == 0) initial_loss = ev.loss;
    const StopCriterion* met = nullptr;
    double first_value = ev.loss;
    for (size_t i = 0; i < criteria_.size(); ++i) {
      const auto& c = criteria_[i];
      double value = 0.0;
      bool ok = false;
      switch (c.kind) {
        case StopCriterion::Kind::loss:
          value = ev.loss;
          ok = value <= c.value;
          break;
        case StopCriterion::Kind::loss_relative:
          value = ev.loss;
          ok = value <= c.value * initial_loss;
          break;
        case StopCriterion::Kind::train_error:
          value = ev.error;
          ok = value <= c.value;
          break;
        case StopCriterion::Kind::margin: {
          const auto hits = std::count_if(ev.margins.begin(), ev.margins.end(),
                                          [&](double mg) { return mg >= c.value; });
          value = static_cast<double>(hits) / static_cast<double>(std::max<int64_t>(n, 1));
          ok = value >= c.quantile;
          out.trajectory.push_back({step, epoch, "margin_fraction", value});
          break;
        }
      }
      if (i == 0) first_value = value;
      if (ok && !met) met = &c;
    }
    out.trajectory.push_back({step, epoch, "train_loss", ev.loss});
    out.trajectory.push_back({step, epoch, "train_error", ev.error});
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
    if (!std::isfinite(ev.loss) && out.status.empty()) {
      out.status = k_status_diverged;
      out.stopped_by = "diverged";
      out.error =
          fmt::format("training loss became {} at epoch {} (step {})", ev.loss, epoch, step);
    }
    if (progress) {
      Progress p;
      p.epoch = epoch;
      p.step = step;
      p.loss = ev.loss;
      p.error = ev.error;
      p.criterion = first_value;
      p.criterion_name = criteria_.empty() ? "loss" : criteria_[0].text;
      p.elapsed = seconds_since(t_start);
      p.steps_per_second = t_train > 0 ? static_cast<double>(step) / t_train : 0.0;
      progress(p);
    }
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
  return out;
}

}  // namespace initscope
