// Tests for src/report/study.hpp and the study registry: a fake study's section, figure and
// claim appear on the page and in the result, a study that selects no runs adds nothing, studies
// follow their order in the list, and the registered list starts with NK17.
#include "report/study.hpp"

#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "report/report.hpp"
#include "report/studies/nk17_claims.hpp"
#include "synthetic_db.hpp"

namespace initscope::report {
namespace {

using namespace initscope::report::testing;

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Takes the runs of one width, draws r against m and claims that there are at least two.
template <int64_t Width>
class FakeStudy final : public Study {
 public:
  std::string name() const override { return "fake"; }
  std::vector<const RunRecord*> select(const std::vector<RunRecord>& all) const override {
    std::vector<const RunRecord*> out;
    for (const auto& r : all)
      if (classify(r) == RunUse::trained && coord_of(r).width == Width) out.push_back(&r);
    return out;
  }
  std::vector<Claim> build(const std::vector<const RunRecord*>& runs, const StudyContext&,
                           Page& page) const override {
    page.cite(fmt::format("checking <i>Fake {}</i>", Width));
    page.heading(2, fmt::format("Fake study at H = {}", Width));
    page.figure(
        PlotSpec{.name = fmt::format("fake{}_r_vs_m", Width),
                 .title = "r vs m",
                 .xlabel = "m",
                 .ylabel = "r",
                 .x_name = "m",
                 .y_name = "r",
                 .lines = lines_from(
                     make_series(cell_values(runs, "dist_init"), Axis::m, Axis::width), "H = ")},
        "Fake figure.", "needs ≥ 2 values of m");
    const bool enough = runs.size() >= 2;
    return {Claim{fmt::format("fake-{}-has-runs", Width), enough ? Verdict::pass : Verdict::fail,
                  fmt::format("{} runs", runs.size()), "PASS iff the study has ≥ 2 runs"}};
  }
};

template <int64_t Width>
std::unique_ptr<Study> make_fake() {
  return std::make_unique<FakeStudy<Width>>();
}

// Selects every run and remembers the ids build() is given.
std::vector<int64_t> g_given;
class GreedyStudy final : public Study {
 public:
  std::string name() const override { return "greedy"; }
  std::vector<const RunRecord*> select(const std::vector<RunRecord>& all) const override {
    std::vector<const RunRecord*> out;
    for (const auto& r : all) out.push_back(&r);
    return out;
  }
  std::vector<Claim> build(const std::vector<const RunRecord*>& runs, const StudyContext&,
                           Page&) const override {
    g_given.clear();
    for (const RunRecord* r : runs) g_given.push_back(r->id);
    return {};
  }
};

std::unique_ptr<Study> make_greedy() {
  return std::make_unique<GreedyStudy>();
}

class StudyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int64_t m : {500, 1000, 2000}) runs_.push_back(record(trained_run(64, m, 0, 1, m, 0.1)));
    runs_.push_back(record(trained_run(128, 500, 0, 1, 10, 0.1)));
    options_.db = dir_.path / "results.db";
    options_.out = dir_.path / "report";
  }
  RunRecord record(const RunSpec& s) {
    RunRecord r;
    r.id = static_cast<int64_t>(runs_.size() + 1);
    r.config = s.config;
    r.seed = s.config.value("seed", uint64_t{1});
    r.status = s.status;
    r.converged = s.converged;
    r.stopped_by = s.stopped_by;
    r.metrics = s.metrics;
    return r;
  }
  TempDir dir_;
  std::vector<RunRecord> runs_;
  ReportOptions options_;
};

TEST_F(StudyTest, AFakeStudysSectionFigureAndClaimAppearOnThePage) {
  const auto result = write_report(runs_, options_, {&make_fake<64>});
  ASSERT_EQ(result.claims.size(), 1u);
  EXPECT_EQ(result.claims[0].id, "fake-64-has-runs");
  EXPECT_EQ(result.claims[0].verdict, Verdict::pass);
  EXPECT_EQ(result.plots, 1);
  const std::string html = read_file(result.index);
  EXPECT_NE(html.find(" · checking <i>Fake 64</i></p>"), std::string::npos);
  EXPECT_NE(html.find("<td>fake-64-has-runs</td><td><span class=\"badge pass\">PASS</span></td>"
                      "<td>3 runs</td><td>–</td><td>PASS iff the study has ≥ 2 runs</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<h2>Fake study at H = 64</h2>"), std::string::npos);
  EXPECT_NE(html.find("<b>Figure 1.</b> Fake figure."), std::string::npos);
  EXPECT_TRUE(fs::exists(options_.out / "fake64_r_vs_m.png"));
  EXPECT_LT(html.find("<h2>Runs</h2>"), html.find("<h2>Fake study at H = 64</h2>"));
}

TEST_F(StudyTest, StudiesFollowTheirOrderAndOneWithoutRunsAddsNothing) {
  const auto result =
      write_report(runs_, options_, {&make_fake<128>, &make_fake<4096>, &make_fake<64>});
  ASSERT_EQ(result.claims.size(), 2u);  // no run has H = 4096
  EXPECT_EQ(result.claims[0].id, "fake-128-has-runs");
  EXPECT_EQ(result.claims[0].verdict, Verdict::fail);  // one run
  EXPECT_EQ(result.claims[1].id, "fake-64-has-runs");
  const std::string html = read_file(result.index);
  EXPECT_EQ(html.find("4096"), std::string::npos);
  EXPECT_LT(html.find("<h2>Fake study at H = 128</h2>"),
            html.find("<h2>Fake study at H = 64</h2>"));
  // Figures are numbered across studies: the second study's figure is Figure 2.
  const auto second = html.find("<h2>Fake study at H = 64</h2>");
  EXPECT_NE(html.find("<b>Figure 2.</b> Fake figure.", second), std::string::npos);
}

TEST_F(StudyTest, ExcludedRunsNeverReachAStudy) {
  auto capped = trained_run(64, 500, 0, 2, 999, 0.5);
  capped.converged = false;
  capped.stopped_by = "max_epochs";
  runs_.push_back(record(capped));  // id 5
  auto failed = trained_run(64, 500, 0, 3, 888, 0.5);
  failed.status = k_status_failed;
  failed.converged = false;
  runs_.push_back(record(failed));           // id 6
  runs_.push_back(record(init_run(64, 1)));  // id 7
  g_given = {-1};
  const auto result = write_report(runs_, options_, {&make_greedy});
  // Which runs, not their order: a study sees them in the canonical order (config, seed, id).
  std::sort(g_given.begin(), g_given.end());
  EXPECT_EQ(g_given, (std::vector<int64_t>{1, 2, 3, 4, 7}));
  const std::string html = read_file(result.index);
  EXPECT_NE(html.find("2 runs not used in any plot or claim."), std::string::npos);
}

TEST_F(StudyTest, RegisteredStudiesStartWithNk17) {
  const auto& studies = registered_studies();
  ASSERT_FALSE(studies.empty());
  EXPECT_EQ(studies.front()()->name(), "nk17");
  const auto result = write_report(runs_, options_);
  ASSERT_EQ(result.claims.size(), 24u);
  EXPECT_EQ(result.claims.front().id, "fig1-r-flat-in-H");
  EXPECT_EQ(result.claims[18].id, nk17::k_claim_theory);
  EXPECT_EQ(result.claims[19].id, nk17::k_claim_prop62);
  EXPECT_TRUE(result.claims[19].consistency);
  EXPECT_EQ(result.claims.back().id, "thmC2-gradient-norm-flat-in-H");
}

}  // namespace
}  // namespace initscope::report
