// Whole-step timings for bench/run.sh, printed as one JSON object per line:
//   {"kind":"step", ...}       steady-state seconds per training step of initscope's Trainer
//                              (gather, forward, loss, fused backward+update) at each width;
//   {"kind":"peak", ...}       the machine's sgemm peak: OpenBLAS on 64 × 4096 × 4096;
//   {"kind":"profile", ...}    one step at one width split into gather, each layer's forward,
//                              the loss and each layer's backward+update;
//   {"kind":"adam", ...}       steady-state seconds per Adam step (forward, loss, plain backward
//                              into the gradient buffer, adam_update) per width and batch, with
//                              the update alone and the fused SGD step at the same batch: what
//                              fusing the update into the backward could save at most;
//   {"kind":"gd", ...}         seconds per full-batch gd step (loss_gradient over m rows in
//                              chunks, then the update) per width;
//   {"kind":"siren_gd", ...}   the SIREN-shaped steps of issue 10: a 2→256→256→256→1 sine
//   {"kind":"siren_adam", ...} network (--init siren, ω₀ = 30) on the 128 × 128 grid of [−1, 1]²,
//                              MSE on one output: one full-batch gd step over all 16,384 points
//                              and one Adam step on a batch of 4,096 (siren_data below);
//   {"kind":"costs", ...}      the costs around the steps, per epoch at m rows: gathering and
//                              shuffling, a stopping check over the whole training set (its
//                              cost with --train-eval full, and the most the default check
//                              can cost), and (once per run) the final measures with the
//                              spectral norms.
// Timing is steady state only: warm-up steps first, then `repeats` runs of n steps (n chosen so
// that a run lasts about `seconds`), and the best run's mean, which filters out interference
// from other processes on a shared machine without ever adding any. Data loading, network
// construction and process start-up are never timed.
//
//   step_bench [--mode steps|peak|profile|costs|adam|gd|siren] [--widths 64,256,1024,4096]
//              [--m 4096] [--threads 1,2] [--batches 64,4096] [--seconds 1] [--repeats 3]
//              [--activation relu|linear|tanh|sine|gaussian] [--data-dir DIR]
#include <cblas.h>
#include <immintrin.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/rng.hpp"
#include "data/dataset.hpp"
#include "measure/weights.hpp"
#include "model/cpu.hpp"
#include "model/kernels.hpp"
#include "model/network.hpp"
#include "train/trainer.hpp"

namespace initscope {
namespace {

using Clock = std::chrono::steady_clock;
double now() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

constexpr int64_t k_batch = 64;

/// 2·B·Σ in·out (forward) + 4·B·Σ in·out (backward) − 2·B·in·H (no input gradient at the
/// first layer): the multiply-adds the step really needs, counted the same way for PyTorch.
double flops_per_step(const Mlp& net, int64_t B) {
  double macs = 0.0;
  for (const auto& l : net.layers) macs += static_cast<double>(l.in * l.out);
  const auto& first = net.layers.front();
  return 6.0 * static_cast<double>(B) * macs - 2.0 * static_cast<double>(B * first.in * first.out);
}

/// Best mean seconds per call of `fn` over `repeats` runs of n calls, after `warmup` calls.
double best_seconds(const std::function<void()>& fn, double seconds, int repeats, int warmup) {
  for (int i = 0; i < warmup; ++i) fn();
  const double t0 = now();
  fn();
  const double one = std::max(now() - t0, 1e-7);
  const int64_t n = std::max<int64_t>(2, static_cast<int64_t>(seconds / one));
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const double t = now();
    for (int64_t i = 0; i < n; ++i) fn();
    best = std::min(best, (now() - t) / static_cast<double>(n));
  }
  return best;
}

// --activation: the hidden layers' φ for steps and costs (profile times the ReLU kernels).
std::string g_activation = "relu";

TrainConfig bench_config(int64_t width, int64_t m) {
  TrainConfig c;
  c.activation = parse_activation(g_activation);
  c.dataset = "mnist";
  c.m = m;
  c.subset = SubsetMode::first;
  c.width = width;
  c.depth = 5;
  c.loss = Loss::ce;
  c.lr = 0.1;
  c.momentum = 0.9;
  c.batch = k_batch;
  c.seed = 1;
  c.stop = {"margin:10:0.99"};
  return c;
}

/// Epoch-shuffled batches, as Trainer::run draws them.
class Batches {
 public:
  Batches(int64_t n, uint64_t seed, int64_t batch = k_batch)
      : order_(static_cast<size_t>(n)), rng_(seed), batch_(static_cast<size_t>(batch)) {
    std::iota(order_.begin(), order_.end(), int64_t{0});
    pos_ = order_.size();
  }
  std::span<const int64_t> next() {
    if (pos_ + batch_ > order_.size()) {
      rng_.shuffle(std::span<int64_t>(order_));
      pos_ = 0;
    }
    pos_ += batch_;
    return std::span<const int64_t>(order_).subspan(pos_ - batch_, batch_);
  }

