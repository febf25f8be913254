// Learning curves per sweep cell (see curves.hpp).
#include "report/curves.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include <fmt/core.h>

#include "common/error.hpp"
#include "report/aggregate.hpp"
#include "report/html.hpp"
#include "report/plots.hpp"

namespace initscope::report {

namespace {

namespace h = html;

// The same colours as plots.cpp's lines (Okabe–Ito), one per seed.
constexpr const char* k_colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                     "#E69F00", "#56B4E9", "#000000", "#999933"};
constexpr size_t k_num_colours = sizeof(k_colours) / sizeof(k_colours[0]);

// The values of one trajectory name by epoch (the last if an epoch holds several), times
// `scale`.
std::map<double, double> by_epoch(const std::vector<TrajectoryPoint>& t, const std::string& name,
                                  double scale) {
  std::map<double, double> out;
  for (const auto& p : t)
    if (p.name == name && std::isfinite(p.value))
      out[static_cast<double>(p.epoch)] = p.value * scale;
  return out;
}

std::vector<std::pair<double, double>> points_of(const std::map<double, double>& m) {
  return {m.begin(), m.end()};
}

double metric_or(const RunRecord& r, const char* name, double fallback) {
  const auto it = r.metrics.find(name);
  return it != r.metrics.end() && std::isfinite(it->second) ? it->second : fallback;
}

struct Panel {
  const char* title;
  const char* ylabel;
  CurveLine RunCurves::*line;
  bool log_y;
  const char* key;  // where the key sits: away from where the curves usually are
};

constexpr Panel k_panels[] = {
    {"training loss", "loss", &RunCurves::loss, true, "top right"},
    {"training error", "error (%)", &RunCurves::train_error, false, "top right"},
    {"test error", "error (%)", &RunCurves::test_error, false, "top right"},
    {"distance from initialization r", "r", &RunCurves::dist, false, "bottom right"},
};

std::string gp_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream f(file, std::ios::binary);
  if (f) f << text;
  if (!f) throw Error(fmt::format("{}: cannot write the file", file.string()));
}

}  // namespace

RunCurves run_curves(const RunRecord& run, const std::vector<TrajectoryPoint>& t) {
  RunCurves c;
  for (CurveLine* l : {&c.loss, &c.train_error, &c.test_error, &c.dist}) {
    l->seed = run.seed;
    l->run = run.id;
  }
  const double last = metric_or(run, "epochs", -1.0);
  // The running loss and error of each epoch (every epoch), with the exact values where the
  // whole training set was evaluated (epoch 0, measurement epochs, the last) in their place.
  auto loss = by_epoch(t, "epoch_loss", 1.0);
  for (const auto& [e, v] : by_epoch(t, "train_loss", 1.0)) loss[e] = v;
  auto err = by_epoch(t, "epoch_error", 100.0);
  for (const auto& [e, v] : by_epoch(t, "train_error", 100.0)) err[e] = v;
  // Test error and r: measured every measure_every epochs, and at the end (the run's metrics).
  auto test = by_epoch(t, "test_error", 100.0);
  auto dist = by_epoch(t, "dist_init", 1.0);
  if (last >= 0) {
    if (const double v = metric_or(run, "test_error", NAN); std::isfinite(v)) test[last] = 100 * v;
    if (const double v = metric_or(run, "dist_init", NAN); std::isfinite(v)) dist[last] = v;
  }
  if (!dist.empty()) dist.try_emplace(0.0, 0.0);  // training starts at the initialization
  c.loss.points = points_of(loss);
  c.train_error.points = points_of(err);
  c.test_error.points = points_of(test);
  c.dist.points = points_of(dist);
  return c;
}

std::string curves_data(const std::vector<RunCurves>& runs) {
  // Blocks (gnuplot `index`): panel-major, one per run, each "epoch value"; an empty line is
  // written as a single NaN row so the block numbering stays fixed.
  std::string out =
      "# Learning curves: one block per panel and run (gnuplot index = panel * "
      "runs + run), columns: epoch value\n";
  bool first = true;
  for (const auto& p : k_panels)
    for (const auto& r : runs) {
      if (!first) out += "\n\n";
      first = false;
      const CurveLine& l = r.*(p.line);
      out += fmt::format("# {}, run {} (seed {})\n", p.title, l.run, l.seed);
      if (l.points.empty()) out += "0 NaN\n";
      for (const auto& [e, v] : l.points) out += fmt::format("{} {:.10g}\n", e, v);
    }
  return out;
}

