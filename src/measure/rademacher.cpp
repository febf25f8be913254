// Theorem 5.1's Rademacher complexity of linear networks near their initialization, estimated
// by projected gradient ascent over ξ draws (see rademacher.hpp).
#include "measure/rademacher.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/rng.hpp"

namespace initscope {

namespace {

// A start ends when a step gains less than this, relative: far below the Monte Carlo error
// over ξ (several percent with 20 draws).
constexpr double k_tolerance = 1e-8;

// g(θ) = (1/m)·f̃_θ(v, s) and its gradient, in double, for a linear network with one output.
class Objective {
 public:
  Objective(const Mlp& net, std::span<const double> v, double s, int64_t m)
      : net_(net), v_(v), s_(s), m_(static_cast<double>(m)) {
    for (const auto& L : net.layers) acts_.emplace_back(static_cast<size_t>(L.out));
    delta_.resize(static_cast<size_t>(std::max<int64_t>(net.max_width(), net.layers[0].in)));
    below_.resize(delta_.size());
  }

  double value(const std::vector<double>& theta) {
    forward(theta);
    return acts_.back()[0] / m_;
  }

  // Fills grad (num_params) and returns g(θ).
  double value_and_gradient(const std::vector<double>& theta, std::vector<double>& grad) {
    forward(theta);
    const int d = net_.depth();
    std::fill(delta_.begin(), delta_.end(), 0.0);
    delta_[0] = 1.0 / m_;  // ∂g/∂z_d
    for (int k = d - 1; k >= 0; --k) {
      const LayerSlice& L = net_.layers[static_cast<size_t>(k)];
      const double* inp = k == 0 ? v_.data() : acts_[static_cast<size_t>(k - 1)].data();
      for (int64_t o = 0; o < L.out; ++o) {
        const double dz = delta_[static_cast<size_t>(o)];
        double* gw = grad.data() + L.w_offset + static_cast<size_t>(o * L.in);
        for (int64_t j = 0; j < L.in; ++j) gw[j] = dz * inp[j];
        grad[L.b_offset + static_cast<size_t>(o)] = dz * s_;
      }
      if (k == 0) break;
      std::fill(below_.begin(), below_.begin() + L.in, 0.0);
      for (int64_t o = 0; o < L.out; ++o) {
        const double dz = delta_[static_cast<size_t>(o)];
        const double* w = theta.data() + L.w_offset + static_cast<size_t>(o * L.in);
        for (int64_t j = 0; j < L.in; ++j) below_[static_cast<size_t>(j)] += dz * w[j];
      }
      std::swap(delta_, below_);  // linear: φ′ = 1
    }
    return acts_.back()[0] / m_;
  }

 private:
  void forward(const std::vector<double>& theta) {
    for (size_t k = 0; k < net_.layers.size(); ++k) {
      const LayerSlice& L = net_.layers[k];
      const double* inp = k == 0 ? v_.data() : acts_[k - 1].data();
      for (int64_t o = 0; o < L.out; ++o) {
        const double* w = theta.data() + L.w_offset + static_cast<size_t>(o * L.in);
        double z = s_ * theta[L.b_offset + static_cast<size_t>(o)];
        for (int64_t j = 0; j < L.in; ++j) z += w[j] * inp[j];
        acts_[k][static_cast<size_t>(o)] = z;
      }
    }
  }