 private:
  std::vector<int64_t> order_;
  Rng rng_;
  size_t batch_;
  size_t pos_;
};

void print(const nlohmann::json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

nlohmann::json machine() {
  return {{"kernel_isa", to_string(kernel_isa())},
          {"blas_core", blas_core_name()},
          {"blas_core_selection", blas_core_selection()}};
}

void bench_step(const TrainTest& raw, int64_t width, int64_t m, double seconds, int repeats,
                int threads) {
  TrainConfig c = bench_config(width, m);
  c.threads = threads;
  openblas_set_num_threads(threads);
  const PreparedData data = prepare_data(c, raw);
  Trainer t(c, data);
  Batches batches(data.train.n, 7);
  const double sec = best_seconds([&] { t.sgd_step(batches.next()); }, seconds, repeats, 10);
  const double flops = flops_per_step(t.net(), k_batch);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double mb = 1.0 / (1024.0 * 1024.0);
  // Parameters, initial parameters and momentum: three flat buffers, no gradient buffer.
  const double model_mb = 3.0 * 4.0 * static_cast<double>(t.net().num_params) * mb;
  const double data_mb = 4.0 *
                         static_cast<double>(raw.train.x.size() + raw.test.x.size() +
                                             data.train.x.size() + data.test.x.size()) *
                         mb;
  nlohmann::json j = {{"kind", "step"},
                      {"engine", "initscope"},
                      {"width", width},
                      {"activation", c.activation},
                      {"seconds_per_step", sec},
                      {"flops_per_step", flops},
                      {"threads", threads},
                      {"peak_rss_mb", static_cast<double>(ru.ru_maxrss) / 1024.0},
                      {"params_init_momentum_mb", model_mb},
                      {"datasets_mb", data_mb}};
  j.update(machine());
  print(j);
}

// One Adam step per width at batch B (m ≥ B rows), and, to decide whether fusing the update
// into the backward pays: adam_update alone on the same buffers, and the fused SGD step at the
// same batch (its backward writes no gradient).
void bench_adam(const TrainTest& raw, int64_t width, int64_t m, int64_t B, double seconds,
                int repeats, int threads) {
  TrainConfig c = bench_config(width, std::max(m, B));
  c.optimizer = Optimizer::adam;
  c.lr = 1e-3;
  c.batch = B;
  c.threads = threads;
  openblas_set_num_threads(threads);
  const PreparedData data = prepare_data(c, raw);
  Trainer t(c, data);
  Batches batches(data.train.n, 7, B);
  const double sec = best_seconds([&] { t.adam_step(batches.next()); }, seconds, repeats, 5);
  std::vector<float> p(t.params().begin(), t.params().end()), g(p.size(), 1e-3f);
  AdamState st(p.size());
  const double update =
      best_seconds([&] { adam_update(p, st, g, 1e-3, AdamHyper{}); }, seconds / 4, repeats, 5);
  TrainConfig cs = c;
  cs.optimizer = Optimizer::sgd;
  cs.lr = 0.01;
  Trainer ts(cs, data);
  const double sgd = best_seconds([&] { ts.sgd_step(batches.next()); }, seconds, repeats, 5);
  nlohmann::json j = {{"kind", "adam"},           {"engine", "initscope"},
                      {"width", width},           {"batch", B},
                      {"seconds_per_step", sec},  {"update_seconds", update},
                      {"sgd_fused_seconds", sgd}, {"flops_per_step", flops_per_step(t.net(), B)},
                      {"threads", threads}};
  j.update(machine());
  print(j);
}

// One full-batch gd step on the first m rows (loss_gradient in chunks, then the update).
void bench_gd(const TrainTest& raw, int64_t width, int64_t m, double seconds, int repeats,
              int threads) {
  TrainConfig c = bench_config(width, m);
  c.optimizer = Optimizer::gd;
  c.threads = threads;
  openblas_set_num_threads(threads);
  const PreparedData data = prepare_data(c, raw);
  Trainer t(c, data);
  const double sec = best_seconds([&] { t.gd_step(); }, seconds, repeats, 1);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  nlohmann::json j = {{"kind", "gd"},
                      {"engine", "initscope"},
                      {"width", width},
                      {"m", data.train.n},
                      {"seconds_per_step", sec},
                      {"flops_per_step", flops_per_step(t.net(), data.train.n)},
                      {"threads", threads},
                      {"peak_rss_mb", static_cast<double>(ru.ru_maxrss) / 1024.0}};
  j.update(machine());
  print(j);
}

// The SIREN-shaped benchmark (issue 10): 2→256→256→256→1, sine with ω₀ = 30 on every hidden
// layer, --init siren, MSE on one output. Its data is the 128 × 128 grid of [−1, 1]² (the
// training pixels of a 256² image at stride 2), built here rather than loaded: the step costs
// the same for any target, so the target is a binary one the trainer takes today, t = ±1 by the
// sign of sin(πx)·sin(πy) (MSE with one output, loss.hpp). bench/pytorch_reference.py --siren
// builds the same grid, network and loss.
constexpr int64_t k_siren_side = 128, k_siren_width = 256, k_siren_batch = 4096;

PreparedData siren_data() {
  PreparedData d;
  Dataset& t = d.train;
  t.n = k_siren_side * k_siren_side;
  t.dim = 2;
  t.num_classes = 2;
  t.x.resize(static_cast<size_t>(t.n * 2));
  t.y.resize(static_cast<size_t>(t.n));
  const double pi = 3.14159265358979323846;
  for (int64_t i = 0; i < k_siren_side; ++i)
    for (int64_t j = 0; j < k_siren_side; ++j) {
      const int64_t r = i * k_siren_side + j;
      const double u = -1.0 + 2.0 * static_cast<double>(i) / (k_siren_side - 1);
      const double v = -1.0 + 2.0 * static_cast<double>(j) / (k_siren_side - 1);
      t.x[static_cast<size_t>(2 * r)] = static_cast<float>(u);
      t.x[static_cast<size_t>(2 * r + 1)] = static_cast<float>(v);
      t.y[static_cast<size_t>(r)] = std::sin(pi * u) * std::sin(pi * v) > 0 ? 1 : 0;
    }
  d.test = t;
  d.outputs = 1;
  return d;
}

TrainConfig siren_config(Optimizer o, int threads) {
  TrainConfig c;
  c.activation = Activation::sine;
  c.init = InitScheme::siren;
  c.omega0 = 30.0;
  c.omega0_hidden = 30.0;
  c.width = k_siren_width;
  c.depth = 4;
  c.loss = Loss::mse;
  c.optimizer = o;
  c.lr = o == Optimizer::adam ? 1e-4 : 1e-3;
  c.momentum = o == Optimizer::adam ? 0.0 : 0.9;
  c.batch = o == Optimizer::adam ? k_siren_batch : 64;
  c.seed = 1;
  c.threads = threads;
  return c;
}

void bench_siren(double seconds, int repeats, int threads) {
  openblas_set_num_threads(threads);
  const PreparedData data = siren_data();
  {
    Trainer t(siren_config(Optimizer::gd, threads), data);
    const double sec = best_seconds([&] { t.gd_step(); }, seconds, repeats, 1);
    nlohmann::json j = {
        {"kind", "siren_gd"},      {"engine", "initscope"},
        {"width", k_siren_width},  {"m", data.train.n},
        {"seconds_per_step", sec}, {"flops_per_step", flops_per_step(t.net(), data.train.n)},
        {"threads", threads}};
    j.update(machine());
    print(j);
  }
  Trainer t(siren_config(Optimizer::adam, threads), data);
  Batches batches(data.train.n, 7, k_siren_batch);
  const double sec = best_seconds([&] { t.adam_step(batches.next()); }, seconds, repeats, 3);
  nlohmann::json j = {
      {"kind", "siren_adam"},    {"engine", "initscope"},
      {"width", k_siren_width},  {"batch", k_siren_batch},
      {"seconds_per_step", sec}, {"flops_per_step", flops_per_step(t.net(), k_siren_batch)},
      {"threads", threads}};
  j.update(machine());
  print(j);
}

// The core's FMA throughput with no memory traffic at all: 12 independent chains of vector
// FMAs (more than latency × ports, 4 × 2), the hardware ceiling no kernel can pass.
// (-Wuninitialized: GCC 12's avx512fintrin.h trips it, GCC bug 105593.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) double fma_flops_avx512(int64_t n) {
  __m512 acc[12];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);
  for (int64_t k = 0; k < n; ++k)
    for (auto& a : acc) a = _mm512_fmadd_ps(a, x, y);
  float sink = 0.0f;
  for (auto& a : acc) sink += _mm512_reduce_add_ps(a);
  return static_cast<double>(n) * 12 * 32 + (sink == 12345.0f ? 1 : 0);
}
#pragma GCC diagnostic pop
__attribute__((target("avx2,fma"))) double fma_flops_avx2(int64_t n) {
  __m256 acc[12];
  for (auto& a : acc) a = _mm256_setzero_ps();
  const __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-3f);
  for (int64_t k = 0; k < n; ++k)
    for (auto& a : acc) a = _mm256_fmadd_ps(a, x, y);
  alignas(32) float v[8];
  float sink = 0.0f;
  for (auto& a : acc) {
    _mm256_store_ps(v, a);
    for (const float f : v) sink += f;
  }
  return static_cast<double>(n) * 12 * 16 + (sink == 12345.0f ? 1 : 0);
}

