// The RM23 study's families, tables, figures and claims (see rm23.hpp).
#include "report/studies/rm23.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include <fmt/core.h>

#include "report/aggregate.hpp"
#include "report/html.hpp"
#include "report/plots.hpp"
#include "report/studies/rm23_flatness.hpp"

namespace initscope::report::rm23 {

namespace {

namespace h = html;

bool is_image(const RunRecord& r) {
  const auto& d = r.config.value("dataset", std::string());
  return d.rfind("image:", 0) == 0;
}
bool is_coordinate_task(const RunRecord& r) {
  return r.config.value("dataset", std::string()) == "signal1d" || is_image(r);
}
double metric(const RunRecord& r, const char* name) {
  const auto it = r.metrics.find(name);
  return it == r.metrics.end() ? NAN : it->second;
}

// A family of initializations and its knob: the value that dials the initial frequency content.
struct Family {
  std::string name, knob;
};
Family family_of(const RunRecord& r) {
  const auto& c = r.config;
  const std::string act = c.value("activation", "relu"), enc = c.value("encoding", "none");
  const std::string task = is_image(r) ? c.value("dataset", "") : "signal1d";
  if (act == "sine") return {fmt::format("{} sine", task), "omega0"};
  if (act == "gaussian") return {fmt::format("{} gaussian", task), "1/gauss_width"};
  if (enc == "fourier") return {fmt::format("{} {}+fourier", task, act), "fourier_sigma"};
  return {fmt::format("{} {}{}", task, act, enc == "none" ? "" : "+" + enc), "init_gain"};
}
double knob_of(const RunRecord& r, const std::string& knob) {
  const auto& c = r.config;
  if (knob == "1/gauss_width") return 1.0 / c.value("gauss_width", 1.0);
  return c.value(knob, 1.0);
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = 0.5 * static_cast<double>(i + j) + 1.0;
    i = j + 1;
  }
  return r;
}

// The runs of one family that count for a claim: converged, with the measure's values.
struct Point {
  const RunRecord* run;
  double knob, hf_init, fit;
};

std::map<std::string, std::vector<Point>> by_family(const std::vector<const RunRecord*>& runs,
                                                    bool images, const char* fit_metric) {
  std::map<std::string, std::vector<Point>> out;
  for (const RunRecord* r : runs) {
    if (is_image(*r) != images) continue;
    const double hf = metric(*r, "fourier_hf_fraction_init"), fit = metric(*r, fit_metric);
    if (!std::isfinite(hf) || !std::isfinite(fit)) continue;
    const Family f = family_of(*r);
    out[f.name].push_back({r, knob_of(*r, f.knob), hf, fit});
  }
  return out;
}

// The upper half of a family's knob values (the note's rule applies there, past the U-shaped
// low end where too little frequency cannot fit at all).
std::vector<Point> upper_half(const std::vector<Point>& pts) {
  std::set<double> knobs;
  for (const auto& p : pts) knobs.insert(p.knob);
  if (knobs.size() < 2) return {};
  std::vector<double> k(knobs.begin(), knobs.end());
  const double from = k[(k.size() - 1) / 2];  // the median knob value and above
  std::vector<Point> out;
  for (const auto& p : pts)
    if (p.knob >= from) out.push_back(p);
  return out;
}

Claim harm_claim(const std::string& id, const std::map<std::string, std::vector<Point>>& fams,
                 bool rises, const std::string& what) {
  Claim c;
  c.id = id;
  c.rule = fmt::format(
      "our rule (rm23-operational.md §3.2–3.3): within each family of initializations, over the "
      "upper half of its knob's values, Spearman ρ between the initial high-frequency fraction "
      "(energy above the cut-off over energy above 0) and {} is {} 0.8 (at least 4 converged "
      "runs and 2 knob values); PASS if every such family holds, FAIL if one does not",
      what, rises ? "≥" : "≤ −");
  std::vector<std::string> parts;
  bool any = false, all = true;
  for (const auto& [name, pts] : fams) {
    const std::vector<Point> up = upper_half(pts);
    if (up.size() < 4) {
      parts.push_back(fmt::format("{}: {} runs in the upper half, too few", name, up.size()));
      continue;
    }
    std::vector<double> x, y;
    for (const auto& p : up) {
      x.push_back(p.hf_init);
      y.push_back(p.fit);
    }
    const double rho = spearman(x, y);
    if (!std::isfinite(rho)) {
      parts.push_back(fmt::format("{}: ρ undefined (a constant variable)", name));
      continue;
    }
    any = true;
    const bool ok = rises ? rho >= 0.8 : rho <= -0.8;
    all = all && ok;
    parts.push_back(fmt::format("{}: ρ = {:.2f} over {} runs", name, rho, up.size()));
  }
  c.verdict = !any ? Verdict::skip : all ? Verdict::pass : Verdict::fail;
  c.figure = parts.empty() ? "no converged runs with spectra" : first_items(parts, 8);
  return c;
}

Claim persistence_claim(const std::vector<const RunRecord*>& runs) {
  Claim c;
  c.id = "rm23-e1-persistence";
  c.rule =
      "our rule (rm23-operational.md §3.2): for converged signal1d runs, the energy of the top "
      "band (|ξ| > 4K, K the target's top frequency) at the end over that at initialization "
      "lies in [0.5, 2] for every run (PASS); FAIL if it is below 0.5 (high frequencies "
      "removed: the Neural Redshift counter-claim) in more than 20% of the runs; otherwise "
      "INCONCLUSIVE. The note's low-band fit condition is not checked here";
  int n = 0, below = 0, above = 0;
  double lo = INFINITY, hi = -INFINITY;
  for (const RunRecord* r : runs) {
    if (is_image(*r)) continue;
    const double t0 = metric(*r, "fourier_top_init"), t1 = metric(*r, "fourier_top");
    if (!(t0 > 0) || !std::isfinite(t1)) continue;
    const double ratio = t1 / t0;
    ++n;
    below += ratio < 0.5;
    above += ratio > 2.0;
    lo = std::min(lo, ratio);
    hi = std::max(hi, ratio);
  }
  if (n < 3) {
    c.verdict = Verdict::skip;
    c.figure = fmt::format("{} converged signal1d runs with spectra; need 3", n);
    return c;
  }
  c.verdict = below == 0 && above == 0 ? Verdict::pass
              : 5 * below > n          ? Verdict::fail
                                       : Verdict::inconclusive;
  c.figure = fmt::format(
      "top-band ratio from {:.3g} to {:.3g} over {} runs; {} below 0.5 ({:.0f}%), {} above 2", lo,
      hi, n, below, 100.0 * below / n, above);
  return c;
}

Claim nyquist_persistence_claim(const std::vector<const RunRecord*>& runs) {
  Claim c;
  c.id = "rm23-e2-persistence";
  c.rule =
      "our rule (rm23-operational.md §3.3): across converged image runs, Pearson r ≥ 0.9 "
      "between the energy above the training lattice's Nyquist frequency at initialization and "
      "at the end (log10 of both)";
  std::vector<double> x, y;
  for (const RunRecord* r : runs) {
    if (!is_image(*r)) continue;
    const double a0 = metric(*r, "fourier_mid_init") + metric(*r, "fourier_high_init") +
                      metric(*r, "fourier_top_init");
    const double a1 =
        metric(*r, "fourier_mid") + metric(*r, "fourier_high") + metric(*r, "fourier_top");
    if (!(a0 > 0) || !(a1 > 0)) continue;
    x.push_back(std::log10(a0));
    y.push_back(std::log10(a1));
  }
  const double r = pearson(x, y);
  if (x.size() < 3 || !std::isfinite(r)) {
    c.verdict = Verdict::skip;
    c.figure =
        fmt::format("{} converged image runs with spectra; need 3 with different inits", x.size());
    return c;
  }
  c.verdict = r >= 0.9 ? Verdict::pass : Verdict::fail;
  c.figure = fmt::format("r = {:.3f} over {} runs", r, x.size());
  return c;
}

Claim ordering_claim(const std::vector<const RunRecord*>& runs) {
  Claim c;
  c.id = "rm23-e1-ordering";
  c.rule =
      "our rule (rm23-operational.md §2.2, the spectral-bias ordering the theory predicts): in "
      "every converged signal1d run measured during training (--measure-every), the first "
      "step at which the network's coefficient at each target frequency is within 10% of the "
      "target's (fourier_reach_f{k}) does not decrease with the frequency; PASS if that holds "
      "in every such run, FAIL if not (a frequency never reached counts as last)";
  int n = 0, ordered = 0;
  std::vector<std::string> broken;
  for (const RunRecord* r : runs) {
    if (is_image(*r) || !r->config.contains("signal_freqs")) continue;
    std::vector<std::pair<double, double>> fs;  // (frequency, reach step)
    const auto& freqs = r->config["signal_freqs"];
    bool any = false;
    for (size_t k = 0; k < freqs.size(); ++k) {
      const double step = metric(*r, fmt::format("fourier_reach_f{}", k + 1).c_str());
      any = any || r->metrics.count(fmt::format("fourier_reach_f{}", k + 1));
      fs.emplace_back(std::fabs(freqs[k].get<double>()), std::isnan(step) ? INFINITY : step);
    }
    if (!any || fs.size() < 2) continue;
    std::sort(fs.begin(), fs.end());
    ++n;
    bool ok = true;
    for (size_t k = 1; k < fs.size(); ++k) ok = ok && fs[k].second >= fs[k - 1].second;
    if (ok) {
      ++ordered;
    } else {
      std::string steps;
      for (const auto& [f, st] : fs)
        steps += fmt::format("{}{:g}→{:g}", steps.empty() ? "" : ", ", f, st);
      broken.push_back(fmt::format("run {} ({})", r->id, steps));
    }
  }
  if (n == 0) {
    c.verdict = Verdict::skip;
    c.figure = "no converged signal1d run has per-frequency curves (--measure-every)";
    return c;
  }
  c.verdict = ordered == n ? Verdict::pass : Verdict::fail;
  c.figure = fmt::format("{} of {} runs in frequency order{}{}", ordered, n,
                         broken.empty() ? "" : "; out of order: ", first_items(broken, 4));
  return c;
}

class Rm23Study final : public Study {
 public:
  std::string name() const override { return "rm23"; }

