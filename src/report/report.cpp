// The report page: what it shows, in what order, and what the paper expects of each figure
// (see report.hpp). Numbers come from aggregate/claims, pictures from plots, markup from html.
#include "report/report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <system_error>

#include <fmt/core.h>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "report/aggregate.hpp"
#include "report/html.hpp"
#include "report/plots.hpp"

namespace initscope::report {

namespace fs = std::filesystem;

namespace {

std::string cfg_text(const nlohmann::json& c, const char* key) {
  const auto it = c.find(key);
  if (it == c.end()) return "?";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    std::string s;
    for (const auto& e : *it) {
      if (!s.empty()) s += ",";
      s += (e.is_string() ? e.get<std::string>() : e.dump());
    }
    return s.empty() ? "none" : s;
  }
  if (it->is_number_float()) return num(it->get<double>());
  return it->dump();
}

// "mnist H=256 m=4096 noise=0 seed=1 loss=ce lr=0.1 stop=margin:10:0.99"
std::string config_summary(const RunRecord& r) {
  const auto& c = r.config;
  std::string s =
      fmt::format("{} H={} m={} noise={} seed={} loss={} lr={} stop={}", cfg_text(c, "dataset"),
                  cfg_text(c, "width"), cfg_text(c, "m"), cfg_text(c, "noise"), r.seed,
                  cfg_text(c, "loss"), cfg_text(c, "lr"), cfg_text(c, "stop"));
  if (c.contains("max_epochs")) s += " max_epochs=" + cfg_text(c, "max_epochs");
  return s;
}

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string list_of(const std::set<double>& v) {
  std::string s;
  for (double x : v) {
    if (!s.empty()) s += ", ";
    s += num(x);
  }
  return s.empty() ? "–" : s;
}

std::vector<PlotLine> lines_from(const std::vector<Series>& series, const std::string& prefix,
                                 double scale = 1.0) {
  std::vector<PlotLine> out;
  for (const auto& s : series) {
    PlotLine l{prefix + num(s.key), s.points};
    for (auto& p : l.points) {
      p.y.mean *= scale;
      p.y.sd *= scale;
      for (auto& v : p.values) v *= scale;
    }
    out.push_back(std::move(l));
  }
  return out;
}

// A line of one metric per width, one value per seed (the initialization's norms).
PlotLine width_line(const std::vector<const RunRecord*>& runs, const std::string& metric,
                    const std::string& title) {
  PlotLine l{title, {}};
  for (const auto& [w, v] : width_values_unique_seed(runs, metric))
    if (!v.empty()) l.points.push_back(SeriesPoint{static_cast<double>(w), stats(v), v});
  return l;
}

std::optional<PowerFit> fit_line(const PlotLine& l) {
  std::vector<double> x, y;
  for (const auto& p : l.points) {
    x.push_back(p.x);
    y.push_back(p.y.mean);
  }
  return fit_power_law(x, y);
}

PlotCurve curve_for(const PlotLine& l, const PowerFit& f, int line, const std::string& title) {
  return PlotCurve{title, f, l.points.front().x, l.points.back().x, line};
}

class Page {
 public:
  explicit Page(const fs::path& dir) : dir_(dir) {}

  void add(const std::string& html) { body_ += html; }
  /// Draws the plot if it has a trend to show, else says why not (`why`).
  void plot(const PlotSpec& spec, const std::string& caption_html, const std::string& why) {
    ++figure_;
    if (drawable(spec)) {
      render_plot(spec, dir_);
      ++plots_;
      bool from_zero = spec.y_from_zero && !spec.log_y;
      for (const auto& l : spec.lines)
        for (const auto& p : l.points) from_zero = from_zero && p.y.mean - p.y.sd >= 0.0;
      body_ +=
          html::figure(spec, figure_, caption_html + (from_zero ? " The y axis starts at 0." : ""));
    } else {
      body_ += html::missing_figure(spec, figure_, why);
    }
  }
  const std::string& body() const { return body_; }
  int plots() const { return plots_; }

