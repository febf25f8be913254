// Fourier line spectra of a classifier (RM23 E3; rm23-operational.md §2.3 M4, after
// Fridovich-Keil et al. 2021): inputs of hundreds of dimensions admit no grid, so the network's
// function is sampled along line segments through input space and each slice is transformed.
// Off unless --line-segments N > 0; then, during training (--measure-every) and at the end:
//  - N segments, drawn once per run from the seed's "line-spectrum" stream (the same segments
//    at every measurement, so the spectra are comparable over training): with --line-mode pairs
//    (default) from a test point x_a to another test point x_b; with directions, from x_a along
//    a random unit direction, for the median length of the pairs the same stream draws;
//  - on each, --line-points P samples x_a + (j/P)(x_b − x_a), j = 0..P−1, of the margin of x_a's
//    label (f_y − max_{j≠y} f_j, or ±f for one output) and of every logit;
//  - each slice detrended and Hann-windowed (spectrum.hpp: an affine slice has no energy above
//    0, and the slice's ends leak nothing), transformed; frequencies are k/L cycles per unit of
//    input-space distance (L the segment's length);
//  - energies summed over segments (a segment with a larger margin swing weighs more).
// Metrics (now; at the end also *_init, from the weights the task's training started from: the
// pretrained ones if --pretrain, else the initialization):
//   fourier_centroid         energy-weighted mean frequency over k > 0 of the margin slices
//   fourier_hf_fraction      energy above --line-cutoff over energy above 0 (if cutoff > 0)
//   fourier_logit_centroid   the same centroid for the logits' slices (all logits pooled)
// Arrays at the end: line_freq (bin centres, width 1/L̄, L̄ the mean length) with line_init and
// line_final, the margin energy per bin (a segment's bin k lands in the bin nearest k/L):
// what the report's figure and RM23 E3's cut-off (the clean init's centroid) read.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "measure/registry.hpp"
#include "measure/spectrum.hpp"
#include "model/network.hpp"

