// Google Benchmark micro-benchmarks of one hidden layer (B = 64 rows, H → H) of the training
// step: each of our kernels next to the OpenBLAS calls it replaces, in the same process.
//   forward:       φ(X·Wᵀ + b)           ours (panels)      vs sgemm NT + bias/ReLU pass
//   backward data: dX = dZ·W              (inside ours)      vs sgemm NN
//   weight grad + update: g = dZᵀ·X, v ← μv + g, w ← w − lr·v
//                                         ours (fused)       vs sgemm TN to a buffer + update loop
//   backward+update: all of the above     ours (one pass)    vs sgemm NN + TN + update loop
// FLOP counts: 2·B·H² per product, so the fused backward counts 4·B·H².
// The first layer (C inputs → OC, no data gradient) as the step runs it, its B rows gathered at
// random from a training set larger than L2: BM_first_forward (transpose into the panel and
// the product; range(2) = 0 reads the panel already built), BM_first_weight_update; and the
// loss (softmax cross-entropy on B × 10 logits, the trainer's loss_forward_backward).
// Run: build/bench/kernels_bench [--benchmark_filter=...]; kernel path and BLAS core printed first.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdio>
#include <vector>

#include "common/rng.hpp"
#include "model/cpu.hpp"
#include "model/kernels.hpp"
#include "model/layers.hpp"
#include "objective/loss.hpp"

namespace initscope {
namespace {

constexpr int64_t k_batch = 64;

struct Layer {
  int64_t B, H;
  std::vector<float> x, w, b, vw, vb, out, dz, dx, grad, in_panel, out_panel, pack;
  std::vector<const float*> rows;  // x's rows by pointer
  Layer(int64_t batch, int64_t width) : B(batch), H(width) {
    Rng r(1);
    const auto fill = [&](std::vector<float>& v, size_t n, double s) {
      v.resize(n);
      for (auto& e : v) e = static_cast<float>(r.normal() * s);
    };
    const size_t n = static_cast<size_t>(H * H), m = static_cast<size_t>(B * H);
    fill(x, m, 1.0);
    for (auto& e : x) e = e > 0 ? e : 0.0f;  // a post-activation
    fill(w, n, 1.0 / static_cast<double>(H));
    fill(b, static_cast<size_t>(H), 0.01);
    fill(vw, n, 1e-3);
    fill(vb, static_cast<size_t>(H), 1e-3);
    fill(dz, m, 1e-2);
    out.assign(m, 0.0f);
    dx.assign(m, 0.0f);
    in_panel.assign(static_cast<size_t>(panel_floats(B, H)), 0.0f);
    out_panel.assign(static_cast<size_t>(panel_floats(B, H)), 0.0f);
    pack.assign(static_cast<size_t>(backward_sgd_pack_floats(B, H)), 0.0f);
    for (int64_t i = 0; i < B; ++i) rows.push_back(x.data() + i * H);
  }
  // The weights drift under repeated updates; tiny lr keeps them (and the timings) stable.
  static constexpr float lr = 1e-6f, mu = 0.9f;
};

void set_rate(benchmark::State& s, double flops) {
  s.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

double product_flops(const Layer& l) {
  return 2.0 * static_cast<double>(l.B * l.H * l.H);
}

// range(1): rows; 64 is the training batch, 1024 the evaluation chunk.
void BM_forward_ours(benchmark::State& s) {
  Layer l(s.range(1), s.range(0));
  ForwardArgs f;
  f.inp_rows = l.rows.data();
  f.in_panel = l.in_panel.data();
  f.w = l.w.data();
  f.b = l.b.data();
  f.out_panel = l.out_panel.data();
  f.out = l.out.data();
  f.B = l.B;
  f.C = l.H;
  f.OC = l.H;
  f.act = Activation::relu;
  for (auto _ : s) forward_kernel(f);
  set_rate(s, product_flops(l));
}

void BM_forward_openblas(benchmark::State& s) {
  Layer l(s.range(1), s.range(0));
  for (auto _ : s)
    linear_act_forward(l.dz.data(), l.out.data(), l.x.data(), l.w.data(), l.b.data(), l.B, l.H, l.H,
                       Activation::relu, 1.0f);
  set_rate(s, product_flops(l));
}

void BM_backward_data_openblas(benchmark::State& s) {
  Layer l(k_batch, s.range(0));
  const int n = static_cast<int>(l.H), b = static_cast<int>(l.B);
  for (auto _ : s)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, n, n, 1.0f, l.dz.data(), n,
                l.w.data(), n, 0.0f, l.dx.data(), n);
  set_rate(s, product_flops(l));
}

// The fused kernel without the data gradient (as for the first layer): weight gradient in
// registers and the momentum update, one pass over w and vw.
void BM_weight_grad_update_ours(benchmark::State& s) {
  Layer l(k_batch, s.range(0));
  for (auto _ : s)
    linear_backward_sgd(nullptr, l.w.data(), l.b.data(), l.vw.data(), l.vb.data(), l.dz.data(),
                        l.rows.data(), l.pack.data(), l.B, l.H, l.H, Layer::lr, Layer::mu,
                        Activation::linear);
  set_rate(s, product_flops(l));
}

void BM_weight_grad_update_openblas(benchmark::State& s) {
  Layer l(k_batch, s.range(0));
  l.grad.assign(l.w.size(), 0.0f);
  const int n = static_cast<int>(l.H), b = static_cast<int>(l.B);
  for (auto _ : s) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, b, 1.0f, l.dz.data(), n, l.x.data(),
                n, 0.0f, l.grad.data(), n);
    sgd_update_ref(l.w.data(), l.vw.data(), l.grad.data(), static_cast<int64_t>(l.w.size()),
                   Layer::lr, Layer::mu);
  }
  set_rate(s, product_flops(l));
}