 private:
  fs::path dir_;
  std::string body_;
  int figure_ = 0;
  int plots_ = 0;
};

constexpr const char* k_error_bars =
    " Points are means over seeds; error bars ±1 sd where a cell has more than one seed.";

void experiment_section(Page& page, const Experiment& e, const std::string& prefix,
                        const std::vector<RFit>& fits) {
  namespace h = html;
  const auto r_cells = cell_values(e.runs, "dist_init");
  const auto gen_cells = cell_values(e.runs, "gen_error");

  // 1. r vs H, one line per m, clean labels.
  PlotSpec p1{
      .name = prefix + "r_vs_width",
      .title = "Distance from initialization vs width (clean labels)",
      .xlabel = "width H",
      .ylabel = "distance from initialization r",
      .x_name = "width H",
      .y_name = "r",
      .log_x = true,
      .y_from_zero = true,
      .lines = lines_from(make_series(r_cells, Axis::width, Axis::m, clean_labels), "m = ")};
  page.plot(
      p1,
      std::string(
          "Distance r = ‖(W,B) − (Z,C)‖<sub>F</sub> against width, one line per training-set size. "
          "<b>Paper (Section 4; Figure 1 left; Figures 2–4 (c)):</b> r stays constant or even "
          "decreases "
          "as H grows, with at most a slight, logarithmic rise at very large H.") +
          k_error_bars,
      "needs ≥ 2 widths at one m on clean labels");

  // 2. r vs label noise, one line per H, at the m with the most noise levels.
  const auto at = noise_sweep_m(e);
  const int64_t m_noise = at ? at->first : 0;
  PlotSpec p2{.name = prefix + "r_vs_noise",
              .title = fmt::format("Distance from initialization vs label noise (m = {})", m_noise),
              .xlabel = "fraction of corrupted training labels",
              .ylabel = "distance from initialization r",
              .x_name = "noise",
              .y_name = "r",
              .y_from_zero = true,
              .lines = lines_from(make_series(r_cells, Axis::noise, Axis::width,
                                              [m_noise](const Coord& c) { return c.m == m_noise; }),
                                  "H = ")};
  // Widths seen at one noise level only are not part of the noise sweep.
  std::erase_if(p2.lines, [](const PlotLine& l) { return l.points.size() < 2; });
  page.plot(
      p2,
      fmt::format(
          "r against the fraction of training labels replaced by random labels, at m = {} (the m "
          "with "
          "the most noise levels), one line per width. <b>Paper (Section 4; Figure 1 right; Figure "
          "6):</b> "
          "r grows with the noise level, more so for larger m: memorizing takes a longer path.{}",
          m_noise, k_error_bars),
      "needs ≥ 2 noise levels at one m");

  // 3. Generalization error vs H and vs m, clean labels.
  PlotSpec p3a{.name = prefix + "gen_vs_width",
               .title = "Generalization error vs width (clean labels)",
               .xlabel = "width H",
               .ylabel = "test error − train error (%)",
               .x_name = "width H",
               .y_name = "gen error (%)",
               .log_x = true,
               .y_from_zero = true,
               .lines = lines_from(make_series(gen_cells, Axis::width, Axis::m, clean_labels),
                                   "m = ", 100.0)};
  page.plot(
      p3a,
      std::string(
          "Generalization error (test − train error, in percent) against width, one line per m. "
          "<b>Paper (Appendix D; Figures 2–4 (a)):</b> it only decreases or stays constant as H "
          "grows.") +
          k_error_bars,
      "needs ≥ 2 widths at one m on clean labels");
  PlotSpec p3b{.name = prefix + "gen_vs_m",
               .title = "Generalization error vs training-set size (clean labels)",
               .xlabel = "training-set size m",
               .ylabel = "test error − train error (%)",
               .x_name = "m",
               .y_name = "gen error (%)",
               .log_x = true,
               .y_from_zero = true,
               .lines = lines_from(make_series(gen_cells, Axis::m, Axis::width, clean_labels),
                                   "H = ", 100.0)};
  page.plot(p3b,
            std::string("The same against m, one line per width. <b>Paper (Appendix D; Figures 2–4 "
                        "(b)):</b> it falls as m "
                        "grows, for every width.") +
                k_error_bars,
            "needs ≥ 2 values of m at one width on clean labels");

  // 4. r vs m, log-log, with the fitted power laws.
  PlotSpec p4{
      .name = prefix + "r_vs_m",
      .title = "Distance from initialization vs training-set size (clean labels)",
      .xlabel = "training-set size m",
      .ylabel = "distance from initialization r",
      .x_name = "m",
      .y_name = "r",
      .log_x = true,
      .log_y = true,
      .lines = lines_from(make_series(r_cells, Axis::m, Axis::width, clean_labels), "H = ")};
  for (const auto& f : fits) {
    for (size_t i = 0; i < p4.lines.size(); ++i)
      if (p4.lines[i].title == "H = " + num(static_cast<double>(f.width)))
        p4.curves.push_back(curve_for(p4.lines[i], f.fit, static_cast<int>(i),
                                      fmt::format("fit H = {}: k = {:.3f}", f.width, f.fit.k)));
  }
  page.plot(p4,
            std::string("r against m on log–log axes, one line per width, with the least-squares "
                        "power law r ∝ m<sup>k</sup> "
                        "(dashed) wherever a width has ≥ 3 values of m. <b>Paper (Section 4; "
                        "Figures 2–4 (d)):</b> r grows "
                        "with m, typically between m<sup>0.25</sup> and m<sup>0.4</sup> on clean "
                        "labels, faster for "
                        "smaller H.") +
                k_error_bars,
            "needs ≥ 2 values of m at one width on clean labels");

  page.add("<h3>Power-law fits r ∝ m<sup>k</sup> (clean labels)</h3>\n");
  if (fits.empty()) {
    page.add(fmt::format(
        "<p class=\"muted\">No width has ≥ {} values of m on clean labels; nothing to fit.</p>\n",
        k_min_ms));
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : fits) {
      std::string seeds;
      for (const auto& p : f.data.points) {
        if (!seeds.empty()) seeds += ", ";
        seeds += std::to_string(p.y.n);
      }
      rows.push_back({std::to_string(f.width), h::escape(list_of([&] {
                        std::set<double> ms;
                        for (const auto& p : f.data.points) ms.insert(p.x);
                        return ms;
                      }())),
                      seeds, fmt::format("{:.3f}", f.fit.k),
                      f.ci ? fmt::format("[{:.3f}, {:.3f}]", f.ci->lo, f.ci->hi) : "–",
                      fmt::format("{:.4g}", std::exp(f.fit.log_c)), fmt::format("{:.4f}", f.fit.r2),
                      f.fit.k >= k_exponent_lo && f.fit.k <= k_exponent_hi ? "yes" : "<b>no</b>"});
    }
    page.add(h::table({"H", "m values", "seeds per m", "k", "95% CI (bootstrap)", "prefactor c",
                       "R² (log)", fmt::format("k in [{}, {}]", k_exponent_lo, k_exponent_hi)},
                      rows, "num"));
    page.add(
        "<p class=\"muted\">Least squares of log r on log m over the seed-mean r at each m. CI: "
        "2.5th and 97.5th "
        "percentiles of k over bootstrap resamples that redraw the seeds within each m with "
        "replacement; with one "
        "seed per m the interval collapses to the point estimate.</p>\n");
  }

