// The RM23 study: our test of Ramasinghe et al. (ICML 2023), "How much does Initialization
// Affect Generalization?", of which only the abstract is available. The experiments and their
// PASS/FAIL rules are our own operationalization (../shared/research/rm23-operational.md
// §3.2–3.3), not the paper's: the page says so. It reads the coordinate-task runs (signal1d,
// image:NAME) and their Fourier measures (measure/fourier.cpp) and checks, per family of
// initializations (sine ω₀, gaussian width, Fourier-feature σ, gain):
//   rm23-e1-persistence  the top band's energy survives training (ratio in [0.5, 2]);
//   rm23-e1-ordering     lower target frequencies are fitted first (per-frequency curves);
//   rm23-e1-harm         test MSE rises with the initial high-frequency fraction;
//   rm23-e2-harm         test PSNR falls with it on images;
//   rm23-e2-persistence  energy above the training Nyquist frequency at the end tracks the
//                        energy there at initialization;
//   rm23-e3-harm         classifiers (MNIST, line spectra): test error rises with the start's
//                        high-frequency fraction (Kendall τ);
//   rm23-e3-pretrain-harm  pretraining on random labels or noise costs ≥ 2 points of test error;
//   rm23-e4-decay, -bound, -slope  the mechanism: ‖G(ξ, θ)‖ falls with |ξ|, the per-step change
//                        stays under its Cauchy–Schwarz bound, and smooth nets' ‖G‖ decays at
//                        least like 1/|ξ|.
#pragma once

#include <memory>

#include "report/study.hpp"

namespace initscope::report::rm23 {

std::unique_ptr<Study> make_study();

/// True for the runs this study reads: coordinate tasks (signal1d, image:NAME) and classifiers
/// measured with line spectra (--line-segments, E3); the NK17 study leaves them out.
bool is_rm23_run(const RunRecord& r);

/// Spearman's rank correlation of (x, y) with average ranks for ties; NaN for fewer than 3
/// pairs or a constant variable.
double spearman(const std::vector<double>& x, const std::vector<double>& y);
/// Pearson's correlation; NaN for fewer than 3 pairs or a constant variable.
double pearson(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace initscope::report::rm23
