// Turning stored runs into the numbers behind the report: which runs count, how they group into
// experiments and sweep cells, means and spreads over seeds, power-law fits and their bootstrap
// confidence intervals.
//
// A run is used for plots and claims only if it completed and converged (a stopping criterion,
// not a cap, ended it); initialization-only runs (max_steps = 0) feed the theory checks; every
// other run is excluded and listed, never mixed in. An *experiment* is a configuration minus
// the swept coordinates (width, m, noise), the seed and the keys that cannot change a converged
// run's result (threads, caps, measure_every); a *sweep cell* is an experiment at one
// (width, m, noise), and its runs are replicates over seeds.
// Deliberately left out: any reading of the database (callers pass RunRecords) and any output.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/db.hpp"

namespace initscope::report {

/// Mean and spread of replicates. `sd` is the sample standard deviation (n − 1), 0 when n < 2.
struct Stats {
  int n = 0;
  double mean = 0.0;
  double sd = 0.0;
};

/// Stats of the values; n = 0 (mean 0) for an empty span.
Stats stats(std::span<const double> values);

/// Quantile q ∈ [0, 1] of sorted values by linear interpolation between order statistics
/// (Hyndman–Fan type 7, R's default). `sorted` must be non-empty and ascending.
double quantile_sorted(std::span<const double> sorted, double q);

/// y = c·x^k fitted by least squares on (log x, log y).
struct PowerFit {
  double k = 0.0;      // exponent
  double log_c = 0.0;  // natural log of the prefactor
  int points = 0;      // (x, y) pairs used
  double r2 = 0.0;     // coefficient of determination in log space (1 if the residuals are 0)
};

/// Fits y ∝ x^k. nullopt unless there are ≥ 2 distinct x and every x and y is finite and > 0.
std::optional<PowerFit> fit_power_law(std::span<const double> x, std::span<const double> y);

/// One x with the replicate values observed there (one per seed).
struct Group {
  double x = 0.0;
  std::vector<double> ys;
};

/// A two-sided percentile interval.
struct Interval {
  double lo = 0.0;
  double hi = 0.0;
};

/// Percentile bootstrap interval for the exponent of fit_power_law over the seed means: each
/// resample draws, within every group, as many replicates as it has, with replacement, and
/// refits on the resampled means. `seed` feeds an Rng stream named "bootstrap". nullopt if the
/// data cannot be fitted.
std::optional<Interval> bootstrap_exponent(const std::vector<Group>& groups, int resamples,
                                           uint64_t seed, double level = 0.95);

/// A statistic of the seed means of several groups of replicates (one mean per group, in the
/// groups' order); nullopt where it has no value.
using MeansStatistic = std::function<std::optional<double>(const std::vector<double>& means)>;

/// Percentile bootstrap interval of `statistic` over seeds: each resample redraws, within every
/// group, as many replicates as it has, with replacement, and applies the statistic to the
/// resampled means (resamples without a value are skipped). A group with one replicate adds no
/// spread. `seed` feeds an Rng stream named "bootstrap". nullopt if the statistic has no value
/// on the data or a group is empty.
std::optional<Interval> bootstrap_statistic(const std::vector<std::vector<double>>& groups,
                                            const MeansStatistic& statistic, int resamples,
                                            uint64_t seed, double level = 0.95);

/// The least-squares slope of y on x; nullopt unless there are ≥ 2 distinct x.
std::optional<double> slope(std::span<const double> x, std::span<const double> y);

/// How the report uses a run.
enum class RunUse {
  trained,    // completed and converged: plots and claims
  init_only,  // completed with max_steps = 0: theory checks
  excluded,   // capped, diverged, failed, running, interrupted: listed, never used
};

/// True if the run's config asks to measure the initialization only (max_steps = 0).
bool is_init_only(const RunRecord& run);
/// True if a cap (max_epochs, max_steps, ...) ended a completed run, not a stopping criterion:
/// among them every run trained for a fixed number of epochs.
bool is_capped(const RunRecord& run);
/// True if the run collapsed: its training loss sat at chance level until `--stop plateau:N`
/// ended it. Never used, whatever the options: a collapsed network fits nothing.
bool is_collapsed(const RunRecord& run);
/// How the report uses the run; with `include_capped` (report --include-capped) a run a cap
/// ended counts as trained, for reports on sweeps without a stopping criterion.
RunUse classify(const RunRecord& run, bool include_capped = false);
/// Why an excluded run is left out ("stopped by cap max_epochs", "diverged: loss is NaN", ...).
std::string exclusion_reason(const RunRecord& run);
/// The reason's kind, for counts: "stopped by a cap", "diverged", "collapsed", "failed",
/// "interrupted", "running".
std::string exclusion_kind(const RunRecord& run);
/// "2 stopped by a cap; 1 diverged" over the runs' exclusion_kind(); "" for none.
std::string exclusion_summary(const std::vector<const RunRecord*>& runs);

/// Repeats of one run: runs with the same configuration and seed (`train --again`, a sweep run
/// twice into one database, a run resumed after it failed). The report counts each once, or
/// two repeats of one seed would count as two seeds and shrink the error bars.
struct Repeats {
  std::vector<const RunRecord*> kept;  // one per configuration and seed, in the input order
  /// (dropped run, the repeat kept in its place)
  std::vector<std::pair<const RunRecord*, const RunRecord*>> superseded;
};
/// The key that makes runs repeats: the stored configuration (normalized) without the options
/// that cannot change a finished run's trained weights (execution options, the caps, how often
/// and what is measured), with the seed, and whether it measured the initialization only.
std::string repeat_key(const RunRecord& run);
/// Keeps, of each set of repeats, the latest completed run (by id), or the latest run if none
/// completed.
Repeats drop_repeats(const std::vector<const RunRecord*>& runs);

/// Where a run sits in a sweep. `m` is the training-set size actually used (the `m` metric
/// when stored, else config m, which is 0 for "all").
struct Coord {
  int64_t width = 0;
  int64_t m = 0;
  double noise = 0.0;
  auto operator<=>(const Coord&) const = default;
};
Coord coord_of(const RunRecord& run);
/// True on clean labels (noise = 0), where the paper's width and m claims are made.
inline bool clean_labels(const Coord& c) {
  return c.noise == 0.0;
}

/// The swept coordinates a plot can put on an axis or draw one line per value of.
enum class Axis { width, m, noise };
double axis_value(const Coord& c, Axis axis);

/// Runs that share every configuration key outside a sweep's coordinates.
struct Experiment {
  nlohmann::json key;                  // the shared configuration keys
  std::string label;                   // short human description ("mnist ce lr=0.1 ...")
  int depth = 0;                       // weight layers d
  std::vector<const RunRecord*> runs;  // oldest first
  /// The runs of the same key the report leaves out (capped, diverged, collapsed, failed):
  /// never in a statistic, counted beside the claims (attach_excluded).
  std::vector<const RunRecord*> excluded = {};
};

/// Adds to each experiment the `excluded` runs with its key (key_of(config)); an excluded run
/// whose key has no experiment starts one with no used runs, so that a claim can say its runs
/// were all excluded.
void attach_excluded(std::vector<Experiment>& experiments,
                     const std::vector<const RunRecord*>& excluded,
                     const std::function<nlohmann::json(const nlohmann::json&)>& key_of);

// experiment_key and init_key are the only places the report derives a grouping key from a
// stored config: every study groups with group_runs(runs, experiment_key) or
// group_runs(runs, init_key), and a sweep cell is an experiment at one coord_of(). Changing how
// runs group (e.g. a key from the option table) is a change to these two functions alone. Note
// that NK17 seeds each experiment's bootstrap with derive_seed(seed, key.dump()), so a key that
// is spelled differently moves the bootstrap intervals, not the fits.

/// The experiment key of a config: its result options (the option table's role `result`: not
/// the seed, sizes and caps, which vary within an experiment, nor threads and train_eval), read
/// through normalized_config, so a run stored before an option existed groups with the runs
/// stored after at that option's default.
nlohmann::json experiment_key(const nlohmann::json& config);
/// The key that fixes the distribution of the initialization Z at a given width: the options
/// marked init_distribution in the option table (dataset, classes, depth, init, init_gain,
/// init_from, ...).
nlohmann::json init_key(const nlohmann::json& config);

/// Groups runs by key_of(config), in order of first appearance, and labels each group by its
/// main keys plus any key that differs between groups.
std::vector<Experiment> group_runs(
    const std::vector<const RunRecord*>& runs,
    const std::function<nlohmann::json(const nlohmann::json&)>& key_of);

/// The finite values of `metric` per sweep cell, one per run (runs lacking it are skipped).
std::map<Coord, std::vector<double>> cell_values(const std::vector<const RunRecord*>& runs,
                                                 const std::string& metric);

/// The finite values of `metric` per width, one per seed (later runs with a seed already seen at
/// that width are ignored: the initialization depends only on seed and shape, so they would
/// repeat the same draw).
std::map<int64_t, std::vector<double>> width_values_unique_seed(
    const std::vector<const RunRecord*>& runs, const std::string& metric);

/// One point of a plotted line: x and the replicates there.
struct SeriesPoint {
  double x = 0.0;
  Stats y;
  std::vector<double> values;
};

/// One plotted line, keyed by the value of its `line` axis (an m, a width, a noise level).
struct Series {
  double key = 0.0;
  std::vector<SeriesPoint> points;  // ascending x
};

/// Lines of the cells' values against axis `x`, one per value of axis `line`, over the cells
/// for which `keep` holds (all if empty). Lines are ordered by key.
std::vector<Series> make_series(const std::map<Coord, std::vector<double>>& cells, Axis x,
                                Axis line, const std::function<bool(const Coord&)>& keep = {});

/// Groups for bootstrap_exponent from one series (x and its replicate values).
std::vector<Group> groups_of(const Series& series);

/// Formats a number compactly for tables and claim lines (4 significant digits).
std::string num(double v);

}  // namespace initscope::report