  // Init-free norms of the trained networks vs H, with the initialization's for reference.
  for (const auto& [metric, z_metric, title, ylabel, yname, caption] :
       {std::tuple{"prod_fro2_w", "prod_fro2_z", "Π‖W_k‖_F² vs width (clean labels)",
                   "Π_k ‖W_k‖_F^2", "Π‖W_k‖_F²",
                   "The product of squared Frobenius norms, an initialization-blind ℓ<sub>2</sub> "
                   "norm, for the trained "
                   "networks (one line per m) and at their initialization (black). <b>Paper "
                   "(Section 6, Proposition 6.1):</b> "
                   "it grows with H — already at initialization, as Ω(H<sup>d−2</sup>) — so a "
                   "capacity bound built on it "
                   "grows with H although the generalization error does not."},
        std::tuple{
            "prod_spec_w", "prod_spec_z", "Π‖W_k‖₂ vs width (clean labels)", "Π_k ‖W_k‖_2",
            "Π‖W_k‖₂",
            "The product of spectral norms for the trained networks and at initialization (black). "
            "<b>Paper (Section 6, Proposition 6.2):</b> Π‖W_k‖₂ ≤ Π(‖Z_k‖₂ + r) with ‖Z_k‖₂ = "
            "Θ(1), so it stays "
            "H-independent when r does; it is the factor H<sup>d−1</sup> of the spectral "
            "complexity "
            "(spec_complexity_w) that grows with H."}}) {
    PlotSpec p{.name = prefix + metric + "_vs_width",
               .title = title,
               .xlabel = "width H",
               .ylabel = ylabel,
               .x_name = "width H",
               .y_name = yname,
               .log_x = true,
               .log_y = true,
               .lines = lines_from(
                   make_series(cell_values(e.runs, metric), Axis::width, Axis::m, clean_labels),
                   "trained, m = ")};
    PlotLine z = width_line(e.runs, z_metric, "initialization Z");
    z.reference = true;
    if (!z.points.empty()) p.lines.push_back(z);
    page.plot(p, std::string(caption) + k_error_bars, "needs ≥ 2 widths on clean labels");
  }
}

