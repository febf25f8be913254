// The training step's own kernels (forward through panels, backward fused with the SGD update)
// against their naive twins, on sizes that are not multiples of any vector width or tile, for
// every instruction-set path this CPU can run (each forced in turn).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/rng.hpp"
#include "model/cpu.hpp"
#include "model/kernels.hpp"
#include "model/layers.hpp"
#include "model/network.hpp"

namespace initscope {
namespace {

std::vector<float> randn(size_t n, uint64_t seed, float scale = 1.0f) {
  Rng r(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(r.normal()) * scale;
  return v;
}

// |a − b| ≤ tol·(1 + |b|), with a message naming the array and index.
void expect_close(const std::vector<float>& a, const std::vector<float>& b, float tol,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < a.size() && bad < 5; ++i)
    if (!(std::fabs(a[i] - b[i]) <= tol * (1.0f + std::fabs(b[i])))) {
      ADD_FAILURE() << what << "[" << i << "] = " << a[i] << ", reference " << b[i];
      ++bad;
    }
}

// Restores the default path after each test.
class Kernels : public ::testing::TestWithParam<KernelIsa> {
 protected:
  void SetUp() override {
    if (!set_kernel_isa(GetParam())) GTEST_SKIP() << "CPU cannot run " << to_string(GetParam());
  }
  void TearDown() override { set_kernel_isa(best_kernel_isa()); }
};

TEST_P(Kernels, ForwardMatchesReference) {
  // B spans partial vectors, one whole panel and several panels; C crosses the 256-row chunk.
  for (const int64_t B : {1, 7, 64, 70, 131})
    for (const int64_t C : {1, 19, 300})
      for (const int64_t OC : {1, 7, 13})
        for (const Activation act : k_activations) {
          // sine at SIREN's ω = 30 with small weights (its pre-activations then span many
          // periods), gaussian at s = 0.7; the others ignore it.
          const bool sine = act == Activation::sine;
          const float prm = sine ? 30.0f : 0.7f;
          const auto inp = randn(static_cast<size_t>(B * C), 1);
          const auto w = randn(static_cast<size_t>(OC * C), 2, sine ? 0.02f : 0.2f);
          const auto b = randn(static_cast<size_t>(OC), 3, sine ? 0.1f : 1.0f);
          std::vector<float> in_panel(static_cast<size_t>(panel_floats(B, C))),
              out_panel(static_cast<size_t>(panel_floats(B, OC))), out(static_cast<size_t>(B * OC)),
              deriv_panel(out_panel.size()), deriv(out.size());
          const bool stored = derivative_from(act) == DerivativeFrom::stored;
          std::vector<const float*> rows(static_cast<size_t>(B));
          for (int64_t i = 0; i < B; ++i) rows[static_cast<size_t>(i)] = inp.data() + i * C;
          ForwardArgs f;
          f.inp_rows = rows.data();
          f.in_panel = in_panel.data();
          f.w = w.data();
          f.b = b.data();
          f.out_panel = out_panel.data();
          f.out = out.data();
          f.B = B;
          f.C = C;
          f.OC = OC;
          f.act = act;
          f.act_param = prm;
          if (stored) {
            f.deriv_panel = deriv_panel.data();
            f.deriv = deriv.data();
          }
          forward_kernel(f);
          std::vector<float> pre(out.size()), ref(out.size()), dref(out.size());
          linear_forward_ref(pre.data(), inp.data(), w.data(), b.data(), B, C, OC);
          activation_forward_ref(act, ref.data(), pre.data(), B * OC, prm);
          const std::string at = to_string(act) + " B=" + std::to_string(B) +
                                 " C=" + std::to_string(C) + " OC=" + std::to_string(OC);
          // sine: a float rounding of the pre-activation moves sin(30z) by 30 times as much.
          expect_close(out, ref, sine ? 3e-5f : 1e-5f, "out " + at);
          if (stored) {  // sine: φ′/ω = cos(ωz), which moves like sin(ωz)
            for (size_t i = 0; i < pre.size(); ++i) {
              dref[i] = act_derivative(act, pre[i], prm) / (sine ? prm : 1.0f);
              deriv[i] /= sine ? prm : 1.0f;
            }
            expect_close(deriv, dref, sine ? 3e-5f : 1e-5f, "deriv " + at);
          }

          // The output panel is the next layer's input panel: chain one more layer through it.
          const int64_t OC2 = 5;
          const auto w2 = randn(static_cast<size_t>(OC2 * OC), 4, sine ? 0.01f : 0.3f);
          const auto b2 = randn(static_cast<size_t>(OC2), 5, sine ? 0.03f : 1.0f);
          std::vector<float> panel2(static_cast<size_t>(panel_floats(B, OC2))),
              out2(static_cast<size_t>(B * OC2));
          ForwardArgs g = f;
          g.inp_rows = nullptr;
          g.in_panel = out_panel.data();
          g.w = w2.data();
          g.b = b2.data();
          g.out_panel = panel2.data();
          g.out = out2.data();
          g.C = OC;
          g.OC = OC2;
          g.deriv_panel = nullptr;  // evaluation: φ only
          g.deriv = nullptr;
          forward_kernel(g);
          std::vector<float> ref2(out2.size());
          linear_forward_ref(ref2.data(), ref.data(), w2.data(), b2.data(), B, OC, OC2);
          activation_forward_ref(act, ref2.data(), ref2.data(), B * OC2, prm);
          expect_close(out2, ref2, sine ? 3e-5f : 1e-5f, "chained out2 " + at);
        }
}

TEST_P(Kernels, BackwardSgdMatchesReference) {
  // C crosses the tile width (64 floats on AVX-512, 16 on AVX2) and the 256-column chunk;
  // OC leaves a partial row block for every row tile (6 and 4).
  for (const int64_t B : {1, 13, 64})
    for (const int64_t C : {1, 17, 33, 70, 300})
      for (const int64_t OC : {1, 5, 7, 13})
        for (const bool with_dinp : {true, false}) {
          // φ of the layer below, varied with C and OC: C = 1, 70 relu; 17 tanh; 33, 300
          // linear; except that OC = 5 takes sine and OC = 7 gaussian, whose φ′ is read from
          // the rows of a stored φ′.
          const Activation act_below = !with_dinp   ? Activation::linear
                                       : OC == 5    ? Activation::sine
                                       : OC == 7    ? Activation::gaussian
                                       : C % 3 == 1 ? Activation::relu
                                       : C % 3 == 2 ? Activation::tanh
                                                    : Activation::linear;
          const auto dout = randn(static_cast<size_t>(B * OC), 11);
          auto inp = randn(static_cast<size_t>(B * C), 12);
          std::vector<float> deriv(inp.size());
          for (size_t i = 0; i < inp.size(); ++i) {  // a post-activation and its φ′
            deriv[i] = act_derivative(act_below, inp[i], 1.5f);
            inp[i] = act_forward(act_below, inp[i], 1.5f);
          }
          std::vector<const float*> drows(static_cast<size_t>(B));
          for (int64_t i = 0; i < B; ++i) drows[static_cast<size_t>(i)] = deriv.data() + i * C;
          auto w = randn(static_cast<size_t>(OC * C), 13, 0.3f),
               b = randn(static_cast<size_t>(OC), 14);
          auto vw = randn(w.size(), 15, 0.1f), vb = randn(b.size(), 16, 0.1f);
          auto w_ref = w, b_ref = b, vw_ref = vw, vb_ref = vb;
          std::vector<float> dinp(static_cast<size_t>(B * C), 123.0f), dinp_ref(dinp.size());
          std::vector<float> pack(
              static_cast<size_t>(backward_sgd_pack_floats(B, std::max(OC, C))));
          const float lr = 0.05f, mu = 0.9f;
          std::vector<const float*> rows(static_cast<size_t>(B));
          for (int64_t i = 0; i < B; ++i) rows[static_cast<size_t>(i)] = inp.data() + i * C;
          linear_backward_sgd(with_dinp ? dinp.data() : nullptr, w.data(), b.data(), vw.data(),
                              vb.data(), dout.data(), rows.data(), pack.data(), B, C, OC, lr, mu,
                              act_below, 1, drows.data());
          linear_backward_sgd_ref(with_dinp ? dinp_ref.data() : static_cast<float*>(nullptr),
                                  w_ref.data(), b_ref.data(), vw_ref.data(), vb_ref.data(),
                                  dout.data(), inp.data(), B, C, OC, lr, mu, act_below,
                                  static_cast<const float*>(deriv.data()));
          // fmt-free and without a one-character literal first: GCC 12 warns (-Wrestrict,
          // bug 105329) on " " + std::string.
          const std::string at = std::string(" phi_below=") + to_string(act_below) +
                                 " B=" + std::to_string(B) + " C=" + std::to_string(C) +
                                 " OC=" + std::to_string(OC);
          expect_close(w, w_ref, 1e-5f, "w" + at);
          expect_close(vw, vw_ref, 1e-5f, "vw" + at);
          expect_close(b, b_ref, 1e-5f, "b" + at);
          expect_close(vb, vb_ref, 1e-5f, "vb" + at);
          if (with_dinp) expect_close(dinp, dinp_ref, 1e-5f, "dinp" + at);
        }
}

// The first layer of the MNIST networks (784 inputs, from gathered rows: the forward's 196-
// column chunks, the backward's 256-column super-panels) and the layers after it, at the shapes
// the H = 64 step runs, with batch tails around one panel of 64.
TEST_P(Kernels, StepShapesMatchReference) {
  for (const int64_t B : {1, 63, 64, 65})
    for (const auto& [C, OC] :
         {std::pair<int64_t, int64_t>{784, 64}, {64, 64}, {64, 10}, {784, 10}}) {
      const std::string at =
          " B=" + std::to_string(B) + " C=" + std::to_string(C) + " OC=" + std::to_string(OC);
      auto inp = randn(static_cast<size_t>(B * C), 31);
      for (auto& x : inp) x = x > 0 ? x : 0.0f;  // a post-activation (or pixels ≥ 0)
      std::vector<const float*> rows(static_cast<size_t>(B));
      for (int64_t i = 0; i < B; ++i) rows[static_cast<size_t>(i)] = inp.data() + i * C;
      const auto w0 = randn(static_cast<size_t>(OC * C), 32, 0.05f),
                 b0 = randn(static_cast<size_t>(OC), 33);
      std::vector<float> in_panel(static_cast<size_t>(panel_floats(B, C))),
          out_panel(static_cast<size_t>(panel_floats(B, OC))), out(static_cast<size_t>(B * OC));
      ForwardArgs f;
      f.inp_rows = rows.data();
      f.in_panel = in_panel.data();
      f.w = w0.data();
      f.b = b0.data();
      f.out_panel = out_panel.data();
      f.out = out.data();
      f.B = B;
      f.C = C;
      f.OC = OC;
      f.act = Activation::relu;
      forward_kernel(f);
      std::vector<float> ref(out.size());
      linear_forward_ref(ref.data(), inp.data(), w0.data(), b0.data(), B, C, OC);
      activation_forward_ref(Activation::relu, ref.data(), ref.data(), B * OC, 1.0f);
      expect_close(out, ref, 1e-5f, "forward out" + at);

      const auto dout = randn(static_cast<size_t>(B * OC), 34, 0.1f);
      for (const bool with_dinp : {false, true}) {
        auto w = w0, b = b0, vw = randn(w0.size(), 35, 0.1f), vb = randn(b0.size(), 36, 0.1f);
        auto w_ref = w, b_ref = b, vw_ref = vw, vb_ref = vb;
        std::vector<float> dinp(static_cast<size_t>(B * C), 7.0f), dinp_ref(dinp.size());
        std::vector<float> pack(static_cast<size_t>(backward_sgd_pack_floats(B, OC)));
        linear_backward_sgd(with_dinp ? dinp.data() : nullptr, w.data(), b.data(), vw.data(),
                            vb.data(), dout.data(), rows.data(), pack.data(), B, C, OC, 0.1f, 0.9f,
                            Activation::relu, 1);
        linear_backward_sgd_ref(with_dinp ? dinp_ref.data() : static_cast<float*>(nullptr),
                                w_ref.data(), b_ref.data(), vw_ref.data(), vb_ref.data(),
                                dout.data(), inp.data(), B, C, OC, 0.1f, 0.9f, Activation::relu,
                                static_cast<const float*>(nullptr));
        const std::string bt = at + (with_dinp ? " with dinp" : " no dinp");
        expect_close(w, w_ref, 1e-5f, "w" + bt);
        expect_close(vw, vw_ref, 1e-5f, "vw" + bt);
        expect_close(b, b_ref, 1e-5f, "b" + bt);
        expect_close(vb, vb_ref, 1e-5f, "vb" + bt);
        if (with_dinp) expect_close(dinp, dinp_ref, 1e-5f, "dinp" + bt);
      }
    }
}

// The whole network: forward, then the fused backward-and-update, against the naive forward,
// backward and update; three steps so that the momentum and the updated weights are used.
TEST_P(Kernels, NetworkStepMatchesReference) {
  for (const Activation act : k_activations) {
    const Mlp net =
        Mlp::make({.input_dim = 37, .width = 29, .depth = 5, .outputs = 10, .activation = act});
    const int64_t B = 21;
    std::vector<float> p(net.num_params);
    // sine at SIREN's ω₀ = 30 needs SIREN's init: under Xavier's, sin(30·z) turns a float
    // rounding of z into a 30 times larger difference at every layer.
    init_params(net, p, act == Activation::sine ? InitScheme::siren : InitScheme::xavier_normal,
                1.0, 3);
    auto p_ref = p;
    std::vector<float> v(net.num_params, 0.0f), v_ref(net.num_params, 0.0f);
    Workspace ws = make_workspace(net, 32);
    // sine's gradients are ω = 30 times larger per layer: a step of 0.1 would throw it far from
    // the init into the regime where float roundings grow 30-fold per layer.
    const float lr = act == Activation::sine ? 1e-3f : 0.1f, mu = 0.9f;
    for (int step = 0; step < 3; ++step) {
      const auto x = randn(static_cast<size_t>(B * 37), 40 + static_cast<uint64_t>(step));
      const auto dl = randn(static_cast<size_t>(B * 10), 50 + static_cast<uint64_t>(step), 0.1f);
      const float* logits = mlp_forward(net, p.data(), x.data(), B, ws);
      const auto ref = mlp_forward_ref(net, p_ref.data(), x.data(), B);
      const std::string at = to_string(act) + " step " + std::to_string(step);
      expect_close(std::vector<float>(logits, logits + ref.size()), ref, 1e-4f, "logits " + at);
      mlp_backward_sgd(net, p.data(), v.data(), x.data(), dl.data(), B, ws, lr, mu);
      const auto g = mlp_backward_ref(net, p_ref.data(), x.data(), dl.data(), B);
      sgd_update_ref(p_ref.data(), v_ref.data(), g.data(), static_cast<int64_t>(p_ref.size()), lr,
                     mu);
      expect_close(p, p_ref, 1e-4f, "params after " + at);
      expect_close(v, v_ref, 1e-4f, "momentum after " + at);
    }
  }
}

// Split between threads, each kernel computes every output element with the same operations in
// the same order as on one thread, so the results are identical bit for bit, not just close.
TEST_P(Kernels, ThreadsGiveTheOneThreadResultsExactly) {
  const int64_t old = set_parallel_min_weights(0);  // split even these small layers
  for (const Activation act : {Activation::relu, Activation::tanh, Activation::sine})
    for (const int threads : {2, 3})
      for (const int64_t B : {13, 64, 131})
        for (const auto& [C, OC] : {std::pair<int64_t, int64_t>{300, 29}, {37, 70}, {784, 13}}) {
          const std::string at = std::string(" phi=") + to_string(act) +
                                 " threads=" + std::to_string(threads) + " B=" + std::to_string(B) +
                                 " C=" + std::to_string(C) + " OC=" + std::to_string(OC);
          const auto inp = randn(static_cast<size_t>(B * C), 21);
          std::vector<const float*> rows(static_cast<size_t>(B));
          for (int64_t i = 0; i < B; ++i) rows[static_cast<size_t>(i)] = inp.data() + i * C;
          const auto w0 = randn(static_cast<size_t>(OC * C), 22, 0.2f),
                     b0 = randn(static_cast<size_t>(OC), 23);

          // Forward: one thread, then `threads`, from the rows each time.
          std::vector<std::vector<float>> out(2, std::vector<float>(static_cast<size_t>(B * OC)));
          std::vector<std::vector<float>> out_panel(
              2, std::vector<float>(static_cast<size_t>(panel_floats(B, OC))));
          std::vector<std::vector<float>> deriv(2, std::vector<float>(static_cast<size_t>(B * OC)));
          std::vector<float> deriv_panel(static_cast<size_t>(panel_floats(B, OC)));
          for (int run = 0; run < 2; ++run) {
            std::vector<float> in_panel(static_cast<size_t>(panel_floats(B, C)));
            ForwardArgs f;
            f.inp_rows = rows.data();
            f.in_panel = in_panel.data();
            f.w = w0.data();
            f.b = b0.data();
            f.out_panel = out_panel[static_cast<size_t>(run)].data();
            f.out = out[static_cast<size_t>(run)].data();
            f.B = B;
            f.C = C;
            f.OC = OC;
            f.act = act;
            f.act_param = 3.0f;
            if (act == Activation::sine) {
              f.deriv_panel = deriv_panel.data();
              f.deriv = deriv[static_cast<size_t>(run)].data();
            }
            f.threads = run == 0 ? 1 : threads;
            forward_kernel(f);
          }
          EXPECT_EQ(out[0], out[1]) << "forward out" << at;
          EXPECT_EQ(deriv[0], deriv[1]) << "forward deriv" << at;
          EXPECT_EQ(out_panel[0], out_panel[1]) << "forward panel" << at;

          // Backward with the update: the same, from the same weights and momentum.
          const auto dout = randn(static_cast<size_t>(B * OC), 24);
          std::vector<std::vector<float>> w(2, w0), b(2, b0), vw(2, randn(w0.size(), 25, 0.1f)),
              vb(2, randn(b0.size(), 26, 0.1f)),
              dinp(2, std::vector<float>(static_cast<size_t>(B * C)));
          const auto dbelow = randn(static_cast<size_t>(B * C), 27);  // a stored φ′ below
          std::vector<const float*> drows(static_cast<size_t>(B));
          for (int64_t i = 0; i < B; ++i) drows[static_cast<size_t>(i)] = dbelow.data() + i * C;
          for (int run = 0; run < 2; ++run) {
            const int t = run == 0 ? 1 : threads;
            const auto r = static_cast<size_t>(run);
            std::vector<float> pack(static_cast<size_t>(backward_sgd_pack_floats(B, OC, t)));
            linear_backward_sgd(dinp[r].data(), w[r].data(), b[r].data(), vw[r].data(),
                                vb[r].data(), dout.data(), rows.data(), pack.data(), B, C, OC,
                                0.05f, 0.9f, act, t, drows.data());
          }
          EXPECT_EQ(w[0], w[1]) << "w" << at;
          EXPECT_EQ(vw[0], vw[1]) << "vw" << at;
          EXPECT_EQ(b[0], b[1]) << "b" << at;
          EXPECT_EQ(dinp[0], dinp[1]) << "dinp" << at;
        }
  set_parallel_min_weights(old);
}

// The threaded path against the naive twins too: a few steps of a whole network.
TEST_P(Kernels, ThreadedNetworkStepMatchesReference) {
  const int64_t old = set_parallel_min_weights(0);
  const Mlp net = Mlp::make({.input_dim = 70, .width = 45, .depth = 4, .outputs = 10});
  const int64_t B = 64;
  std::vector<float> p(net.num_params);
  init_params(net, p, InitScheme::xavier_normal, 1.0, 5);
  auto p_ref = p;
  std::vector<float> v(net.num_params, 0.0f), v_ref(net.num_params, 0.0f);
  Workspace ws = make_workspace(net, B, /*backward=*/true, /*threads=*/2);
  for (int step = 0; step < 3; ++step) {
    const auto x = randn(static_cast<size_t>(B * 70), 60 + static_cast<uint64_t>(step));
    const auto dl = randn(static_cast<size_t>(B * 10), 70 + static_cast<uint64_t>(step), 0.1f);
    const float* logits = mlp_forward(net, p.data(), x.data(), B, ws);
    const auto ref = mlp_forward_ref(net, p_ref.data(), x.data(), B);
    expect_close(std::vector<float>(logits, logits + ref.size()), ref, 1e-4f, "logits");
    mlp_backward_sgd(net, p.data(), v.data(), x.data(), dl.data(), B, ws, 0.1f, 0.9f);
    const auto g = mlp_backward_ref(net, p_ref.data(), x.data(), dl.data(), B);
    sgd_update_ref(p_ref.data(), v_ref.data(), g.data(), static_cast<int64_t>(p_ref.size()), 0.1f,
                   0.9f);
    expect_close(p, p_ref, 1e-4f, "params after step " + std::to_string(step));
  }
  set_parallel_min_weights(old);
}

std::string isa_name(const ::testing::TestParamInfo<KernelIsa>& p) {
  return to_string(p.param);
}

// Evaluation workspaces (no backward) with many rows take the OpenBLAS route; few rows the
// panel kernels. Both against the naive forward.
TEST(Network, EvaluationForwardMatchesReference) {
  const Mlp net = Mlp::make({.input_dim = 37, .width = 29, .depth = 5, .outputs = 10});
  std::vector<float> p(net.num_params);
  init_params(net, p, InitScheme::xavier_normal, 1.0, 4);
  for (auto& v : p) v += 0.01f;  // nonzero biases
  for (const int64_t B : {13, 300}) {
    const auto x = randn(static_cast<size_t>(B * 37), 60);
    Workspace ws = make_workspace(net, 300, /*backward=*/false);
    const float* logits = mlp_forward(net, p.data(), x.data(), B, ws);
    const auto ref = mlp_forward_ref(net, p.data(), x.data(), B);
    expect_close(std::vector<float>(logits, logits + ref.size()), ref, 1e-4f,
                 "logits B=" + std::to_string(B));
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, Kernels,
                         ::testing::Values(KernelIsa::generic, KernelIsa::avx2, KernelIsa::avx512),
                         isa_name);

TEST(Cpu, BestPathIsInUseAndBlasCoreIsNamed) {
  if (!std::getenv("INITSCOPE_KERNELS")) {
    EXPECT_EQ(kernel_isa(), best_kernel_isa());
  }
  EXPECT_TRUE(set_kernel_isa(KernelIsa::generic));
  EXPECT_EQ(kernel_isa(), KernelIsa::generic);
  EXPECT_TRUE(set_kernel_isa(best_kernel_isa()));
  EXPECT_STRNE(blas_core_name(), "");
  EXPECT_STRNE(blas_core_selection(), "");
}

}  // namespace
}  // namespace initscope