void BM_backward_update_ours(benchmark::State& s) {
  Layer l(k_batch, s.range(0));
  for (auto _ : s)
    linear_backward_sgd(l.dx.data(), l.w.data(), l.b.data(), l.vw.data(), l.vb.data(), l.dz.data(),
                        l.rows.data(), l.pack.data(), l.B, l.H, l.H, Layer::lr, Layer::mu,
                        Activation::relu);
  set_rate(s, 2 * product_flops(l));
}

void BM_backward_update_openblas(benchmark::State& s) {
  Layer l(k_batch, s.range(0));
  l.grad.assign(l.w.size(), 0.0f);
  const int n = static_cast<int>(l.H), b = static_cast<int>(l.B);
  for (auto _ : s) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, n, n, 1.0f, l.dz.data(), n,
                l.w.data(), n, 0.0f, l.dx.data(), n);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, b, 1.0f, l.dz.data(), n, l.x.data(),
                n, 0.0f, l.grad.data(), n);
    sgd_update_ref(l.w.data(), l.vw.data(), l.grad.data(), static_cast<int64_t>(l.w.size()),
                   Layer::lr, Layer::mu);
  }
  set_rate(s, 2 * product_flops(l));
}

// A first layer: B rows drawn from n_rows of C inputs (MNIST: 784), OC outputs.
struct FirstLayer {
  int64_t B, C, OC;
  std::vector<float> data, w, b, vw, vb, out, dz, in_panel, out_panel, pack;
  std::vector<const float*> rows;
  FirstLayer(int64_t batch, int64_t c, int64_t oc, int64_t n_rows = 4096) : B(batch), C(c), OC(oc) {
    Rng r(2);
    const auto fill = [&](std::vector<float>& v, size_t n, double s) {
      v.resize(n);
      for (auto& e : v) e = static_cast<float>(r.normal() * s);
    };
    fill(data, static_cast<size_t>(n_rows * C), 1.0);
    fill(w, static_cast<size_t>(C * OC), 1.0 / static_cast<double>(C));
    fill(b, static_cast<size_t>(OC), 0.01);
    fill(vw, static_cast<size_t>(C * OC), 1e-3);
    fill(vb, static_cast<size_t>(OC), 1e-3);
    fill(dz, static_cast<size_t>(B * OC), 1e-2);
    out.assign(static_cast<size_t>(B * OC), 0.0f);
    in_panel.assign(static_cast<size_t>(panel_floats(B, C)), 0.0f);
    out_panel.assign(static_cast<size_t>(panel_floats(B, OC)), 0.0f);
    pack.assign(static_cast<size_t>(backward_sgd_pack_floats(B, OC)), 0.0f);
    rows.resize(static_cast<size_t>(B));
    next(r);
  }
  void next(Rng& r) {  // a new random batch of rows, as an epoch's shuffled order gives them
    const int64_t n = static_cast<int64_t>(data.size()) / C;
    for (auto& p : rows) p = data.data() + static_cast<int64_t>(r.uniform() * n) % n * C;
  }
};

void BM_first_forward(benchmark::State& s) {
  FirstLayer l(k_batch, s.range(0), s.range(1));
  Rng r(3);
  ForwardArgs f;
  f.in_panel = l.in_panel.data();
  f.w = l.w.data();
  f.b = l.b.data();
  f.out_panel = l.out_panel.data();
  f.out = l.out.data();
  f.B = l.B;
  f.C = l.C;
  f.OC = l.OC;
  f.act = Activation::relu;
  f.inp_rows = l.rows.data();
  forward_kernel(f);  // the panel, for range(2) = 0
  if (s.range(2) == 0) f.inp_rows = nullptr;
  for (auto _ : s) {
    s.PauseTiming();
    l.next(r);
    s.ResumeTiming();
    forward_kernel(f);
  }
  set_rate(s, 2.0 * static_cast<double>(l.B * l.C * l.OC));
}

