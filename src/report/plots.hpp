// Plots for the report, drawn by gnuplot: each plot is a data file NAME.dat (one block per line:
// x, centre, low, high, n) and a script NAME.gp written into the report folder, then `gnuplot
// NAME.gp` run there to make NAME.png and NAME.svg. The files stay, so a reader can re-draw or
// restyle a figure with `cd DIR && gnuplot NAME.gp`.
// A line's point is the mean over seeds with ±1 sd, or on a `geometric` plot (quantities spread
// over factors, on a log axis) the geometric mean with the interval ×/÷ the geometric sd, which
// stays positive, and runs more than k_outlier_factor from their cell's median are marked.
// A fitted curve shares its line's key entry, so a figure with many lines keeps a short key.
// Axis ranges and log-axis ticks are computed here rather than left to gnuplot, whose log
// autoscaling widens a narrow range to whole decades and then shows a single tick.
// Deliberately left out: choosing what to plot (the studies) and any other plotting backend.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/aggregate.hpp"

namespace initscope::report {

/// One line of a plot: mean ± sd over seeds at each x.
struct PlotLine {
  std::string title;  // key entry, shown literally
  std::vector<SeriesPoint> points;
  bool reference =
      false;  // drawn in black with open points: a baseline, not one of the compared lines
};

/// A fitted power law y = e^{log_c}·x^k drawn dashed over [x_lo, x_hi].
struct PlotCurve {
  std::string title;
  PowerFit fit;
  double x_lo = 0.0;
  double x_hi = 0.0;
  int line = -1;  // index of the PlotLine whose colour it takes; -1 for black
};

/// A whole plot. Axis labels may use gnuplot's enhanced text ("‖Z_{k}‖_{2}"); the title and
/// key entries are shown literally.
struct PlotSpec {
  std::string name;  // file stem in the report folder
  std::string title;
  std::string xlabel;  // gnuplot enhanced text
  std::string ylabel;
  std::string x_name;  // the same as plain text, for the HTML table of the numbers
  std::string y_name;
  bool log_x = false;        // base 2, ticks at the x values present
  bool log_y = false;        // base 10, ticks at 1-2-5 steps
  bool y_from_zero = false;  // linear y axis from 0 if no value is negative: slopes then show
                             // relative change, and a flat quantity looks flat
  bool geometric = false;    // geometric means ×/÷ geometric sd, outliers marked (log_y plots)
  std::vector<PlotLine> lines = {};
  std::vector<PlotCurve> curves = {};
};

/// One PlotLine per series, titled `prefix` + its key ("m = 4096"), every y times `scale`.
std::vector<PlotLine> lines_from(const std::vector<Series>& series, const std::string& prefix,
                                 double scale = 1.0);
/// A line of one metric against width, one value per seed (width_values_unique_seed): the
/// initialization's norms, which runs of one seed and width share.
PlotLine width_line(const std::vector<const RunRecord*>& runs, const std::string& metric,
                    const std::string& title);
/// The power law fitted to a line's means (fit_power_law).
std::optional<PowerFit> fit_line(const PlotLine& line);
/// The fit drawn over the line's x range in the colour of line number `index`.
PlotCurve curve_for(const PlotLine& line, const PowerFit& fit, int index, const std::string& title);

/// A run is marked as an outlier on a geometric plot when its value is more than this factor
/// above or below the median of its cell's runs (a cell needs ≥ 3 runs to have one).
inline constexpr double k_outlier_factor = 3.0;

/// Where a point is drawn: its centre and the ends of its error bar.
struct PointBand {
  double centre = 0.0, lo = 0.0, hi = 0.0;
};
/// Mean ± sd, or on a geometric plot the geometric mean ×/÷ the geometric sd (over the
/// positive values).
PointBand point_band(const PlotSpec& spec, const SeriesPoint& p);
/// The values of a point more than k_outlier_factor from its median (≥ 3 values), ascending.
std::vector<double> outliers(const SeriesPoint& p);

/// True if some line has ≥ 2 points that can be drawn on the plot's axes (positive on log
/// axes); a plot with only single points says nothing about a trend and is not drawn.
bool drawable(const PlotSpec& spec);

/// The data file's text: one block per line with ≥ 1 drawable point (x, centre, low, high, n),
/// then on a geometric plot one block of outlier runs (x, value); blocks separated by two blank
/// lines (gnuplot's `index`).
std::string gnuplot_data(const PlotSpec& spec);
/// The script's text: the plot for the pngcairo terminal into NAME.png, then the same for the
/// svg terminal into NAME.svg; relative file names only.
std::string gnuplot_script(const PlotSpec& spec);

/// Writes NAME.dat and NAME.gp into `dir` and runs gnuplot there (NAME.png, NAME.svg). Throws Error
/// if a file cannot be written, gnuplot is missing, or gnuplot fails (with its message).
void render_plot(const PlotSpec& spec, const std::filesystem::path& dir);

/// Runs `gnuplot SCRIPT` with `dir` as working directory; throws Error as render_plot does.
void run_gnuplot(const std::filesystem::path& dir, const std::string& script);

}  // namespace initscope::report