// The machine's sgemm peak: OpenBLAS on the widest layer's product for the training batch
// (64 × 4096 × 4096, both operand orders the step uses) and for an evaluation chunk
// (1024 × 4096 × 4096, where its packing pays off best); the best of them. Also the FMA ceiling.
void bench_peak(double seconds, int repeats) {
  const int N = 4096, K = 4096, M_big = 1024;
  std::vector<float> a(static_cast<size_t>(M_big) * K, 0.5f), b(static_cast<size_t>(K) * N),
      c(static_cast<size_t>(M_big) * N);
  Rng r(3);
  for (auto& x : b) x = static_cast<float>(r.normal() * 0.01);
  const auto gflops = [&](int M, bool trans_b) {
    const double sec = best_seconds(
        [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                      1.0f, a.data(), K, b.data(), trans_b ? K : N, 0.0f, c.data(), N);
        },
        seconds, repeats, 1);
    return 2.0 * M * N * K / sec * 1e-9;
  };
  const double nn = gflops(64, false), nt = gflops(64, true), big = gflops(M_big, true);
  const bool avx512 = kernel_isa() == KernelIsa::avx512;
  const int64_t n = 1 << 22;
  double fma_flops = 0.0;
  const double fma = best_seconds(
      [&] { fma_flops = avx512 ? fma_flops_avx512(n) : fma_flops_avx2(n); }, seconds, repeats, 1);
  nlohmann::json j = {{"kind", "peak"},
                      {"gflops_64_nn", nn},
                      {"gflops_64_nt", nt},
                      {"gflops_1024_nt", big},
                      {"gflops", std::max({nn, nt, big})},
                      {"fma_gflops", fma_flops / fma * 1e-9}};
  j.update(machine());
  print(j);
}

