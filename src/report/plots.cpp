// gnuplot data files, scripts and the gnuplot process (see plots.hpp).
#include "report/plots.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include <fmt/core.h>

#include "common/error.hpp"

namespace initscope::report {

namespace {

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
constexpr const char* k_colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                     "#E69F00", "#56B4E9", "#000000", "#999933"};
constexpr int k_num_colours = static_cast<int>(sizeof(k_colours) / sizeof(k_colours[0]));

bool usable(const PlotSpec& s, double x, double y) {
  if (!std::isfinite(x) || !std::isfinite(y)) return false;
  if (s.log_x && x <= 0.0) return false;
  if (s.log_y && y <= 0.0) return false;
  return true;
}

std::vector<SeriesPoint> usable_points(const PlotSpec& s, const PlotLine& line) {
  std::vector<SeriesPoint> out;
  for (const auto& p : line.points)
    if (usable(s, p.x, p.y.mean)) out.push_back(p);
  return out;
}

// A gnuplot double-quoted string literal.
std::string gp_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// A number written so gnuplot reads it back exactly enough to draw.
std::string g(double v) {
  return fmt::format("{:.10g}", v);
}

// A "nice" step (1, 2 or 5 × 10^e) near `raw`.
double nice_step(double raw) {
  const double e = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / e;
  return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * e;
}

// A tick label in gnuplot enhanced text: plain below 10^5, else "2·10^{11}".
std::string tick_text(double v) {
  // Whole numbers in full: {:.4g} would print 10000 as "1e+04".
  if (std::fabs(v) < 1e5 && v == std::floor(v)) return fmt::format("{:.0f}", v);
  if (std::fabs(v) >= 1e-3 && std::fabs(v) < 1e5) return fmt::format("{:.4g}", v);
  const int e = static_cast<int>(std::floor(std::log10(std::fabs(v)) + 1e-9));
  const double mantissa = std::stod(fmt::format("{:.3g}", v / std::pow(10.0, e)));
  return mantissa == 1.0 ? fmt::format("10^{{{}}}", e) : fmt::format("{:g}·10^{{{}}}", mantissa, e);
}

// Ticks for a log10 axis over [lo, hi]: decades, else 1-2-5 steps, else (a range within about
// a factor of 3) evenly spaced nice values, which read better than a lone tick.
std::vector<double> log_ticks(double lo, double hi) {
  const int e0 = static_cast<int>(std::floor(std::log10(lo))),
            e1 = static_cast<int>(std::ceil(std::log10(hi)));
  for (const auto& mantissas : {std::vector<double>{1}, std::vector<double>{1, 2, 5}}) {
    std::vector<double> t;
    const int every = std::max(1, (e1 - e0) / 8);  // at most about 8 decades labelled
    for (int e = e0; e <= e1; e += every)
      for (double m : mantissas) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo && v <= hi) t.push_back(v);
      }
    if (t.size() >= 3) return t;
  }
  std::vector<double> t;
  const double step = nice_step((hi - lo) / 6.0);
  for (double v = std::ceil(lo / step) * step; v <= hi * (1 + 1e-12); v += step) t.push_back(v);
  return t;
}

double curve_at(const PlotCurve& c, double x) {
  return std::exp(c.fit.log_c) * std::pow(x, c.fit.k);
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return quantile_sorted(v, 0.5);
}

}  // namespace

PointBand point_band(const PlotSpec& spec, const SeriesPoint& p) {
  if (!spec.geometric) return {p.y.mean, p.y.mean - p.y.sd, p.y.mean + p.y.sd};
  // On a log axis the natural centre and spread are those of log y: a run ten times the others
  // moves the geometric mean by a factor, not the arithmetic mean by an order of magnitude.
  std::vector<double> logs;
  for (double v : p.values)
    if (std::isfinite(v) && v > 0.0) logs.push_back(std::log(v));
  if (logs.empty()) return {p.y.mean, p.y.mean, p.y.mean};
  const Stats l = stats(logs);
  return {std::exp(l.mean), std::exp(l.mean - l.sd), std::exp(l.mean + l.sd)};
}

