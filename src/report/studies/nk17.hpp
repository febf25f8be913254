// The study of Nagarajan & Kolter 2017, "Generalization in Deep Networks: The Role of Distance
// from Initialization" ("NK17"): distance from initialization r and generalization error against
// width H, training-set size m and label noise (Section 4, Appendix D), the init-free norms of
// Section 6, and the theory checks on the initialization (Corollary A.2.1, Propositions 6.1 and
// 6.2). Its claims and their thresholds live in nk17_claims.hpp.
// It reads every run in the database: completed, converged runs grouped into experiments
// (experiment_key) feed the figures and claims, initialization-only runs grouped by init_key
// feed the theory checks; the page lists the rest as excluded.
// Deliberately left out: the page's generic parts (page.hpp).
#pragma once

#include <memory>

#include "report/study.hpp"

namespace initscope::report::nk17 {

/// The NK17 study, for registered_studies().
std::unique_ptr<Study> make_study();

}  // namespace initscope::report::nk17