// One step at `width`, phase by phase. It repeats what mlp_forward, the loss and
// mlp_backward_sgd do (same kernels, same order) with a clock read between the phases.
void bench_profile(const TrainTest& raw, int64_t width, int64_t m, double seconds) {
  const TrainConfig c = bench_config(width, m);
  const PreparedData data = prepare_data(c, raw);
  const Dataset& train = data.train;
  const Mlp net = Mlp::make({.input_dim = train.dim, .width = width, .depth = 5, .outputs = 10});
  std::vector<float> params(net.num_params), momentum(net.num_params, 0.0f);
  init_params(net, params, InitScheme::xavier_normal, 1.0, 1);
  Workspace ws = make_workspace(net, k_batch);
  std::vector<const float*> xrows(k_batch);
  std::vector<float> dlogits(static_cast<size_t>(k_batch * 10));
  std::vector<int32_t> yb(k_batch);
  Batches batches(train.n, 7);
  const int d = net.depth();
  std::map<std::string, double> total;
  const auto lap = [&](const std::string& name, double& t) {
    const double n = now();
    total[name] += n - t;
    t = n;
  };
  const auto one_step = [&] {
    double t = now();
    const auto rows = batches.next();
    for (int64_t i = 0; i < k_batch; ++i) {
      xrows[static_cast<size_t>(i)] = train.row(rows[static_cast<size_t>(i)]);
      yb[static_cast<size_t>(i)] = train.y[static_cast<size_t>(rows[static_cast<size_t>(i)])];
    }
    lap("gather", t);
    float* in_panel = ws.panel_a.data();
    float* out_panel = ws.panel_b.data();
    for (int k = 0; k < d; ++k) {
      const auto& l = net.layers[static_cast<size_t>(k)];
      ForwardArgs f;
      f.inp_rows = k == 0 ? xrows.data() : nullptr;
      f.in_panel = in_panel;
      f.w = params.data() + l.w_offset;
      f.b = params.data() + l.b_offset;
      f.out_panel = out_panel;
      f.out = k == d - 1 ? ws.logits.data() : ws.post_of(k);
      f.B = k_batch;
      f.C = l.in;
      f.OC = l.out;
      f.act = k < d - 1 ? Activation::relu : Activation::linear;
      forward_kernel(f);
      std::swap(in_panel, out_panel);
      lap(fmt::format("forward{}_{}x{}", k + 1, l.in, l.out), t);
    }
    loss_forward_backward(Loss::ce, dlogits.data(), ws.logits.data(), yb.data(), k_batch, 10,
                          1.0f / k_batch);
    lap("loss", t);
    const float* dout = dlogits.data();
    float* dinp = ws.grad_a.data();
    float* spare = ws.grad_b.data();
    for (int k = d - 1; k >= 0; --k) {
      const auto& l = net.layers[static_cast<size_t>(k)];
      if (k > 0)
        for (int64_t i = 0; i < k_batch; ++i)
          ws.layer_rows[static_cast<size_t>(i)] = ws.post_of(k - 1) + i * l.in;
      linear_backward_sgd(k == 0 ? nullptr : dinp, params.data() + l.w_offset,
                          params.data() + l.b_offset, momentum.data() + l.w_offset,
                          momentum.data() + l.b_offset, dout,
                          k == 0 ? xrows.data() : ws.layer_rows.data(), ws.pack.data(), k_batch,
                          l.in, l.out, 0.1f, 0.9f, Activation::relu);
      dout = dinp;
      std::swap(dinp, spare);
      lap(fmt::format("backward_update{}_{}x{}", k + 1, l.in, l.out), t);
    }
  };
  for (int i = 0; i < 10; ++i) one_step();
  total.clear();
  int64_t steps = 0;
  for (const double t0 = now(); now() - t0 < seconds; ++steps) one_step();
  nlohmann::json phases = nlohmann::json::object();
  double sum = 0.0;
  for (const auto& [name, sec] : total) {
    phases[name] = sec / static_cast<double>(steps);
    sum += sec;
  }
  // What training several models in lock-step on one data order could share per step: the
  // gather and the first layer's transpose of the input rows into its panel. Everything else
  // reads each model's own weights. The transpose is the first layer's forward with the input
  // rows, minus the same forward from the panel already built.
  const auto& l0 = net.layers[0];
  ForwardArgs f0;
  f0.in_panel = ws.panel_a.data();
  f0.w = params.data() + l0.w_offset;
  f0.b = params.data() + l0.b_offset;
  f0.out_panel = ws.panel_b.data();
  f0.out = ws.post_of(0);
  f0.B = k_batch;
  f0.C = l0.in;
  f0.OC = l0.out;
  f0.act = Activation::relu;
  const auto first_layer = [&](bool from_rows) {
    f0.inp_rows = from_rows ? xrows.data() : nullptr;
    return best_seconds([&] { forward_kernel(f0); }, seconds / 4, 3, 10);
  };
  const double with_transpose = first_layer(true), panel_only = first_layer(false);
  const double shareable =
      total["gather"] / static_cast<double>(steps) + std::max(0.0, with_transpose - panel_only);
  nlohmann::json j = {{"kind", "profile"}, {"width", width},
                      {"steps", steps},    {"seconds_per_step", sum / static_cast<double>(steps)},
                      {"phases", phases},  {"lockstep_shareable_seconds", shareable}};
  j.update(machine());
  print(j);
}

