// Curvature timings for bench/hessian.sh, one JSON object on stdout: on the NK17 network
// (784-H-H-H-H-10, Xavier init from --seed, cross-entropy) over the first --rows MNIST digits,
//   grad_seconds     one gradient of the mean loss (loss_gradient, the gd path), best of 3;
//   hvp_seconds      one Hessian-vector product (hessian_vector_product<float>), best of 3, and
//                    hvp_over_grad, their ratio: the product's cost in gradient evaluations;
//   lanczos_seconds  λ_max by lanczos_extremes with exactly --lanczos products (rel_tol 0, so
//                    no early stop), as --flatness lambda_max runs it;
//   trace_seconds    Hutchinson's trace with exactly --probes Rademacher probes;
// with the values found (lambda_max, trace, trace_se), so that bench/pytorch_hessian.py, which
// reads the weights written to --save-weights, can be checked to compute the same thing.
//   hessian_bench --width H [--rows 4096] [--lanczos 20] [--probes 100] [--threads 1]
//                 [--save-weights FILE] [--data-dir DIR]
#include <cblas.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <numeric>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/rng.hpp"
#include "data/dataset.hpp"
#include "measure/hessian.hpp"
#include "objective/gradient.hpp"
#include "run/checkpoint.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace initscope;
  CLI::App app{"Hessian-vector product, Lanczos and Hutchinson timings"};
  int64_t width = 256, rows = 4096;
  int lanczos = 20, probes = 100, threads = 1;
  uint64_t seed = 1;
  std::string save, dir;
  app.add_option("--width", width);
  app.add_option("--rows", rows);
  app.add_option("--lanczos", lanczos);
  app.add_option("--probes", probes);
  app.add_option("--threads", threads);
  app.add_option("--seed", seed);
  app.add_option("--save-weights", save);
  app.add_option("--data-dir", dir);
  CLI11_PARSE(app, argc, argv);
  openblas_set_num_threads(threads);

  TrainConfig c;
  c.dataset = "mnist";
  c.width = width;
  c.m = rows;
  c.subset = SubsetMode::first;
  c.seed = seed;
  const PreparedData data = prepare_data(
      c, load_dataset("mnist", dir.empty() ? data_dir(std::nullopt) : std::filesystem::path(dir)));
  const Trainer trainer(c, data);  // its initialization: the NK17 network's Xavier init
  const Mlp& net = trainer.net();
  const std::span<const float> w = trainer.params();
  if (!save.empty()) save_params(save, net, w);
  std::vector<int64_t> idx(static_cast<size_t>(data.train.n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  const LossRows lr{data.train.x.data(), data.train.y.data(), nullptr, idx, c.loss};
  const size_t P = net.num_params;

  GradientWorkspace gw = make_gradient_workspace(net, k_gradient_chunk, threads);
  std::vector<float> g(P);
  double grad_s = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto t = std::chrono::steady_clock::now();
    loss_gradient(net, w, c.loss, lr.x, lr.y, nullptr, idx, g, gw);
    grad_s = std::min(grad_s, seconds_since(t));
  }
  HvpWorkspace<float> hw = make_hvp_workspace<float>(net);
  std::vector<float> vf(P);
  std::vector<double> hv(P);
  Rng rng(derive_seed(seed, "bench-v"));
  for (auto& x : vf) x = static_cast<float>(rng.normal());
  double hvp_s = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto t = std::chrono::steady_clock::now();
    hessian_vector_product<float>(net, w, lr, vf, hv, hw);
    hvp_s = std::min(hvp_s, seconds_since(t));
  }
  const SymmetricOp op = [&](std::span<const double> v, std::span<double> o) {
    std::copy(v.begin(), v.end(), vf.begin());
    hessian_vector_product<float>(net, w, lr, vf, o, hw);
  };
  auto t = std::chrono::steady_clock::now();
  const LanczosResult lz = lanczos_extremes(op, P, 1, lanczos, 0.0, derive_seed(seed, "lanczos"),
                                            /*want_min=*/false);
  const double lanczos_s = seconds_since(t);
  t = std::chrono::steady_clock::now();
  const TraceResult tr = hutchinson_trace(op, P, probes, probes, 0.0, derive_seed(seed, "hutch"));
  const double trace_s = seconds_since(t);
  const nlohmann::json out = {{"engine", "initscope"},     {"width", width},
                              {"rows", data.train.n},      {"threads", threads},
                              {"num_params", P},           {"grad_seconds", grad_s},
                              {"hvp_seconds", hvp_s},      {"hvp_over_grad", hvp_s / grad_s},
                              {"lanczos_steps", lz.steps}, {"lanczos_seconds", lanczos_s},
                              {"lambda_max", lz.top[0]},   {"probes", tr.probes},
                              {"trace_seconds", trace_s},  {"trace", tr.trace},
                              {"trace_se", tr.se}};
  fmt::print("{}\n", out.dump());
  return 0;
}
