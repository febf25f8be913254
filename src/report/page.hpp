// The report page: the parts every report has, whatever paper it checks. A header naming the
// database, cards counting the runs by how they are used, the claims table (each claim's rule
// beside its verdict), a table of runs by status, the studies' own sections and figures, the
// list of excluded runs (capped, diverged, failed, interrupted: counted and listed, never mixed
// in), and a footer saying how to re-draw the figures. Studies (study.hpp) add to it; write()
// puts the parts in that fixed order and writes DIR/index.html.
// Deliberately left out: anything a paper says (studies/), choosing runs, and computing claims.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "report/claims.hpp"
#include "report/plots.hpp"
#include "store/db.hpp"

namespace initscope::report {

/// How many runs the report uses, and how many it leaves out and why (see classify()).
struct RunCounts {
  int total = 0;      // runs in the database
  int trained = 0;    // completed and converged: plots and claims
  int init_only = 0;  // completed with max_steps = 0
  int capped = 0;     // completed but stopped by a cap (excluded)
  int other = 0;      // diverged, failed, running or interrupted (excluded)
};
/// `capped` counts every run a cap ended (is_capped), included or not; with `include_capped`
/// they are among `trained` too.
RunCounts count_runs(const std::vector<RunRecord>& runs, bool include_capped = false);

/// The runs the report leaves out (classify() == excluded), oldest first.
std::vector<const RunRecord*> excluded_runs(const std::vector<RunRecord>& runs,
                                            bool include_capped = false);

/// A share of a sweep's training runs left out at or above which the page warns at its top.
inline constexpr double k_warn_excluded_fraction = 0.1;

/// One line describing a run's configuration, for the excluded-runs table:
/// "mnist H=256 m=4096 noise=0 seed=1 loss=ce lr=0.1 stop=margin:10:0.99".
std::string config_summary(const RunRecord& run);

class Page {
 public:
  /// `db` is shown in the header and footer; figures are drawn into `dir`. `runs` (every run in
  /// the database, counted and its excluded runs listed) must outlive the page.
  /// `include_capped`: runs a cap ended are used (report --include-capped), and marked.
  Page(std::filesystem::path db, std::filesystem::path dir, const std::vector<RunRecord>& runs,
       bool include_capped = false);

  /// The repeats the report does not count: (dropped run, the repeat used in its place).
  void set_repeats(std::vector<std::pair<const RunRecord*, const RunRecord*>> superseded);
  /// The warnings the page opens with, as plain text: many runs excluded, capped runs left
  /// out (and the flag that includes them) or included, repeats counted once.
  std::vector<std::string> warnings_text() const;

  /// Adds " · HTML" to the header line (a study says which paper it reproduces).
  void cite(const std::string& html);
  /// Adds claims to the claims table, in order.
  void add_claims(const std::vector<Claim>& claims);
  /// Adds HTML to the "Runs" section, after the table of runs by status.
  void add_runs_note(const std::string& html);

  /// Adds HTML to the body (the studies' sections, in order).
  void add(const std::string& html);
  /// A heading of level 2 or 3 in the body; `text_html` is HTML (escape text yourself).
  void heading(int level, const std::string& text_html);
  /// A table in the body (see html::table).
  void table(const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows, const std::string& css_class = "");
  /// The next numbered figure: drawn with gnuplot into the folder if it has a trend to show
  /// (drawable()), else a notice saying `why` not, with whatever points exist. Its caption calls
  /// it `label` ("Figure 2(c)": a study that follows a paper's numbering), or "Figure N" with N
  /// counting the figures added without a label.
  void figure(const PlotSpec& spec, const std::string& caption_html, const std::string& why,
              const std::string& label = "");

  /// Adds the HTML of `plots` figures a module drew itself into dir() (learning curves),
  /// counted in plots().
  void add_drawn(const std::string& html, int plots);
  /// The report folder figures are drawn into (and pictures a study writes itself).
  const std::filesystem::path& dir() const { return dir_; }

  /// What the figures added without a label are numbered with: "Figure " + prefix + N ("S" for
  /// a study whose labels follow a paper and whose own figures are supplementary: "Figure S3").
  void set_unlabeled_prefix(const std::string& prefix) { unlabeled_prefix_ = prefix; }

  const std::vector<Claim>& claims() const { return claims_; }
  int plots() const { return plots_; }

  /// The whole page's HTML, parts in their fixed order.
  std::string html() const;
  /// Writes DIR/index.html and returns its path. Throws Error naming --out if it cannot.
  std::filesystem::path write() const;

 private:
  std::string header() const;
  std::string warnings_html() const;
  RunCounts counted_runs() const;
  bool superseded(const RunRecord& r) const;
  std::string claims_section() const;
  std::string runs_section() const;
  std::string excluded_section() const;
  std::string footer() const;

  std::filesystem::path db_;
  std::filesystem::path dir_;
  const std::vector<RunRecord>& runs_;
  bool include_capped_ = false;
  std::vector<std::pair<const RunRecord*, const RunRecord*>> superseded_;
  std::vector<std::string> cites_;
  std::vector<Claim> claims_;
  std::string runs_notes_;
  std::string body_;
  int figures_ = 0;
  std::string unlabeled_prefix_;
  int plots_ = 0;
};

}  // namespace initscope::report