// Per epoch at m rows: the training steps, their gathering and the shuffle, and the
// whole-set evaluation that decides the stopping criterion; once per run, the final measures.
void bench_costs(const TrainTest& raw, int64_t width, int64_t m, double seconds, int repeats) {
  const TrainConfig c = bench_config(width, m);
  const PreparedData data = prepare_data(c, raw);
  const Dataset& train = data.train;
  Trainer t(c, data);
  Batches batches(train.n, 7);
  const double step = best_seconds([&] { t.sgd_step(batches.next()); }, seconds, repeats, 10);
  const double steps_per_epoch = std::ceil(static_cast<double>(train.n) / k_batch);
  // The step's gather: row pointers and labels (the rows are read by the first layer's
  // transpose, counted in the step), as Trainer::step does it.
  std::vector<const float*> xrows(k_batch);
  std::vector<int32_t> yb(k_batch);
  const double gather = best_seconds(
      [&] {
        const auto rows = batches.next();
        for (int64_t i = 0; i < k_batch; ++i) {
          xrows[static_cast<size_t>(i)] = train.row(rows[static_cast<size_t>(i)]);
          yb[static_cast<size_t>(i)] = train.y[static_cast<size_t>(rows[static_cast<size_t>(i)])];
        }
      },
      seconds / 4, repeats, 10);
  std::vector<int64_t> order(static_cast<size_t>(train.n));
  std::iota(order.begin(), order.end(), int64_t{0});
  Rng rng(5);
  const double shuffle =
      best_seconds([&] { rng.shuffle(std::span<int64_t>(order)); }, seconds / 4, repeats, 2);
  const double eval = best_seconds([&] { t.evaluate(train, true); }, seconds, repeats, 1);
  const Metrics init = measure_init(t.net(), t.initial_params());
  const double t0 = now();
  measure_weights(t.net(), t.params(), t.initial_params(), init, true);
  const double measures = now() - t0;
  const double epoch = step * steps_per_epoch;
  nlohmann::json j = {{"kind", "costs"},
                      {"width", width},
                      {"m", train.n},
                      {"epoch_train_seconds", epoch},
                      {"epoch_gather_seconds", gather * steps_per_epoch},
                      {"epoch_shuffle_seconds", shuffle},
                      {"epoch_eval_seconds", eval},
                      {"final_measures_seconds", measures},
                      {"eval_fraction_of_train", eval / epoch},
                      {"gather_fraction_of_train", gather * steps_per_epoch / epoch}};
  j.update(machine());
  print(j);
}

}  // namespace
}  // namespace initscope