// The transpose of the gathered rows into the panel alone (AVX-512 path; range(2) = 0: the same
// rows every time, warm in cache; 1: new rows each time, as a step meets them).
void BM_first_transpose(benchmark::State& s) {
  FirstLayer l(k_batch, s.range(0), s.range(1));
  Rng r(3);
  ForwardArgs f;
  f.in_panel = l.in_panel.data();
  f.inp_rows = l.rows.data();
  f.B = l.B;
  f.C = l.C;
  f.OC = l.OC;
  for (auto _ : s) {
    if (s.range(2)) {
      s.PauseTiming();
      l.next(r);
      s.ResumeTiming();
    }
    avx512::transpose_input(f, 0, l.C);
  }
}

// range(2) = 0: the same rows every time, as in the step, where the forward has just read
// them; 1: new rows each time.
void BM_first_weight_update(benchmark::State& s) {
  FirstLayer l(k_batch, s.range(0), s.range(1));
  Rng r(3);
  for (auto _ : s) {
    if (s.range(2)) {
      s.PauseTiming();
      l.next(r);
      s.ResumeTiming();
    }
    linear_backward_sgd(nullptr, l.w.data(), l.b.data(), l.vw.data(), l.vb.data(), l.dz.data(),
                        l.rows.data(), l.pack.data(), l.B, l.C, l.OC, Layer::lr, Layer::mu,
                        Activation::linear);
  }
  set_rate(s, 2.0 * static_cast<double>(l.B * l.C * l.OC));
}

void BM_loss_ce(benchmark::State& s) {
  const int64_t B = k_batch, K = s.range(0);
  Rng r(4);
  std::vector<float> logits(static_cast<size_t>(B * K)), dlogits(logits.size());
  std::vector<double> losses(static_cast<size_t>(B));
  std::vector<int32_t> y(static_cast<size_t>(B));
  for (auto& v : logits) v = static_cast<float>(r.normal() * 3.0);
  for (auto& v : y) v = static_cast<int32_t>(r.uniform() * static_cast<double>(K)) % K;
  for (auto _ : s) {
    benchmark::DoNotOptimize(loss_forward_backward(Loss::ce, dlogits.data(), logits.data(),
                                                   y.data(), B, K, 1.0f / B, losses.data()));
    benchmark::ClobberMemory();
  }
}

// The machine's sgemm reference point: OpenBLAS on the forward's shape (B × H × H, NT), the
// best-performing of the step's shapes.
void BM_sgemm_peak(benchmark::State& s) {
  Layer l(k_batch, s.range(0));
  const int n = static_cast<int>(l.H), b = static_cast<int>(l.B);
  for (auto _ : s)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, n, n, 1.0f, l.x.data(), n, l.w.data(),
                n, 0.0f, l.out.data(), n);
  set_rate(s, product_flops(l));
}

void widths(benchmark::internal::Benchmark* b) {
  for (const int64_t h : {64, 256, 1024, 4096}) b->Arg(h);
  b->Unit(benchmark::kMicrosecond);
}
void widths_and_rows(benchmark::internal::Benchmark* b) {
  for (const int64_t rows : {64, 1024})
    for (const int64_t h : {64, 256, 1024, 4096}) b->Args({h, rows});
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_forward_ours)->Apply(widths_and_rows);
BENCHMARK(BM_forward_openblas)->Apply(widths_and_rows);
BENCHMARK(BM_backward_data_openblas)->Apply(widths);
BENCHMARK(BM_weight_grad_update_ours)->Apply(widths);
BENCHMARK(BM_weight_grad_update_openblas)->Apply(widths);
BENCHMARK(BM_backward_update_ours)->Apply(widths);
BENCHMARK(BM_backward_update_openblas)->Apply(widths);
BENCHMARK(BM_sgemm_peak)->Apply(widths);
BENCHMARK(BM_first_forward)
    ->Args({784, 64, 1})
    ->Args({784, 64, 0})
    ->Args({784, 256, 1})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_first_transpose)
    ->Args({784, 64, 0})
    ->Args({784, 64, 1})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_first_weight_update)
    ->Args({784, 64, 0})
    ->Args({784, 64, 1})
    ->Args({784, 256, 0})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_loss_ce)->Arg(10)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace initscope

int main(int argc, char** argv) {
  openblas_set_num_threads(1);
  std::printf("kernel path %s, OpenBLAS core %s\n", initscope::to_string(initscope::kernel_isa()),
              initscope::blas_core_selection());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
