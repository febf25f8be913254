// How well a measure ranks runs by their generalization gap (measures-reference.md §4):
// Kendall's τ over all pairs of runs, Jiang et al.'s granulated Ψ over named factors, and a
// bootstrap interval for τ.
// Semantics, stated once:
//  - pairs are unordered pairs of distinct runs (never a run with itself: PGDL's self-pairs
//    inflate agreement);
//  - τ-a (Jiang's): Σ sign(Δμ)·sign(Δg) over the pairs / the number of pairs; ties count 0 and
//    stay in the denominator. τ-b (scipy's default): the same sum over √((P − T_μ)(P − T_g))
//    with T_μ, T_g the pairs tied in μ or in g; NaN when μ or g is constant;
//  - Ψ: for each factor i, ψ_i is the mean τ over the cells that fix every other factor and
//    contain at least two values of factor i (cells where τ is NaN are skipped and counted);
//    Ψ is the mean of the ψ_i over the factors that have a cell;
//  - the bootstrap resamples runs with replacement and never pairs two copies of one run.
// Factors are compared as strings (a config value's JSON text): keys are tuples, never
// concatenations (PGDL's "1"+"11" = "11"+"1" collision).
// Deliberately left out: Dziugaite et al.'s sign-error environments and the CMI score.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "store/db.hpp"

namespace initscope::report {

enum class TauKind { a, b };

/// τ between mu and g over the items `items` (indices into both; `origin[k]` names the run
/// item k is a copy of, so that copies are never paired; empty: items are distinct runs).
double kendall_tau(std::span<const double> mu, std::span<const double> g, TauKind kind,
                   std::span<const int64_t> items = {}, std::span<const int64_t> origin = {});

struct TauInterval {
  double tau = 0.0;
  double lo = 0.0, hi = 0.0;  // the bootstrap's 2.5% and 97.5% percentiles
  int resamples = 0;
};

/// τ over all runs and its percentile bootstrap interval from `resamples` seeded resamples.
TauInterval kendall_tau_interval(std::span<const double> mu, std::span<const double> g,
                                 TauKind kind, int resamples, uint64_t seed);

struct Granulated {
  double psi = 0.0;                // Ψ (NaN if no factor has a cell)
  std::vector<double> per_factor;  // ψ_i, NaN for a factor without a cell
  std::vector<int64_t> cells;      // cells that entered each ψ_i
  std::vector<int64_t> skipped;    // cells of two or more values whose τ was NaN
};

/// Ψ of mu against g; factors[i][r] is run r's value of factor i.
Granulated granulated_tau(std::span<const double> mu, std::span<const double> g,
                          const std::vector<std::vector<std::string>>& factors, TauKind kind);

// ---- measures against a target over stored runs (`initscope rank`) -------------------------

struct RankOptions {
  std::string target = "gen_error";
  std::vector<std::string> measures;
  std::vector<std::string> by;  // factors of Ψ: configuration keys, or "seed"
  TauKind kind = TauKind::b;
  int resamples = 1000;
  uint64_t seed = 1;
  bool converged_only = true;  // completed runs that met their criterion, as the report uses
};

struct RankRow {
  std::string measure;
  int64_t runs = 0;  // runs that have both the measure and the target (finite)
  TauInterval tau;
  Granulated psi;  // empty per_factor if no --by
};

/// One row per measure, in the order given. Throws Error naming --measures or --by when a name
/// is in no selected run.
std::vector<RankRow> rank_measures(const std::vector<RunRecord>& runs, const RankOptions& o);

}  // namespace initscope::report
