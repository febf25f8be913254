// Jiang et al.'s norm, path and margin measures (norms.hpp).
#include "measure/norms.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "measure/spectral.hpp"
#include "model/activation.hpp"

namespace initscope {

double path_norm(const Mlp& net, std::span<const float> w) {
  IS_CHECK(w.size() == net.num_params);
  std::vector<double> h(static_cast<size_t>(net.spec.input_dim), 1.0), z;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const LayerSlice& l = net.layers[k];
    z.assign(static_cast<size_t>(l.out), 0.0);
    for (int64_t o = 0; o < l.out; ++o) {
      const double b = w[l.b_offset + static_cast<size_t>(o)];
      double s = b * b;
      const float* row = w.data() + l.w_offset + static_cast<size_t>(o * l.in);
      for (int64_t i = 0; i < l.in; ++i) s += static_cast<double>(row[i]) * row[i] * h[i];
      z[static_cast<size_t>(o)] = s;
    }
    if (k + 1 < net.layers.size()) {
      const double p = act_param(net.spec, static_cast<int>(k));
      for (auto& x : z) x = act_forward<double>(net.spec.activation, x, p);
    }
    h.swap(z);
  }
  double sum = 0.0;
  for (const double x : h) sum += x;
  return sum;
}

double jiang_margin(std::vector<double> margins) {
  if (margins.empty()) return NAN;
  const size_t k = std::max<size_t>(margins.size() / 10, 1);
  std::nth_element(margins.begin(), margins.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   margins.end());
  return margins[k - 1];
}

Metrics jiang_measures(const Mlp& net, std::span<const float> w, std::span<const float> w0,
                       double gamma) {
  IS_CHECK(w.size() == net.num_params && w0.size() == net.num_params);
  const double d = static_cast<double>(net.layers.size());
  double log_spec = 0.0, log_fro = 0.0, fro_over_spec = 0.0, dist_over_spec = 0.0;
  for (const LayerSlice& l : net.layers) {
    const float* wl = w.data() + l.w_offset;
    double fro2 = 0.0, dist2 = 0.0;
    for (size_t i = 0; i < l.w_size(); ++i) {
      fro2 += static_cast<double>(wl[i]) * wl[i];
      const double dd = static_cast<double>(wl[i]) - w0[l.w_offset + i];
      dist2 += dd * dd;
    }
    const double spec = spectral_norm(wl, l.out, l.in, 1e-8).sigma;
    log_spec += 2.0 * std::log(spec);
    log_fro += std::log(fro2);
    fro_over_spec += fro2 / (spec * spec);
    dist_over_spec += dist2 / (spec * spec);
  }
  Metrics m;
  m["log_prod_spec"] = log_spec;
  m["log_sum_spec"] = std::log(d) + log_spec / d;
  m["log_prod_fro"] = log_fro;
  m["log_sum_fro"] = std::log(d) + log_fro / d;
  m["fro_over_spec"] = fro_over_spec;
  m["path_norm"] = path_norm(net, w);
  if (std::isfinite(gamma)) {
    const double g = std::abs(gamma), log_g2 = 2.0 * std::log(g);
    m["jiang_margin"] = gamma;
    m["inverse_margin"] = 1.0 / (g * g);
    m["log_prod_spec_over_margin"] = log_spec - log_g2;
    m["log_sum_spec_over_margin"] = std::log(d) + (log_spec - log_g2) / d;
    m["log_prod_fro_over_margin"] = log_fro - log_g2;
    m["log_sum_fro_over_margin"] = std::log(d) + (log_fro - log_g2) / d;
    m["log_spec_orig_main"] = log_spec - log_g2 + std::log(fro_over_spec);
    m["log_spec_init_main"] = log_spec - log_g2 + std::log(dist_over_spec);
    m["path_norm_over_margin"] = m["path_norm"] / (g * g);
  }
  return m;
}

void norms_measure(const MeasureInput& in, Metrics& out) {
  // Opt-in: only when named (registry.hpp: MeasureInput::only).
  if (std::find(in.only.begin(), in.only.end(), "norms") == in.only.end()) return;
  double gamma = NAN;
  const Evaluation tr = in.evaluate(Split::train, true);
  if (!tr.regression) gamma = jiang_margin(tr.margins);
  const Metrics m = jiang_measures(*in.net, in.params, in.init, gamma);
  out.insert(m.begin(), m.end());
}

}  // namespace initscope