void theory_section(Page& page, const TheoryGroup& g, const std::string& prefix) {
  const auto& runs = g.runs.runs;
  const int d = g.runs.depth;
  PlotSpec spec{.name = prefix + "spec_z_vs_width",
                .title = "Spectral norms ‖Z_k‖₂ of the initialization vs width",
                .xlabel = "width H",
                .ylabel = "‖Z_{k}‖_{2}",
                .x_name = "width H",
                .y_name = "‖Z_k‖₂",
                .log_x = true,
                .y_from_zero = true};
  PlotSpec fro{.name = prefix + "fro_z_vs_width",
               .title = "Frobenius norms ‖Z_k‖_F of the initialization vs width",
               .xlabel = "width H",
               .ylabel = "‖Z_{k}‖_{F}",
               .x_name = "width H",
               .y_name = "‖Z_k‖_F",
               .log_x = true,
               .log_y = true};
  for (int k = 2; k <= d - 1; ++k) {
    spec.lines.push_back(
        width_line(runs, fmt::format("spec_z{}", k), fmt::format("layer k = {}", k)));
    fro.lines.push_back(
        width_line(runs, fmt::format("fro_z{}", k), fmt::format("layer k = {}", k)));
    const auto& l = fro.lines.back();
    if (static_cast<int>(l.points.size()) >= k_min_widths)
      if (const auto f = fit_line(l))
        fro.curves.push_back(curve_for(l, *f, static_cast<int>(fro.lines.size()) - 1,
                                       fmt::format("fit k = {}: ∝ H^{:.3f}", k, f->k)));
  }
  const std::string why =
      d < 3 ? fmt::format("depth {} has no hidden-to-hidden layer", d)
            : fmt::format("needs ≥ 2 widths (≥ {} for the exponent checks)", k_min_widths);
  const std::string src = g.init_only ? "init-only runs (max_steps = 0)"
                                      : "the initialization norms stored with the trained runs";
  page.plot(
      spec,
      fmt::format(
          "Spectral norm of each hidden layer's initial weight matrix against width, from {}. "
          "<b>Paper (Corollary A.2.1):</b> ‖Z<sub>k</sub>‖<sub>2</sub> = Θ̃(1), independent of H "
          "(for "
          "Xavier's Gaussian H×H matrices it tends to 2).{}",
          src, k_error_bars),
      why);
  page.plot(fro,
            fmt::format("Frobenius norm of each hidden layer's initial weight matrix against width "
                        "(log–log), with "
                        "least-squares power laws (dashed). <b>Paper (Corollary A.2.1):</b> "
                        "‖Z<sub>k</sub>‖<sub>F</sub> = "
                        "Θ̃(√H) for 1 &lt; k &lt; d.{}",
                        k_error_bars),
            why);
  PlotSpec prod{.name = prefix + "prod_fro2_z_vs_width",
                .title = "Π‖Z_k‖_F² of the initialization vs width",
                .xlabel = "width H",
                .ylabel = "Π_k ‖Z_k‖_F^2",
                .x_name = "width H",
                .y_name = "Π‖Z_k‖_F²",
                .log_x = true,
                .log_y = true,
                .lines = {width_line(runs, "prod_fro2_z", "initialization")}};
  if (static_cast<int>(prod.lines[0].points.size()) >= k_min_widths)
    if (const auto f = fit_line(prod.lines[0]))
      prod.curves.push_back(curve_for(prod.lines[0], *f, 0,
                                      fmt::format("fit: ∝ H^{:.3f} (d − 2 = {})", f->k, d - 2)));
  page.plot(
      prod,
      fmt::format(
          "The product of squared Frobenius norms over all {} layers at initialization (log–log) "
          "with its "
          "power-law fit. <b>Paper (Proposition 6.1):</b> it grows as Ω̃(H<sup>d−2</sup>) although "
          "the "
          "untrained network's generalization error does not depend on H. The hidden layers give "
          "H<sup>d−2</sup>; Xavier's std √(2/(fan_in + fan_out)) also makes the input layer's "
          "‖Z<sub>1</sub>‖<sub>F</sub>² = 2nH/(n + H) grow while H is not ≫ n (n = input size), so "
          "over small widths the fitted exponent lies above d − 2.{}",
          d, k_error_bars),
      fmt::format("needs ≥ 2 widths with prod_fro2_z"));
}

}  // namespace

