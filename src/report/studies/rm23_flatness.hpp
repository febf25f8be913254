// RM23's comparison of the two explanations of generalization (issue 12, "The comparison"):
// do Fourier measures of the learned function rank runs by their generalization gap better
// than flatness measures of the loss? And Dinh et al.'s rescaling check, which says why one
// might expect so. The RM23 study calls flatness_section() with its runs.
//   rm23-fourier-vs-flatness  PASS if the best Fourier measure's Kendall τ-b against the gap
//       exceeds the best flatness measure's with non-overlapping 95% bootstrap intervals, FAIL
//       if the reverse, INCONCLUSIVE otherwise (the rule is printed beside the verdict).
// The runs it ranks are whichever converged runs have a gap (gen_error, or gen_mse for
// regression tasks), a Fourier metric (any name starting fourier_ but fourier_fit_* and
// fourier_reach_*, the fit to the target: the test error in disguise) and a flatness metric
// (hessian_lambda_max, hessian_trace, sharpness_eps, sharpness_alpha, sharpness_mag_alpha,
// pacbayes_sigma, pacbayes_mag_sigma); runs of the two gaps are ranked apart, never together.
// Each measure is signed in the direction its view predicts (a larger value, a larger gap: σ
// and α, where flatter means larger, are negated). The rescaling check is computed here, on a
// small ReLU network fitted to signal1d: layer 1 times α, layer 2 times 1/α (powers of two, so
// the function is the same to the last bit), with its Fourier and curvature measures.
#pragma once

#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "report/claims.hpp"
#include "report/page.hpp"
#include "report/study.hpp"
#include "store/db.hpp"

namespace initscope::report::rm23 {

/// Adds the comparison's section (the τ table and figure, and the rescaling check) to `page`
/// and returns the claim rm23-fourier-vs-flatness.
Claim flatness_section(const std::vector<const RunRecord*>& runs, const StudyContext& context,
                       Page& page);

/// One measure's ranking: its τ-b against the gap, signed by `direction`, with its interval.
struct MeasureTau {
  std::string measure;
  bool fourier = false;  // a Fourier measure (else a flatness one)
  int direction = 1;     // +1: a larger value predicts a larger gap; −1: a smaller one
  int64_t runs = 0;
  double tau = 0.0, lo = 0.0, hi = 0.0;
};

/// The rule of rm23-fourier-vs-flatness on measured τs (NaN τs are ignored): SKIP if either
/// view has none.
Verdict fourier_vs_flatness_verdict(const std::vector<MeasureTau>& taus);

/// The rescaling check's measurements: for each α (1, 4, 16, 64) the errors, Fourier and
/// flatness (lambda_max, trace) metrics of the fitted network rescaled by α; and how it was fitted.
struct Rescaled {
  double alpha = 1.0;
  Metrics metrics;
};
struct RescalingCheck {
  std::vector<Rescaled> rows;
  std::string stopped_by;
  double steps = 0.0;
};
RescalingCheck rescaling_check();

/// The flatness measures the comparison ranks and their directions (+1 or −1).
const std::vector<std::pair<std::string, int>>& flatness_directions();

}  // namespace initscope::report::rm23
