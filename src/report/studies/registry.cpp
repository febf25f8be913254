// The studies the report knows (see study.hpp): one line each, in the order they appear on the
// page. A study not listed here is never run.
#include "report/studies/nk17.hpp"
#include "report/studies/rm23.hpp"
#include "report/study.hpp"

namespace initscope::report {

const std::vector<StudyFactory>& registered_studies() {
  static const std::vector<StudyFactory> k_studies = {
      &nk17::make_study,
      &rm23::make_study,
  };
  return k_studies;
}

}  // namespace initscope::report
