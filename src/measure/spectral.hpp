// Spectral norm ‖A‖₂ (largest singular value) without a full SVD.
// Lanczos on AᵀA (or AAᵀ, whichever is smaller) with full reorthogonalization: each step costs
// two matrix–vector products, and the top Ritz value converges in tens of steps even when the
// top singular values are close, where plain power iteration would need thousands.
// spectral_norm_ref is the reference twin: a dense SVD in double, for tests on small matrices.
#pragma once

#include <cstdint>

namespace initscope {

struct SpectralResult {
  double sigma = 0.0;      // the estimate of ‖A‖₂
  double rel_bound = 0.0;  // a posteriori bound on |σ − ‖A‖₂| / σ from the Lanczos residual
  int iterations = 0;
};

/// A (rows, cols) row-major. Stops once the residual bound on σ is below rel_tol.
SpectralResult spectral_norm(const float* a, int64_t rows, int64_t cols, double rel_tol = 1e-4,
                             uint64_t seed = 0x5eed);

/// All singular values of A by LAPACK's dgesvd, largest first. For tests only.
double spectral_norm_ref(const double* a, int64_t rows, int64_t cols);

}  // namespace initscope