  std::vector<const RunRecord*> select(const std::vector<RunRecord>& all) const override {
    std::vector<const RunRecord*> out;
    for (const auto& r : all)
      if (is_coordinate_task(r)) out.push_back(&r);
    return out;
  }

  std::vector<Claim> build(const std::vector<const RunRecord*>& runs, const StudyContext&,
                           Page& page) const override {
    std::vector<const RunRecord*> trained;
    for (const RunRecord* r : runs)
      if (classify(*r) == RunUse::trained) trained.push_back(r);
    page.cite(
        "our test of Ramasinghe et al., <i>How much does Initialization Affect "
        "Generalization?</i> (ICML 2023; experiments and rules are ours)");
    page.heading(2, "RM23: high frequencies at initialization (our test)");
    page.add(
        "<p>" +
        h::escape(
            "Only the abstract of Ramasinghe et al. is available. It claims that under gradient "
            "flow the high frequencies of the network function train arbitrarily slowly, so that "
            "high frequencies present at initialization survive training and hurt generalization. "
            "The experiments below and their PASS/FAIL rules are our own reading of that claim "
            "(rm23-operational.md): we dial the initial frequency content with a family's knob "
            "(SIREN's ω₀, a Gaussian activation's width, Fourier features' σ, an init gain), "
            "measure the network's spectrum on a dense Hann-windowed grid at initialization and "
            "after training, and ask whether the high bands persist and whether more of them at "
            "initialization means a worse fit between the training points. A FAIL is a result: it "
            "is what the Neural Redshift counter-claim predicts.") +
        "</p>");
    std::vector<std::vector<std::string>> rows;
    for (const RunRecord* r : trained) {
      const Family f = family_of(*r);
      const double t0 = metric(*r, "fourier_top_init"), t1 = metric(*r, "fourier_top");
      rows.push_back(
          {std::to_string(r->id), f.name, fmt::format("{} = {:.3g}", f.knob, knob_of(*r, f.knob)),
           std::to_string(r->seed), fmt::format("{:.3g}", metric(*r, "fourier_hf_fraction_init")),
           t0 > 0 ? fmt::format("{:.3g}", t1 / t0) : "-",
           fmt::format("{:.3g}", metric(*r, "train_mse")),
           fmt::format("{:.3g}", metric(*r, "test_mse")),
           is_image(*r) ? fmt::format("{:.2f}", metric(*r, "test_psnr")) : "-"});
    }
    page.table({"run", "family", "knob", "seed", "HF fraction at init", "top band end/init",
                "train MSE", "test MSE", "test PSNR"},
               rows);
    const auto fams = by_family(trained, false, "test_mse");
    PlotSpec spec;
    spec.name = "rm23_e1_harm";
    spec.title = "signal1d: test MSE against the initial high-frequency fraction";
    spec.xlabel = "high-frequency fraction at init";
    spec.ylabel = "test MSE";
    spec.x_name = "HF fraction at init";
    spec.y_name = "test MSE";
    spec.log_y = true;
    for (const auto& [name, pts] : fams) {
      PlotLine line;
      line.title = name;
      std::vector<Point> sorted = pts;
      std::sort(sorted.begin(), sorted.end(),
                [](const Point& a, const Point& b) { return a.hf_init < b.hf_init; });
      for (const auto& p : sorted) {
        SeriesPoint sp;
        sp.x = p.hf_init;
        sp.values = {p.fit};
        sp.y = stats(sp.values);
        line.points.push_back(sp);
      }
      spec.lines.push_back(line);
    }
    page.figure(spec,
                "Each point is one converged run: its network's share of spectral energy above "
                "the target's top frequency at initialization, and its test MSE on the dense "
                "grid. RM23 predicts test MSE rising to the right.",
                "fewer than two converged signal1d runs with spectra");
    page.add_claims({flatness_section(runs, StudyContext{}, page)});  // rm23_flatness.hpp
    return {persistence_claim(trained), ordering_claim(trained),
            harm_claim("rm23-e1-harm", fams, true, "test MSE (signal1d)"),
            harm_claim("rm23-e2-harm", by_family(trained, true, "test_psnr"), false,
                       "test PSNR (images)"),
            nyquist_persistence_claim(trained)};
  }
};

}  // namespace

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  if (n < 3 || y.size() != n) return NAN;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i] / static_cast<double>(n);
    my += y[i] / static_cast<double>(n);
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : NAN;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() < 3 || y.size() != x.size()) return NAN;
  return pearson(ranks(x), ranks(y));
}

std::unique_ptr<Study> make_study() {
  return std::make_unique<Rm23Study>();
}

}  // namespace initscope::report::rm23
