// Tests for src/report/page.hpp: run counts by use, the excluded runs listed (never mixed in),
// the claims table with each rule beside its verdict, figures numbered in order (drawn or not),
// and the fixed order of the page's parts whatever order a study adds them in.
#include "report/page.hpp"

#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "synthetic_db.hpp"

namespace initscope::report {
namespace {

using namespace initscope::report::testing;

RunRecord record(int64_t id, const RunSpec& s) {
  RunRecord r;
  r.id = id;
  r.created = "2026-11-30T10:00:00Z";
  r.config = s.config;
  r.seed = s.config.value("seed", uint64_t{1});
  r.status = s.status;
  r.converged = s.converged;
  r.stopped_by = s.stopped_by;
  r.error = s.error;
  r.metrics = s.metrics;
  return r;
}

// Two trained runs, one init-only run, and one each of capped, diverged, failed, interrupted.
std::vector<RunRecord> mixed_runs() {
  std::vector<RunRecord> runs;
  runs.push_back(record(1, trained_run(64, 500, 0, 1, 10, 0.1)));
  runs.push_back(record(2, trained_run(128, 500, 0, 1, 10, 0.1)));
  runs.push_back(record(3, init_run(64, 1)));
  auto capped = trained_run(64, 500, 0, 2, 999, 0.5);
  capped.converged = false;
  capped.stopped_by = "max_epochs";
  runs.push_back(record(4, capped));
  auto diverged = trained_run(64, 500, 0, 3, 888, 0.5);
  diverged.status = k_status_diverged;
  diverged.converged = false;
  diverged.stopped_by = "";
  diverged.error = "training loss became NaN";
  runs.push_back(record(5, diverged));
  auto failed = trained_run(64, 500, 0, 4, 777, 0.5);
  failed.status = k_status_failed;
  failed.converged = false;
  failed.error = "out of memory";
  runs.push_back(record(6, failed));
  auto interrupted = trained_run(64, 500, 0, 5, 666, 0.5);
  interrupted.status = k_status_interrupted;
  interrupted.converged = false;
  runs.push_back(record(7, interrupted));
  return runs;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(RunCounts, ByUse) {
  const auto n = count_runs(mixed_runs());
  EXPECT_EQ(n.total, 7);
  EXPECT_EQ(n.trained, 2);
  EXPECT_EQ(n.init_only, 1);
  EXPECT_EQ(n.capped, 1);
  EXPECT_EQ(n.other, 3);  // diverged, failed, interrupted
}

TEST(Page, CountsRunsInCardsAndByStatus) {
  const auto runs = mixed_runs();
  TempDir dir;
  const Page page("results.db", dir.path, runs);
  const std::string html = page.html();
  const auto card = [](int v, const char* k) {
    return fmt::format("<div class=\"v\">{}</div><div class=\"k\">{}</div>", v, k);
  };
  EXPECT_NE(html.find(card(7, "runs in the database")), std::string::npos);
  EXPECT_NE(html.find(card(2, "trained &amp; converged (used)")), std::string::npos);
  EXPECT_NE(html.find(card(1, "initialization only")), std::string::npos);
  EXPECT_NE(html.find(card(1, "stopped by a cap (left out)")), std::string::npos);
  EXPECT_NE(html.find(card(3, "diverged, collapsed, failed or unfinished")), std::string::npos);
  EXPECT_NE(html.find(card(0, "repeats not counted again")), std::string::npos);
  // status, runs, converged, stopped by a cap, init-only
  EXPECT_NE(html.find("<tr><td>completed</td><td>4</td><td>2</td><td>1</td><td>1</td></tr>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<tr><td>failed</td><td>1</td><td>0</td><td>0</td><td>0</td></tr>"),
            std::string::npos);
}

TEST(Page, ListsEveryExcludedRunWithItsReason) {
  const auto runs = mixed_runs();
  ASSERT_EQ(excluded_runs(runs).size(), 4u);
  TempDir dir;
  const Page page("results.db", dir.path, runs);
  const std::string html = page.html();
  const auto at = html.find("<h2 id=\"excluded\">Excluded runs</h2>");
  ASSERT_NE(at, std::string::npos);
  const std::string tail = html.substr(at);
  EXPECT_NE(tail.find("4 runs not used in any plot or claim."), std::string::npos);
  for (int id : {4, 5, 6, 7})
    EXPECT_NE(tail.find(fmt::format("<tr><td>{}</td>", id)), std::string::npos) << id;
  for (int id : {1, 2, 3})
    EXPECT_EQ(tail.find(fmt::format("<tr><td>{}</td>", id)), std::string::npos) << id;
  EXPECT_NE(tail.find("stopped by cap max_epochs"), std::string::npos);
  EXPECT_NE(tail.find("diverged: training loss became NaN"), std::string::npos);
  EXPECT_NE(tail.find("failed: out of memory"), std::string::npos);
  EXPECT_NE(tail.find("mnist H=64 m=500 noise=0 seed=2 loss=ce lr=0.1 stop=margin:10:0.99 "
                      "max_epochs=1000"),
            std::string::npos)
      << tail;
}

TEST(Page, NoExcludedRunsSaysSo) {
  std::vector<RunRecord> runs = {record(1, trained_run(64, 500, 0, 1, 10, 0.1))};
  TempDir dir;
  const Page page("results.db", dir.path, runs);
  EXPECT_NE(page.html().find("<p>None: every run completed"), std::string::npos);
}

TEST(Page, ClaimsTablePrintsEachRuleBesideItsVerdict) {
  const auto runs = mixed_runs();
  TempDir dir;
  Page page("results.db", dir.path, runs);
  Claim a{"a-claim", Verdict::pass, "k = 0.3 [0.25, 0.35]", "the long rule",
          "95% CI of k in [0.2, 0.5]"};
  a.coverage = Coverage{12, 1, "1 diverged"};
  Claim check{"c-check", Verdict::pass, "3/3 runs hold", "an inequality"};
  check.consistency = true;
  page.add_claims({a, Claim{"b-claim", Verdict::skip, "no data", "needs < 2 & more"}, check});
  ASSERT_EQ(page.claims().size(), 3u);
  const std::string html = page.html();
  EXPECT_NE(html.find("<tr><td>a-claim</td><td><span class=\"badge pass\">PASS</span></td>"
                      "<td>k = 0.3 [0.25, 0.35]</td><td>12 runs used; 1 excluded (1 diverged)</td>"
                      "<td><b>95% CI of k in [0.2, 0.5]</b><br>the long rule</td></tr>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<td>b-claim</td><td><span class=\"badge skip\">SKIP</span></td>"
                      "<td>no data</td><td>–</td><td>needs &lt; 2 &amp; more</td>"),
            std::string::npos);
  EXPECT_LT(html.find("a-claim"), html.find("b-claim"));
  // The consistency check is apart, after the claims, and not counted with them.
  EXPECT_NE(html.find("Reproduced claims: <b>1 PASS</b>, 0 FAIL, 0 INCONCLUSIVE, 1 SKIP; and 1 "
                      "consistency check"),
            std::string::npos);
  EXPECT_LT(html.find("<h3>Consistency checks</h3>"), html.find("c-check"));
  EXPECT_LT(html.find("b-claim"), html.find("<h3>Consistency checks</h3>"));
}

TEST(Page, WarnsAboutCappedRunsAndRepeatsAtTheTop) {
  const auto runs = mixed_runs();
  TempDir dir;
  Page page("results.db", dir.path, runs);
  page.set_repeats({{&runs[0], &runs[1]}});
  const auto warnings = page.warnings_text();
  // 4 of the 5 counted training runs (run 1 is a repeat) are excluded: far above 10%.
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_NE(warnings[0].find("4 of 5 training runs (80%) were left out"), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[1].find("`initscope report --include-capped` includes them"),
            std::string::npos)
      << warnings[1];
  EXPECT_NE(warnings[2].find("1 run repeats the configuration and seed"), std::string::npos);
  const std::string html = page.html();
  EXPECT_LT(html.find("class=\"warn\""), html.find("<h2>Claims</h2>"));
  EXPECT_NE(html.find("Repeats counted once"), std::string::npos);

  // With the flag the capped run is used, and the page says it is.
  Page with("results.db", dir.path, runs, /*include_capped=*/true);
  bool included = false;
  for (const auto& w : with.warnings_text())
    included = included || w.find("1 run stopped by a cap are included") != std::string::npos;
  EXPECT_TRUE(included);
  EXPECT_EQ(excluded_runs(runs, true).size(), 3u);
}

TEST(Page, PartsKeepTheirOrderWhateverTheOrderTheyAreAddedIn) {
  const auto runs = mixed_runs();
  TempDir dir;
  Page page("results.db", dir.path, runs);
  page.heading(2, "Study section");
  page.add_runs_note("<p>runs note</p>\n");
  page.add_claims({Claim{"late-claim", Verdict::fail, "x", "y"}});
  page.cite("reproducing <i>A Paper</i>");
  const std::string html = page.html();
  const std::vector<std::string> order = {"<h1>initscope report</h1>",
                                          " · reproducing <i>A Paper</i></p>",
                                          "<h2>Claims</h2>",
                                          "late-claim",
                                          "<h2>Runs</h2>",
                                          "<p>runs note</p>",
                                          "<h2>Study section</h2>",
                                          "<h2 id=\"excluded\">",
                                          "<footer>"};
  size_t last = 0;
  for (const auto& s : order) {
    const auto at = html.find(s, last);
    ASSERT_NE(at, std::string::npos) << s;
    last = at;
  }
}

TEST(Page, FiguresAreNumberedInOrderDrawnOrNot) {
  const auto runs = mixed_runs();
  TempDir dir;
  Page page("results.db", dir.path, runs);
  const auto point = [](double x, double y) { return SeriesPoint{x, Stats{1, y, 0.0}, {y}}; };
  PlotSpec lonely{.name = "lonely",
                  .title = "One point",
                  .xlabel = "x",
                  .ylabel = "y",
                  .x_name = "x",
                  .y_name = "y"};
  lonely.lines.push_back(PlotLine{"a", {point(1, 2)}});
  page.figure(lonely, "caption", "needs ≥ 2 points");
  PlotSpec line{.name = "line",
                .title = "A line",
                .xlabel = "x",
                .ylabel = "y",
                .x_name = "x",
                .y_name = "y"};
  line.lines.push_back(PlotLine{"a", {point(1, 2), point(2, 3)}});
  page.figure(line, "Two points.", "unused");
  EXPECT_EQ(page.plots(), 1);
  const std::string html = page.html();
  EXPECT_NE(html.find("<b>Figure 1 not drawn</b> — One point: needs ≥ 2 points"), std::string::npos)
      << html;
  EXPECT_NE(html.find("<b>Figure 2.</b> Two points."), std::string::npos) << html;
  EXPECT_TRUE(fs::exists(dir.path / "line.png"));
  EXPECT_FALSE(fs::exists(dir.path / "lonely.png"));

  const fs::path index = page.write();
  EXPECT_EQ(index, dir.path / "index.html");
  const std::string written = read_file(index);
  EXPECT_EQ(written.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(written.find("<b>Figure 2.</b> Two points."), std::string::npos);
}

}  // namespace
}  // namespace initscope::report