std::vector<double> outliers(const SeriesPoint& p) {
  std::vector<double> out;
  if (p.values.size() < 3) return out;
  const double med = median_of(p.values);
  if (!(med > 0.0)) return out;
  for (double v : p.values)
    if (v > med * k_outlier_factor || v < med / k_outlier_factor) out.push_back(v);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<PlotLine> lines_from(const std::vector<Series>& series, const std::string& prefix,
                                 double scale) {
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

PlotLine width_line(const std::vector<const RunRecord*>& runs, const std::string& metric,
                    const std::string& title) {
  PlotLine l{title, {}};
  for (const auto& [w, v] : width_values_unique_seed(runs, metric))
    if (!v.empty()) l.points.push_back(SeriesPoint{static_cast<double>(w), stats(v), v});
  return l;
}

std::optional<PowerFit> fit_line(const PlotLine& line) {
  std::vector<double> x, y;
  for (const auto& p : line.points) {
    x.push_back(p.x);
    y.push_back(p.y.mean);
  }
  return fit_power_law(x, y);
}

PlotCurve curve_for(const PlotLine& line, const PowerFit& fit, int index,
                    const std::string& title) {
  return PlotCurve{title, fit, line.points.front().x, line.points.back().x, index};
}

bool drawable(const PlotSpec& spec) {
  for (const auto& l : spec.lines)
    if (usable_points(spec, l).size() >= 2) return true;
  return false;
}

std::string gnuplot_data(const PlotSpec& spec) {
  std::string out =
      fmt::format("# {}\n# One block per line (gnuplot `index`), columns: x  {}  n{}\n", spec.title,
                  spec.geometric ? "geometric_mean  mean/gsd  mean*gsd" : "mean  mean-sd  mean+sd",
                  spec.geometric ? "\n# Last block: outlier runs, columns: x  value" : "");
  bool first = true;
  for (const auto& l : spec.lines) {
    const auto pts = usable_points(spec, l);
    if (pts.empty()) continue;
    if (!first) out += "\n\n";
    first = false;
    out += fmt::format("# {}\n", l.title);
    for (const auto& p : pts) {
      const PointBand b = point_band(spec, p);
      out += fmt::format("{} {} {} {} {}\n", g(p.x), g(b.centre), g(b.lo), g(b.hi), p.y.n);
    }
  }
  if (spec.geometric) {
    std::string rows;
    for (const auto& l : spec.lines)
      for (const auto& p : usable_points(spec, l))
        for (double v : outliers(p)) rows += fmt::format("{} {}\n", g(p.x), g(v));
    if (!rows.empty()) out += "\n\n# outlier runs\n" + rows;
  }
  return out;
}

std::string gnuplot_script(const PlotSpec& spec) {
  // Ranges from the data (error bars, outliers and fitted curves included), padded a little.
  std::set<double> xs;
  double ylo = std::numeric_limits<double>::infinity(), yhi = -ylo;
  auto take_y = [&](double y) {
    if (!std::isfinite(y) || (spec.log_y && y <= 0.0)) return;
    ylo = std::min(ylo, y);
    yhi = std::max(yhi, y);
  };
  bool any_outlier = false;
  for (const auto& l : spec.lines)
    for (const auto& p : usable_points(spec, l)) {
      xs.insert(p.x);
      const PointBand b = point_band(spec, p);
      take_y(b.centre);
      take_y(b.lo);
      take_y(b.hi);
      if (spec.geometric)
        for (double v : outliers(p)) {
          take_y(v);
          any_outlier = true;
        }
    }
  for (const auto& c : spec.curves) {
    take_y(curve_at(c, c.x_lo));
    take_y(curve_at(c, c.x_hi));
  }
  std::string b;  // everything after the terminal: drawn once per terminal
  for (int i = 0; i < k_num_colours; ++i)
    b += fmt::format("set linetype {} lc rgb \"{}\" lw 2 pt 7 ps 1.1\n", i + 1, k_colours[i]);
  b += fmt::format("set title {} noenhanced\n", gp_string(spec.title));
  b +=
      fmt::format("set xlabel {}\nset ylabel {}\n", gp_string(spec.xlabel), gp_string(spec.ylabel));
  b += "set grid lc rgb \"#d0d0d0\" lw 1\nset border lc rgb \"#404040\"\n";
  if (!xs.empty()) {
    const double lo = *xs.begin(), hi = *xs.rbegin();
    if (spec.log_x) {
      b += "set logscale x 2\n";
      b += fmt::format("set xrange [{}:{}]\n", g(lo / 1.3), g(hi * 1.3));
    } else {
      const double pad = hi > lo ? 0.06 * (hi - lo) : 0.5;
      b += fmt::format("set xrange [{}:{}]\n", g(lo - pad), g(hi + pad));
    }
    if (xs.size() <= 12) {
      std::string tics;
      for (double x : xs)
        tics += fmt::format("{}\"{}\" {}", tics.empty() ? "" : ", ", num(x), g(x));
      b += fmt::format("set xtics ({})\n", tics);
    }
  }
  if (std::isfinite(ylo)) {
    if (spec.log_y) {
      b += "set logscale y 10\n";
      const double lo = ylo, hi = std::max(yhi, ylo * 1.0001);
      const double pad = std::max(std::pow(hi / lo, 0.06), 1.05);
      b += fmt::format("set yrange [{}:{}]\n", g(lo / pad), g(hi * pad));
      std::string tics;
      for (double t : log_ticks(lo / pad, hi * pad))
        tics += fmt::format("{}\"{}\" {}", tics.empty() ? "" : ", ", tick_text(t), g(t));
      b += fmt::format("set ytics ({})\n", tics);
    } else {
      // From zero, a quantity's relative change is what the eye sees as a slope.
      const bool zero = spec.y_from_zero && ylo >= 0.0;
      const double lo = zero ? 0.0 : ylo;
      const double span = yhi - lo;
      const double pad = span > 0 ? 0.08 * span : std::max(std::fabs(lo) * 0.1, 1e-3);
      b += fmt::format("set yrange [{}:{}]\n", g(zero ? 0.0 : lo - pad), g(yhi + pad));
    }
  }
  b += "set samples 400\n";
  // A curve drawn in a line's colour shares that line's key entry: "H = 64 (fit: k = 0.3)".
  std::vector<std::string> titles;
  for (const auto& l : spec.lines) titles.push_back(l.title);
  for (const auto& c : spec.curves)
    if (c.line >= 0 && static_cast<size_t>(c.line) < titles.size())
      titles[static_cast<size_t>(c.line)] += " (" + c.title + ")";
  std::vector<std::string> items;
  int block = 0;
  for (size_t i = 0; i < spec.lines.size(); ++i) {
    const auto pts = usable_points(spec, spec.lines[i]);
    if (pts.empty()) continue;
    const bool spread =
        std::any_of(pts.begin(), pts.end(), [](const SeriesPoint& p) { return p.y.n > 1; });
    const std::string style = spec.lines[i].reference
                                  ? std::string("lc rgb \"#000000\" pt 6 dt 3")
                                  : fmt::format("lt {}", static_cast<int>(i % k_num_colours) + 1);
    items.push_back(fmt::format(
        "{} index {} using 1:2{} with {} {} title {}", gp_string(spec.name + ".dat"), block,
        spread ? ":3:4" : "", spread ? "yerrorlines" : "linespoints", style, gp_string(titles[i])));
    ++block;
  }
  if (any_outlier)
    items.push_back(fmt::format(
        "{} index {} using 1:2 with points pt 6 ps 2.2 lw 2 lc rgb \"#cf222e\" title {}",
        gp_string(spec.name + ".dat"), block,
        gp_string(fmt::format("outlier run (> {:g}× from its cell's median)", k_outlier_factor))));
  int entries = static_cast<int>(items.size());
  for (size_t i = 0; i < spec.curves.size(); ++i) {
    const auto& c = spec.curves[i];
    b += fmt::format("fit{}(x) = (x >= {} && x <= {}) ? exp({}) * x**({}) : 1/0\n", i, g(c.x_lo),
                     g(c.x_hi), g(c.fit.log_c), g(c.fit.k));
    const bool own = c.line < 0 || static_cast<size_t>(c.line) >= spec.lines.size();
    const std::string colour =
        c.line >= 0 ? fmt::format("lt {}", c.line % k_num_colours + 1) : "lc rgb \"#000000\"";
    items.push_back(fmt::format("fit{}(x) with lines {} dt 2 lw 1.5 {}", i, colour,
                                own ? "title " + gp_string(c.title) : std::string("notitle")));
    entries += own ? 1 : 0;
  }
  // Beside the plot while the key is short; below it, in columns, when it has many or long
  // entries, so that the plot keeps its width.
  size_t longest = 0;
  for (const auto& t : titles) longest = std::max(longest, t.size());
  if (any_outlier) longest = std::max<size_t>(longest, 40);
  b += entries > 4 || longest > 28
           ? "set key outside below center horizontal maxcols 3 noenhanced spacing 1.2 width 2\n"
           : "set key outside right top noenhanced spacing 1.3\n";
  b += "plot ";
  for (size_t i = 0; i < items.size(); ++i) b += (i ? ", \\\n     " : "") + items[i];
  b += "\n";

  std::string s;
  s += fmt::format("# {}\n", spec.title);
  s += fmt::format("# Written by `initscope report`. Data: {}.dat (blocks: x {} n).\n", spec.name,
                   spec.geometric ? "geometric_mean low high" : "mean low high");
  s += fmt::format("# Re-draw in this folder with: gnuplot {}.gp ({}.png and {}.svg)\n", spec.name,
                   spec.name, spec.name);
  s += "set encoding utf8\n";
  s += "set terminal pngcairo size 960,600 enhanced font \"DejaVu Sans,12\" linewidth 1.2\n";
  s += fmt::format("set output {}\n", gp_string(spec.name + ".png"));
  s += b;
  s += "set terminal svg size 960,600 enhanced font \"DejaVu Sans,12\" linewidth 1.2 background "
       "\"#ffffff\"\n";
  s += fmt::format("set output {}\n", gp_string(spec.name + ".svg"));
  s += b;
  s += "set output\n";
  return s;
}

namespace {

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream f(file, std::ios::binary);
  if (f) f << text;
  if (!f)
    throw Error(fmt::format("{}: cannot write the file ({})", file.string(), std::strerror(errno)));
}

}  // namespace

void run_gnuplot(const std::filesystem::path& dir, const std::string& script) {
  int err[2];
  if (pipe(err) != 0)
    throw Error(fmt::format("cannot start gnuplot: pipe failed ({})", std::strerror(errno)));
  const pid_t pid = fork();
  if (pid < 0) {
    close(err[0]);
    close(err[1]);
    throw Error(fmt::format("cannot start gnuplot: fork failed ({})", std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: stdin/stdout to /dev/null, stderr to the pipe, run in the report folder.
    dup2(err[1], 2);
    close(err[0]);
    close(err[1]);
    const int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
      dup2(null_fd, 1);
    }
    if (chdir(dir.c_str()) != 0) _exit(126);
    execlp("gnuplot", "gnuplot", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(err[1]);
  std::string message;
  char buf[4096];
  for (ssize_t n; (n = read(err[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    message.append(buf, static_cast<size_t>(n));
  }
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string where = (dir / script).string();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    throw Error(fmt::format(
        "gnuplot not found on PATH: it draws the report's plots (apt-get install gnuplot-nox); "
        "the scripts are in {}",
        dir.string()));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
    throw Error(fmt::format("{}: cannot enter the report folder to run gnuplot", dir.string()));
  if (message.size() > 800) message = message.substr(0, 800) + "...";
  throw Error(
      fmt::format("gnuplot failed on {}: {}", where, message.empty() ? "no message" : message));
}

void render_plot(const PlotSpec& spec, const std::filesystem::path& dir) {
  write_text(dir / (spec.name + ".dat"), gnuplot_data(spec));
  write_text(dir / (spec.name + ".gp"), gnuplot_script(spec));
  run_gnuplot(dir, spec.name + ".gp");
}

}  // namespace initscope::report