std::string curves_script(const std::string& name, const std::string& title,
                          const std::vector<RunCurves>& runs) {
  // One epoch axis for all four panels, so that a run's panels line up.
  double last = 1.0;
  for (const auto& r : runs)
    for (const CurveLine* l : {&r.loss, &r.train_error, &r.test_error, &r.dist})
      for (const auto& [e, v] : l->points) last = std::max(last, e);
  std::string body;
  body += fmt::format("set multiplot layout 2,2 title {} noenhanced\n", gp_string(title));
  body += "set grid lc rgb \"#d0d0d0\" lw 1\nset border lc rgb \"#404040\"\n";
  body += fmt::format("set xlabel \"epoch\"\nset xrange [0:{}]\n", last);
  size_t panel = 0;
  for (const auto& p : k_panels) {
    const bool any = std::any_of(runs.begin(), runs.end(),
                                 [&](const RunCurves& r) { return !(r.*(p.line)).points.empty(); });
    body += fmt::format("set title {} noenhanced\nset ylabel {}\n", gp_string(p.title),
                        gp_string(p.ylabel));
    body += fmt::format("set key {} noenhanced spacing 1.1 samplen 2\n", p.key);
    body += p.log_y ? "set logscale y\n" : "unset logscale y\n";
    if (!any) {
      body +=
          "unset key\nset label 1 \"not in the stored trajectory\" at graph 0.5,0.5 center\n"
          "plot [] [0:1] 1/0 notitle\nunset label 1\n";
      ++panel;
      continue;
    }
    std::vector<std::string> items;
    for (size_t i = 0; i < runs.size(); ++i) {
      const CurveLine& l = runs[i].*(p.line);
      if (l.points.empty()) continue;
      // Start and end only (test error and r without measure_every): points, not a line that
      // would claim a straight path between them.
      const bool ends_only = l.points.size() <= 2;
      items.push_back(
          fmt::format("{} index {} using 1:2 with {} lc rgb \"{}\" lw 1.6 pt 7 ps {} title {}",
                      gp_string(name + ".dat"), panel * runs.size() + i,
                      ends_only ? "points" : "lines", k_colours[i % k_num_colours],
                      ends_only ? "1.3" : "0.6", gp_string(fmt::format("seed {}", l.seed))));
    }
    body += "plot ";
    for (size_t i = 0; i < items.size(); ++i) body += (i ? ", \\\n     " : "") + items[i];
    body += "\n";
    ++panel;
  }
  body += "unset multiplot\n";
  std::string s = fmt::format(
      "# {}\n# Written by `initscope report`. Data: {}.dat. Re-draw in this folder with: "
      "gnuplot {}.gp\nset encoding utf8\n",
      title, name, name);
  s += fmt::format(
      "set terminal pngcairo size 960,640 enhanced font \"DejaVu Sans,11\" linewidth 1.2\n"
      "set output {}\n",
      gp_string(name + ".png"));
  s += body;
  s += fmt::format(
      "set terminal svg size 960,640 enhanced font \"DejaVu Sans,11\" linewidth 1.2 "
      "background \"#ffffff\"\nset output {}\n",
      gp_string(name + ".svg"));
  s += body;
  s += "set output\n";
  return s;
}

void learning_curves(Page& page, const std::vector<const RunRecord*>& runs,
                     const std::function<std::vector<TrajectoryPoint>(int64_t)>& trajectory,
                     const std::string& study) {
  std::vector<const RunRecord*> trained;
  for (const RunRecord* r : runs)
    if (!is_init_only(*r)) trained.push_back(r);
  if (trained.empty() || !trajectory) return;
  const auto experiments = group_runs(trained, experiment_key);
  int drawn = 0, without = 0;
  std::vector<std::string> figures;
  for (size_t e = 0; e < experiments.size(); ++e) {
    std::map<Coord, std::vector<const RunRecord*>> cells;
    for (const RunRecord* r : experiments[e].runs) cells[coord_of(*r)].push_back(r);
    std::string html;
    for (const auto& [c, cell] : cells) {
      std::vector<RunCurves> curves;
      bool any = false;
      for (const RunRecord* r : cell) {
        const auto t = trajectory(r->id);
        any = any || !t.empty();
        curves.push_back(run_curves(*r, t));
      }
      if (!any) {
        ++without;
        continue;
      }
      const std::string name =
          fmt::format("curves_{}_e{}_H{}_m{}_p{}", study, e + 1, c.width, c.m, num(c.noise));
      const std::string title = fmt::format("H = {}, m = {}, noise = {}: {} seed{}", c.width, c.m,
                                            num(c.noise), cell.size(), cell.size() == 1 ? "" : "s");
      write_text(page.dir() / (name + ".dat"), curves_data(curves));
      write_text(page.dir() / (name + ".gp"), curves_script(name, title, curves));
      run_gnuplot(page.dir(), name + ".gp");
      std::string ids;
      for (const RunRecord* r : cell) ids += (ids.empty() ? "" : ", ") + std::to_string(r->id);
      html += fmt::format(
          "<figure class=\"curves\" id=\"{0}\">\n<img src=\"{0}.png\" width=\"960\" height=\"640\" "
          "alt=\"{1}\">\n<figcaption><b>Learning curves, {1}.</b> Runs {2}. <span "
          "class=\"files\">Files: {0}.png, {0}.svg, {0}.gp, {0}.dat</span></figcaption>\n"
          "</figure>\n",
          h::escape(name), h::escape(title), ids);
      ++drawn;
    }
    if (!html.empty())
      figures.push_back(fmt::format("<details open>\n<summary>{}</summary>\n{}</details>\n",
                                    h::escape(experiments[e].label), html));
  }
  page.add(fmt::format("<h2 id=\"curves-{0}\">Learning curves ({0})</h2>\n", h::escape(study)));
  page.add(
      "<p>For every sweep cell, each seed's training loss and training error over the epochs "
      "(the running values of each epoch, exact where the whole training set was evaluated), "
      "its test error and its distance from initialization r. Errors are printed in percent. "
      "Test error and r are in a trajectory only every <code>measure_every</code> epochs "
      "(<code>--measure-every N</code>); without it they show their values at the start (r = 0) "
      "and at the end.</p>\n");
  if (drawn == 0) {
    page.add(fmt::format(
        "<div class=\"missing\">No stored trajectories for the {} cells of these runs.</div>\n",
        without));
    return;
  }
  std::string all;
  for (const auto& f : figures) all += f;
  page.add_drawn(all, drawn);
  if (without > 0)
    page.add(fmt::format("<p class=\"muted\">{} cells have no stored trajectory.</p>\n", without));
}

}  // namespace initscope::report
