// The Hessian's spectral density by stochastic Lanczos quadrature (SLQ; Ghorbani et al. 2019,
// PyHessian's density(), measures-reference.md §1.4), for any symmetric operator (hessian.hpp's
// SymmetricOp: the Hessian of the training loss, or a test matrix).
// Per run: a Rademacher start r (±1 entries, the same probes hutchinson_trace draws from the same
// seed, so n·Σ_j w_j θ_j of run p equals its p-th Hutchinson sample rᵀAr), normalized; `iter`
// Lanczos steps with full reorthogonalization (twice); nodes θ_j = eig(T) by the symmetric
// tridiagonal solver (LAPACK dstev, never a general eig: PyHessian's issues #17/#22), weights
// w_j = (first component of T's eigenvector j)², which sum to 1. If β vanishes (the Krylov space
// is exhausted: A = I stops after one step) a fresh random vector orthogonal to the basis
// continues with β = 0, as PyHessian does, so T is block-diagonal and the new block's nodes get
// weight 0; never a NaN. The smoothing is PyHessian's density_generate: Gaussians of variance
// sigma_squared·max(1, θ_max − θ_min) on a grid over [min θ − overhead, max θ + overhead],
// averaged over runs and normalized so that Σ density·Δx = 1.
// Deliberately left out: a registered measure and run option (the density is an array per run;
// the scalar flatness measures are what rank and report use today).
#pragma once

#include <cstdint>
#include <vector>

#include "measure/hessian.hpp"

namespace initscope {

struct SlqResult {
  std::vector<std::vector<double>> nodes;    // (runs, steps) θ_j of each run, ascending
  std::vector<std::vector<double>> weights;  // (runs, steps) w_j, each run summing to 1
  int products = 0;                          // products with the operator
};

/// `runs` runs of min(iter, n) Lanczos steps each, from the Rademacher probes of `seed`.
SlqResult slq(const SymmetricOp& op, size_t n, int iter, int runs, uint64_t seed);

struct SpectralDensity {
  std::vector<double> grid, density;  // (bins) each
  double variance = 0.0;              // the Gaussian kernel's variance used
};

/// PyHessian's smoothing of the quadrature (defaults: its density_generate's).
SpectralDensity slq_density(const SlqResult& r, int bins = 10000, double sigma_squared = 1e-5,
                            double overhead = 0.01);

}  // namespace initscope