  const Mlp& net_;
  std::span<const double> v_;
  double s_;
  double m_;
  std::vector<std::vector<double>> acts_;
  std::vector<double> delta_, below_;
};

double norm(const std::vector<double>& a) {
  double s = 0.0;
  for (double x : a) s += x * x;
  return std::sqrt(s);
}

}  // namespace

double rademacher_sup(const Mlp& net, std::span<const float> init, std::span<const double> v,
                      double s, int64_t m, const RademacherOptions& opt, uint64_t rng_seed,
                      double* worst, double* centre, int* steps) {
  IS_CHECK(net.spec.activation == Activation::linear && net.layers.back().out == 1,
           "Theorem 5.1's estimate needs a linear network with one output");
  IS_CHECK(init.size() == net.num_params && opt.starts >= 1 && opt.radius > 0);
  const size_t P = net.num_params;
  const std::vector<double> theta0(init.begin(), init.end());
  Objective g(net, v, s, m);
  std::vector<double> theta(P), grad(P), cand(P), cand_grad(P), u(P);
  Rng rng(rng_seed);
  const double r = opt.radius;
  double best = -std::numeric_limits<double>::infinity();
  double low = std::numeric_limits<double>::infinity();
  for (int start = 0; start < opt.starts; ++start) {
    if (start == 0) {
      theta = theta0;
    } else {  // a uniformly random point of the sphere
      for (size_t i = 0; i < P; ++i) u[i] = rng.normal();
      const double un = norm(u);
      for (size_t i = 0; i < P; ++i) theta[i] = theta0[i] + r * u[i] / un;
    }
    double value = g.value_and_gradient(theta, grad);
    if (start == 0 && centre) *centre = value;
    // α grows while steps succeed (towards θ₀ + r·∇g/‖∇g‖, the fixed point of the ascent) and
    // shrinks when one fails, so that the value never decreases.
    double alpha = 1.0;
    for (int step = 0; step < opt.steps && alpha > 1e-6; ++step) {
      if (steps) ++*steps;
      const double gn = norm(grad);
      if (!(gn > 0.0)) break;
      for (size_t i = 0; i < P; ++i) u[i] = theta[i] - theta0[i] + alpha * r * grad[i] / gn;
      const double un = norm(u);
      for (size_t i = 0; i < P; ++i) cand[i] = theta0[i] + r * u[i] / un;
      const double cv = g.value_and_gradient(cand, cand_grad);
      if (cv > value) {
        const double gain = (cv - value) / std::max(std::fabs(cv), 1e-300);
        std::swap(theta, cand);
        std::swap(grad, cand_grad);
        value = cv;
        if (gain < k_tolerance) break;
        alpha = std::min(alpha * 2.0, 1e6);
      } else {
        alpha *= 0.25;
      }
    }
    best = std::max(best, value);
    low = std::min(low, value);
  }
  if (worst) *worst = low;
  return best;
}

RademacherEstimate estimate_rademacher(const Mlp& net, std::span<const float> init,
                                       std::span<const float> x, int64_t n,
                                       const RademacherOptions& opt) {
  const int64_t dim = net.layers.front().in;
  IS_CHECK(x.size() == static_cast<size_t>(n * dim) && n > 0 && opt.draws >= 1);
  RademacherEstimate e;
  for (int64_t i = 0; i < n; ++i) {
    double x2 = 0.0;
    for (int64_t j = 0; j < dim; ++j) x2 += double(x[i * dim + j]) * x[i * dim + j];
    e.x_norm_max = std::max(e.x_norm_max, std::sqrt(x2));
  }
  Rng xi_rng(derive_seed(opt.seed, "rademacher-xi"));
  std::vector<double> v(static_cast<size_t>(dim)), sups;
  double centre_sum = 0.0, gap_sum = 0.0;
  int steps = 0;
  for (int draw = 0; draw < opt.draws; ++draw) {
    std::fill(v.begin(), v.end(), 0.0);
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double xi = xi_rng.below(2) ? 1.0 : -1.0;
      s += xi;
      for (int64_t j = 0; j < dim; ++j) v[static_cast<size_t>(j)] += xi * x[i * dim + j];
    }
    double worst = 0.0, centre = 0.0;
    const double sup = rademacher_sup(
        net, init, v, s, n, opt, derive_seed(opt.seed, "rademacher-start/" + std::to_string(draw)),
        &worst, &centre, &steps);
    sups.push_back(sup);
    centre_sum += centre;
    gap_sum += (sup - worst) / std::max(std::fabs(sup), 1e-300);
  }
  double sum = 0.0;
  for (double s : sups) sum += s;
  e.draws = opt.draws;
  e.mean = sum / opt.draws;
  double ss = 0.0;
  for (double s : sups) ss += (s - e.mean) * (s - e.mean);
  e.se = opt.draws > 1 ? std::sqrt(ss / (opt.draws - 1)) / std::sqrt(double(opt.draws)) : 0.0;
  e.centre = centre_sum / opt.draws;
  e.start_gap = gap_sum / opt.draws;
  e.steps = static_cast<double>(steps) / (opt.draws * opt.starts);
  return e;
}

void add_rademacher_metrics(const RademacherEstimate& e, const Mlp& net, double radius, int64_t m,
                            Metrics& out) {
  const int d = net.depth();
  out["rademacher"] = e.mean;
  out["rademacher_se"] = e.se;
  out["rademacher_centre"] = e.centre;
  out["rademacher_start_gap"] = e.start_gap;
  out["rademacher_steps"] = e.steps;
  out["rademacher_draws"] = e.draws;
  out["rademacher_radius"] = radius;
  out["rademacher_bound_shape"] =
      d * std::pow(radius + 1.0, d) * e.x_norm_max / std::sqrt(static_cast<double>(m));
}

}  // namespace initscope