namespace initscope {

namespace {

struct Segment {
  int64_t a = 0;
  std::vector<float> step;  // (dim) (x_b − x_a) / P
  double length = 0.0;
  int32_t label = 0;  // x_a's
};

std::vector<Segment> draw_segments(const Dataset& test, int64_t count, int64_t points,
                                   bool directions, uint64_t seed) {
  Rng rng(seed);
  const int64_t dim = test.dim;
  std::vector<Segment> segs;
  for (int64_t s = 0; s < count; ++s) {
    Segment g;
    g.a = static_cast<int64_t>(rng.below(static_cast<uint64_t>(test.n)));
    int64_t b = static_cast<int64_t>(rng.below(static_cast<uint64_t>(test.n - 1)));
    b += b >= g.a;  // b ≠ a
    g.label = test.y[static_cast<size_t>(g.a)];
    g.step.resize(static_cast<size_t>(dim));
    double sq = 0.0;
    for (int64_t i = 0; i < dim; ++i) {
      const double d = static_cast<double>(test.row(b)[i]) - test.row(g.a)[i];
      sq += d * d;
      g.step[static_cast<size_t>(i)] = static_cast<float>(d / static_cast<double>(points));
    }
    g.length = std::sqrt(sq);
    segs.push_back(std::move(g));
  }
  if (directions) {
    // Same starting points; a random unit direction scaled to the pairs' median length.
    std::vector<double> lengths;
    for (const auto& g : segs) lengths.push_back(g.length);
    std::sort(lengths.begin(), lengths.end());
    const double L = quantile_sorted(lengths, 0.5);
    for (auto& g : segs) {
      std::vector<double> u(static_cast<size_t>(dim));
      double sq = 0.0;
      for (auto& v : u) {
        v = rng.normal();
        sq += v * v;
      }
      const double scale = L / std::sqrt(sq) / static_cast<double>(points);
      for (int64_t i = 0; i < dim; ++i)
        g.step[static_cast<size_t>(i)] = static_cast<float>(u[static_cast<size_t>(i)] * scale);
      g.length = L;
    }
  }
  // A pair of identical images has no length and no spectrum.
  std::erase_if(segs, [](const Segment& g) { return !(g.length > 0.0); });
  return segs;
}

struct LineSpectra {
  std::vector<double> bins;  // margin energy per common bin
  double centroid = 0.0, hf_fraction = NAN, logit_centroid = 0.0;
};

LineSpectra measure_lines(const MeasureInput& in, std::span<const float> params,
                          const std::vector<Segment>& segs, int64_t points, double bin_width,
                          double cutoff) {
  const Mlp& net = *in.net;
  const Dataset& test = *in.test;
  const int64_t dim = test.dim, K = net.spec.outputs;
  const int64_t chunk = std::min<int64_t>(points, 256);
  Workspace ws = make_workspace(net, chunk, /*backward=*/false, 1);
  std::vector<float> x(static_cast<size_t>(chunk * dim));
  std::vector<double> margin(static_cast<size_t>(points)), logits(static_cast<size_t>(points * K)),
      slice(static_cast<size_t>(points));
  LineSpectra out;
  out.bins.assign(static_cast<size_t>(points / 2 + 1), 0.0);
  double e_pos = 0, fe_pos = 0, e_hf = 0, le_pos = 0, lfe_pos = 0;
  for (const Segment& g : segs) {
    const float* xa = test.row(g.a);
    for (int64_t start = 0; start < points; start += chunk) {
      const int64_t B = std::min(chunk, points - start);
      for (int64_t r = 0; r < B; ++r) {
        const auto t = static_cast<float>(start + r);
        float* row = x.data() + r * dim;
        for (int64_t i = 0; i < dim; ++i) row[i] = xa[i] + t * g.step[static_cast<size_t>(i)];
      }
      const float* f = mlp_forward(net, params.data(), x.data(), B, ws);
      for (int64_t r = 0; r < B; ++r) {
        margin[static_cast<size_t>(start + r)] = example_margin(f + r * K, g.label, K);
        for (int64_t j = 0; j < K; ++j)
          logits[static_cast<size_t>(j * points + start + r)] = f[r * K + j];
      }
    }
    const double h = g.length / static_cast<double>(points);
    const auto add = [&](std::vector<double>& v, bool is_margin) {
      detrend(v);
      const Spectrum1d s = spectrum_1d(v, h, Window::hann);
      for (int64_t k = 1; k <= points / 2; ++k) {
        const double e = s.energy(k), fr = s.frequency(k);
        if (is_margin) {
          e_pos += e;
          fe_pos += fr * e;
          if (fr > cutoff) e_hf += e;
          const auto bin = std::min<int64_t>(std::llround(fr / bin_width), points / 2);
          out.bins[static_cast<size_t>(bin)] += e;
        } else {
          le_pos += e;
          lfe_pos += fr * e;
        }
      }
      if (is_margin) out.bins[0] += s.energy(0);
    };
    add(margin, true);
    for (int64_t j = 0; j < K; ++j) {
      std::copy_n(logits.begin() + j * points, points, slice.begin());
      add(slice, false);
    }
  }
  out.centroid = e_pos > 0 ? fe_pos / e_pos : NAN;
  out.logit_centroid = le_pos > 0 ? lfe_pos / le_pos : NAN;
  if (cutoff > 0) out.hf_fraction = e_pos > 0 ? e_hf / e_pos : NAN;
  return out;
}

void put(const LineSpectra& s, const char* suffix, bool with_hf, Metrics& out) {
  out[fmt::format("fourier_centroid{}", suffix)] = s.centroid;
  out[fmt::format("fourier_logit_centroid{}", suffix)] = s.logit_centroid;
  if (with_hf) out[fmt::format("fourier_hf_fraction{}", suffix)] = s.hf_fraction;
}

}  // namespace

void line_spectrum_measure(const MeasureInput& in, Metrics& out) {
  const int64_t count = in.options.value("line_segments", int64_t{0});
  if (count <= 0 || !in.test || in.test->regression() || in.test->n < 2) return;
  const int64_t points = in.options.value("line_points", int64_t{256});
  const double cutoff = in.options.value("line_cutoff", 0.0);
  const bool directions = in.options.value("line_mode", std::string("pairs")) == "directions";
  const auto segs =
      draw_segments(*in.test, count, points, directions,
                    derive_seed(in.options.value("seed", uint64_t{1}), "line-spectrum"));
  if (segs.empty()) return;
  double mean_length = 0.0;
  for (const auto& g : segs) mean_length += g.length / static_cast<double>(segs.size());
  const double bin_width = 1.0 / mean_length;
  const LineSpectra now = measure_lines(in, in.params, segs, points, bin_width, cutoff);
  put(now, "", cutoff > 0, out);
  if (in.when != k_at_end) return;
  const std::span<const float> start = in.pretrained.empty() ? in.init : in.pretrained;
  const LineSpectra first = measure_lines(in, start, segs, points, bin_width, cutoff);
  put(first, "_init", cutoff > 0, out);
  out["fourier_line_segments"] = static_cast<double>(segs.size());
  out["fourier_line_length"] = mean_length;
  if (!in.arrays) return;
  std::vector<double> f;
  for (size_t b = 0; b < now.bins.size(); ++b) f.push_back(static_cast<double>(b) * bin_width);
  (*in.arrays)["line_freq"] = std::move(f);
  (*in.arrays)["line_init"] = first.bins;
  (*in.arrays)["line_final"] = now.bins;
}

}  // namespace initscope
