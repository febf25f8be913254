// Distance from initialization and norm measures; see weights.hpp.
#include "measure/weights.hpp"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"
#include "measure/spectral.hpp"

namespace initscope {

namespace {

double sum_sq(const float* a, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * static_cast<double>(a[i]);
  return s;
}

double sum_sq_diff(const float* a, const float* b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    s += d * d;
  }
  return s;
}

std::string key(const char* stem, size_t k) {
  return fmt::format("{}{}", stem, k + 1);
}

}  // namespace

Metrics measure_init(const Mlp& net, std::span<const float> z) {
  IS_CHECK(z.size() == net.num_params);
  Metrics m;
  double prod_fro2 = 1.0, prod_spec = 1.0;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const auto& l = net.layers[k];
    const float* zk = z.data() + l.w_offset;
    const double fro2 = sum_sq(zk, l.w_size());
    const double spec = spectral_norm(zk, l.out, l.in).sigma;
    m[key("fro_z", k)] = std::sqrt(fro2);
    m[key("spec_z", k)] = spec;
    prod_fro2 *= fro2;
    prod_spec *= spec;
  }
  m["prod_fro2_z"] = prod_fro2;
  m["prod_spec_z"] = prod_spec;
  m["spec_complexity_z"] =
      std::pow(static_cast<double>(net.spec.width), net.depth() - 1) * prod_spec;
  m["init_norm"] = std::sqrt(sum_sq(z.data(), z.size()));
  return m;
}

Metrics measure_weights(const Mlp& net, std::span<const float> w, std::span<const float> z,
                        const Metrics& init, bool spectral) {
  IS_CHECK(w.size() == net.num_params && z.size() == net.num_params);
  Metrics m = init;
  double dist_w2 = 0.0, dist_b2 = 0.0, prod_fro2 = 1.0, prod_spec = 1.0;
  std::vector<float> diff;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const auto& l = net.layers[k];
    const float* wk = w.data() + l.w_offset;
    const float* zk = z.data() + l.w_offset;
    const double dw2 = sum_sq_diff(wk, zk, l.w_size());
    const double db2 =
        sum_sq_diff(w.data() + l.b_offset, z.data() + l.b_offset, static_cast<size_t>(l.out));
    const double fro2 = sum_sq(wk, l.w_size());
    dist_w2 += dw2;
    dist_b2 += db2;
    m[key("dist_w", k)] = std::sqrt(dw2);
    m[key("dist_b", k)] = std::sqrt(db2);
    m[key("dist_", k)] = std::sqrt(dw2 + db2);
    m[key("fro_w", k)] = std::sqrt(fro2);
    prod_fro2 *= fro2;
    if (spectral) {
      const double spec = spectral_norm(wk, l.out, l.in).sigma;
      diff.resize(l.w_size());
      for (size_t i = 0; i < diff.size(); ++i) diff[i] = wk[i] - zk[i];
      m[key("spec_w", k)] = spec;
      m[key("spec_dw", k)] = spectral_norm(diff.data(), l.out, l.in).sigma;
      prod_spec *= spec;
    }
  }
  const double r = std::sqrt(dist_w2 + dist_b2);
  m["dist_init"] = r;
  m["dist_init_w"] = std::sqrt(dist_w2);
  m["dist_init_b"] = std::sqrt(dist_b2);
  m["prod_fro2_w"] = prod_fro2;
  m["param_norm"] = std::sqrt(sum_sq(w.data(), w.size()));
  if (spectral) {
    m["prod_spec_w"] = prod_spec;
    m["spec_complexity_w"] =
        std::pow(static_cast<double>(net.spec.width), net.depth() - 1) * prod_spec;
    double bound = 1.0;
    for (size_t k = 0; k < net.layers.size(); ++k) bound *= init.at(key("spec_z", k)) + r;
    m["prop62_bound"] = bound;
    m["prop62_holds"] = prod_spec <= bound ? 1.0 : 0.0;
  }
  return m;
}

}  // namespace initscope