int main(int argc, char** argv) {
  using namespace initscope;
  CLI::App app("initscope whole-step benchmark (JSON lines on stdout)");
  std::string mode = "steps";
  std::vector<int64_t> widths = {64, 256, 1024, 4096};
  int64_t m = 4096;
  double seconds = 1.0;
  int repeats = 3;
  std::string dir;
  std::vector<int> threads = {1};
  std::vector<int64_t> batches = {64, 4096};
  app.add_option("--mode", mode,
                 "steps: time a step per width; peak: the sgemm peak; profile: one "
                 "step of the first width phase by phase; costs: evaluation, gathering "
                 "and final measures per width; adam: an Adam step per width and batch; gd: a "
                 "full-batch gd step on m rows per width; siren: issue 10's SIREN-shaped gd "
                 "and Adam steps (no MNIST)")
      ->check(CLI::IsMember({"steps", "peak", "profile", "costs", "adam", "gd", "siren"}));
  app.add_option("--batches", batches, "adam: batch sizes")->delimiter(',');
  app.add_option("--widths", widths, "hidden widths H")->delimiter(',');
  app.add_option("--m", m, "training rows (the first m MNIST digits)");
  app.add_option("--seconds", seconds, "length of one timed run");
  app.add_option("--repeats", repeats, "timed runs; the best counts");
  app.add_option("--threads", threads,
                 "steps: threads per run, each timed (1 per run is what sweeps use)")
      ->delimiter(',');
  app.add_option("--activation", g_activation, "steps, costs: the hidden activation")
      ->check(CLI::IsMember(activation_names()));
  app.add_option("--data-dir", dir,
                 "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  CLI11_PARSE(app, argc, argv);
  openblas_set_num_threads(1);
  try {
    if (mode == "peak") {
      bench_peak(seconds, repeats);
      return 0;
    }
    if (mode == "siren") {
      for (const int t : threads) bench_siren(seconds, repeats, t);
      return 0;
    }
    const TrainTest raw = load_dataset(
        "mnist", data_dir(dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(dir)));
    for (const int64_t w : widths) {
      if (mode == "steps")
        for (const int t : threads) bench_step(raw, w, m, seconds, repeats, t);
      if (mode == "costs") bench_costs(raw, w, m, seconds, repeats);
      if (mode == "adam")
        for (const int64_t B : batches)
          for (const int t : threads) bench_adam(raw, w, m, B, seconds, repeats, t);
      if (mode == "gd")
        for (const int t : threads) bench_gd(raw, w, m, seconds, repeats, t);
      if (mode == "profile") bench_profile(raw, w, m, 2 * seconds);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "step_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