ReportResult write_report(const ReportOptions& options) {
  if (!fs::exists(options.db))
    throw Error(
        fmt::format("--db {}: no such database file (pass the results database to report on)",
                    options.db.string()));
  Db db(options.db);
  return write_report(db.runs(), options);
}

ReportResult write_report(const std::vector<RunRecord>& all_runs, const ReportOptions& options) {
  namespace h = html;
  if (all_runs.empty())
    throw Error(fmt::format("--db {}: the database holds no runs; train or sweep into it first",
                            options.db.string()));
  const fs::path dir = options.out;
  {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
      throw Error(fmt::format("--out {}: cannot create the report folder ({})", dir.string(),
                              ec ? ec.message() : "a file of that name exists"));
    // Fail before any work if the folder is read-only, naming the flag rather than a file in it.
    const fs::path probe = dir / ".initscope_write_test";
    const bool writable = static_cast<bool>(std::ofstream(probe));
    fs::remove(probe, ec);
    if (!writable)
      throw Error(fmt::format("--out {}: cannot write files in that folder", dir.string()));
  }

  // Who counts.
  std::vector<const RunRecord*> trained, init_only, excluded;
  for (const auto& r : all_runs) {
    switch (classify(r)) {
      case RunUse::trained:
        trained.push_back(&r);
        break;
      case RunUse::init_only:
        init_only.push_back(&r);
        break;
      case RunUse::excluded:
        excluded.push_back(&r);
        break;
    }
  }
  const auto experiments = group_runs(trained, experiment_key);
  const auto groups = theory_groups(init_only, trained);

  // Claims: 1-4 per experiment, merged; 5 over all theory groups.
  std::vector<std::vector<RFit>> fits;
  std::vector<std::pair<std::string, Claim>> c1, c2, c3, c4;
  for (size_t i = 0; i < experiments.size(); ++i) {
    const auto& e = experiments[i];
    fits.push_back(fit_r_vs_m(e, options.resamples, derive_seed(options.seed, e.key.dump())));
    c1.emplace_back(e.label, check_r_not_increasing_with_width(e));
    c2.emplace_back(e.label, check_r_growth_exponent(fits.back()));
    c3.emplace_back(e.label, check_r_increases_with_noise(e));
    c4.emplace_back(e.label, check_gen_error_not_increasing_with_width(e));
  }
  const auto checks = theory_checks(groups, trained);
  ReportResult result;
  result.claims = {combine(k_claim_r_width, claim_rule(k_claim_r_width), c1),
                   combine(k_claim_r_exponent, claim_rule(k_claim_r_exponent), c2),
                   combine(k_claim_r_noise, claim_rule(k_claim_r_noise), c3),
                   combine(k_claim_gen_width, claim_rule(k_claim_gen_width), c4),
                   check_theory(checks)};

  Page page(dir);
  // Header and summary.
  page.add("<h1>initscope report</h1>\n");
  page.add(
      fmt::format("<p class=\"meta\">Database <code>{}</code> · generated {} · initscope {} · "
                  "reproducing Nagarajan "
                  "&amp; Kolter, <i>Generalization in Deep Networks: The Role of Distance from "
                  "Initialization</i></p>\n",
                  h::escape(fs::absolute(options.db).lexically_normal().string()), now_utc(),
                  INITSCOPE_VERSION));
  std::map<std::string, int> by_status;
  int capped = 0;
  for (const auto& r : all_runs) {
    ++by_status[r.status];
    if (r.status == k_status_completed && !r.converged && !is_init_only(r)) ++capped;
  }
  page.add("<div class=\"cards\">\n");
  auto card = [&](int v, const std::string& k) {
    page.add(fmt::format(
        "<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>\n", v,
        h::escape(k)));
  };
  card(static_cast<int>(all_runs.size()), "runs in the database");
  card(static_cast<int>(trained.size()), "trained & converged (used)");
  card(static_cast<int>(init_only.size()), "initialization only");
  card(capped, "stopped by a cap");
  card(static_cast<int>(excluded.size()) - capped, "diverged, failed or unfinished");
  page.add("</div>\n");

  page.add("<h2>Claims</h2>\n");
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : result.claims)
      rows.push_back(
          {h::escape(c.id), h::badge(c.verdict), h::escape(c.figure), h::escape(c.rule)});
    page.add(h::table({"claim", "result", "measured", "rule"}, rows, "claims"));
    page.add(
        "<p class=\"muted\">SKIP means the database lacks the runs the rule needs, not that the "
        "claim failed. "
        "Thresholds are fixed in src/report/claims.hpp from the paper's statements.</p>\n");
  }

  page.add("<h2>Runs</h2>\n");
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [status, n] : by_status) {
      int conv = 0, cap = 0, init = 0;
      for (const auto& r : all_runs) {
        if (r.status != status) continue;
        if (is_init_only(r))
          ++init;
        else if (r.converged)
          ++conv;
        else if (status == k_status_completed)
          ++cap;
      }
      rows.push_back({h::escape(status), std::to_string(n), std::to_string(conv),
                      std::to_string(cap), std::to_string(init)});
    }
    page.add(
        h::table({"status", "runs", "converged", "stopped by a cap", "init-only"}, rows, "num"));
    page.add(
        "<p>Only <b>completed, converged</b> runs (a stopping criterion, not a cap, ended them) "
        "enter the plots and "
        "claims; initialization-only runs (<code>max_steps = 0</code>) enter the theory checks. "
        "Every other run is "
        "listed under <a href=\"#excluded\">Excluded runs</a>. Runs that differ only in their seed "
        "are replicates "
        "of one sweep cell; an <i>experiment</i> is everything in the configuration except width, "
        "m, noise, the "
        "seed, threads and the caps.</p>\n");
    std::vector<std::vector<std::string>> erows;
    for (size_t i = 0; i < experiments.size(); ++i) {
      const auto& e = experiments[i];
      std::set<double> ws, ms, ns;
      std::map<Coord, int> per_cell;
      for (const RunRecord* r : e.runs) {
        const Coord c = coord_of(*r);
        ws.insert(static_cast<double>(c.width));
        ms.insert(static_cast<double>(c.m));
        ns.insert(c.noise);
        ++per_cell[c];
      }
      int lo = 1 << 30, hi = 0;
      for (const auto& [c, n] : per_cell) {
        lo = std::min(lo, n);
        hi = std::max(hi, n);
      }
      erows.push_back({std::to_string(i + 1), h::escape(e.label), std::to_string(e.runs.size()),
                       h::escape(list_of(ws)), h::escape(list_of(ms)), h::escape(list_of(ns)),
                       lo == hi ? std::to_string(lo) : fmt::format("{}–{}", lo, hi)});
    }
    if (!erows.empty()) {
      page.add("<h3>Experiments (trained, converged runs)</h3>\n");
      page.add(
          h::table({"#", "experiment", "runs", "widths H", "m", "noise", "seeds per cell"}, erows));
    }
  }

  // Trained runs: one section per experiment.
  if (experiments.empty()) {
    page.add(
        "<h2>Distance from initialization and generalization</h2>\n<div class=\"missing\">No "
        "completed, converged "
        "training runs: the figures of Section 4 and Appendix D need trained runs.</div>\n");
  }
  for (size_t i = 0; i < experiments.size(); ++i) {
    const auto& e = experiments[i];
    page.add(experiments.size() == 1
                 ? fmt::format("<h2>Distance from initialization and generalization</h2>\n<p "
                               "class=\"muted\">{}</p>\n",
                               h::escape(e.label))
                 : fmt::format("<h2>Experiment {}: {}</h2>\n", i + 1, h::escape(e.label)));
    experiment_section(page, e, experiments.size() == 1 ? "" : fmt::format("e{}_", i + 1), fits[i]);
  }

  // Theory.
  page.add("<h2>Theory checks on the initialization</h2>\n");
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups.size() > 1) page.add(fmt::format("<h3>{}</h3>\n", h::escape(groups[i].runs.label)));
    theory_section(page, groups[i], groups.size() == 1 ? "init_" : fmt::format("init{}_", i + 1));
  }
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : checks) {
      std::string measured = "–";
      if (c.measured)
        measured = c.kind == TheoryCheck::Kind::prop62 ? fmt::format("{:.0f}%", 100 * *c.measured)
                                                       : fmt::format("{:.3f}", *c.measured);
      rows.push_back({h::escape(c.group), h::escape(c.what), measured, h::escape(c.expected),
                      c.verdict ? h::badge(*c.verdict) : "<span class=\"muted\">info</span>",
                      h::escape(c.note)});
    }
    page.add("<h3>Checks</h3>\n");
    page.add(h::table({"runs", "quantity", "measured", "rule", "result", "note"}, rows, "num"));
    page.add(
        "<p class=\"muted\">Exponents are least-squares slopes of log(norm) on log H over the seed "
        "means per width "
        "(one value per seed and width: runs sharing both drew the same initialization). Rows "
        "marked info are "
        "not checked; they show why Π‖Z_k‖_F²'s exponent can differ from d − 2.</p>\n");
  }

  // Excluded runs.
  page.add("<h2 id=\"excluded\">Excluded runs</h2>\n");
  if (excluded.empty()) {
    page.add(
        "<p>None: every run completed and either converged or measured the initialization "
        "only.</p>\n");
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const RunRecord* r : excluded)
      rows.push_back({std::to_string(r->id), h::escape(r->created), h::escape(config_summary(*r)),
                      h::escape(r->status), h::escape(r->stopped_by.empty() ? "–" : r->stopped_by),
                      h::escape(exclusion_reason(*r))});
    page.add(fmt::format("<p>{} run{} not used in any plot or claim.</p>\n", excluded.size(),
                         excluded.size() == 1 ? "" : "s"));
    page.add(h::table({"id", "created", "configuration", "status", "stopped_by", "why excluded"},
                      rows, "runs"));
  }

  page.add(fmt::format(
      "<footer>Written by <code>initscope report --db {} --out {}</code>. Each figure is NAME.png "
      "drawn "
      "by gnuplot from NAME.gp and NAME.dat in this folder; re-draw them with <code>cd {} "
      "&amp;&amp; for f "
      "in *.gp; do gnuplot \"$f\"; done</code>.</footer>\n",
      h::escape(options.db.string()), h::escape(dir.string()), h::escape(dir.string())));

  result.index = dir / "index.html";
  {
    std::ofstream f(result.index, std::ios::binary | std::ios::trunc);
    if (f) f << h::page("initscope report", page.body());
    if (!f) throw Error(fmt::format("--out {}: cannot write index.html", dir.string()));
  }
  result.plots = page.plots();
  return result;
}

}  // namespace initscope::report
