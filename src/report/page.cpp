// The report page's generic parts and their order (see page.hpp).
#include "report/page.hpp"

#include <chrono>
#include <ctime>
#include <fstream>
#include <map>

#include <fmt/core.h>

#include "common/error.hpp"
#include "report/aggregate.hpp"
#include "report/html.hpp"

namespace initscope::report {

namespace fs = std::filesystem;
namespace h = html;

namespace {

std::string cfg_text(const nlohmann::json& c, const char* key) {
  const auto it = c.find(key);
  if (it == c.end()) return "?";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    std::string s;
    for (const auto& e : *it) {
      if (!s.empty()) s += ",";
      s += (e.is_string() ? e.get<std::string>() : e.dump());
    }
    return s.empty() ? "none" : s;
  }
  if (it->is_number_float()) return num(it->get<double>());
  return it->dump();
}

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string card(int value, const std::string& what) {
  return fmt::format(
      "<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>\n", value,
      h::escape(what));
}

std::string run_cards(const RunCounts& n, bool include_capped, size_t repeats) {
  return "<div class=\"cards\">\n" + card(n.total, "runs in the database") +
         card(n.trained, include_capped ? "trained (used; capped ones included)"
                                        : "trained & converged (used)") +
         card(n.init_only, "initialization only") +
         card(n.capped, include_capped ? "stopped by a cap (included, marked)"
                                       : "stopped by a cap (left out)") +
         card(n.other, "diverged, collapsed, failed or unfinished") +
         card(static_cast<int>(repeats), "repeats not counted again") + "</div>\n";
}

// One row per status: runs, converged, stopped by a cap, init-only.
std::vector<std::vector<std::string>> status_rows(const std::vector<RunRecord>& runs) {
  struct Row {
    int runs = 0, converged = 0, capped = 0, init = 0;
  };
  std::map<std::string, Row> by_status;
  for (const auto& r : runs) {
    Row& row = by_status[r.status];
    ++row.runs;
    if (is_init_only(r))
      ++row.init;
    else if (r.converged)
      ++row.converged;
    else if (r.status == k_status_completed)
      ++row.capped;
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(by_status.size());
  for (const auto& [status, n] : by_status)
    rows.push_back({h::escape(status), std::to_string(n.runs), std::to_string(n.converged),
                    std::to_string(n.capped), std::to_string(n.init)});
  return rows;
}

// The y axis of a plot starts at 0 if it was asked to and no error bar dips below 0.
bool starts_at_zero(const PlotSpec& spec) {
  bool from_zero = spec.y_from_zero && !spec.log_y;
  for (const auto& l : spec.lines)
    for (const auto& p : l.points) from_zero = from_zero && p.y.mean - p.y.sd >= 0.0;
  return from_zero;
}

}  // namespace

RunCounts count_runs(const std::vector<RunRecord>& runs, bool include_capped) {
  RunCounts n;
  n.total = static_cast<int>(runs.size());
  for (const auto& r : runs) {
    if (is_capped(r)) ++n.capped;
    switch (classify(r, include_capped)) {
      case RunUse::trained:
        ++n.trained;
        break;
      case RunUse::init_only:
        ++n.init_only;
        break;
      case RunUse::excluded:
        if (!is_capped(r)) ++n.other;
        break;
    }
  }
  return n;
}

std::vector<const RunRecord*> excluded_runs(const std::vector<RunRecord>& runs,
                                            bool include_capped) {
  std::vector<const RunRecord*> out;
  for (const auto& r : runs)
    if (classify(r, include_capped) == RunUse::excluded) out.push_back(&r);
  return out;
}

std::string config_summary(const RunRecord& r) {
  const auto& c = r.config;
  std::string s =
      fmt::format("{} H={} m={} noise={} seed={} loss={} lr={} stop={}", cfg_text(c, "dataset"),
                  cfg_text(c, "width"), cfg_text(c, "m"), cfg_text(c, "noise"), r.seed,
                  cfg_text(c, "loss"), cfg_text(c, "lr"), cfg_text(c, "stop"));
  if (c.contains("max_epochs")) s += " max_epochs=" + cfg_text(c, "max_epochs");
  return s;
}

Page::Page(fs::path db, fs::path dir, const std::vector<RunRecord>& runs, bool include_capped)
    : db_(std::move(db)), dir_(std::move(dir)), runs_(runs), include_capped_(include_capped) {}

void Page::set_repeats(std::vector<std::pair<const RunRecord*, const RunRecord*>> superseded) {
  superseded_ = std::move(superseded);
}

bool Page::superseded(const RunRecord& r) const {
  for (const auto& [dropped, kept] : superseded_)
    if (dropped == &r) return true;
  return false;
}

std::vector<std::string> Page::warnings_text() const {
  std::vector<std::string> out;
  // Over the runs the report counts: each configuration and seed once.
  int training = 0, capped = 0;
  std::vector<const RunRecord*> excluded;
  for (const auto& r : runs_) {
    if (superseded(r) || is_init_only(r)) continue;
    ++training;
    if (is_capped(r)) ++capped;
    if (classify(r, include_capped_) == RunUse::excluded) excluded.push_back(&r);
  }
  const int left_out = static_cast<int>(excluded.size());
  if (training > 0 && left_out >= k_warn_excluded_fraction * training)
    out.push_back(fmt::format(
        "{} of {} training runs ({:.0f}%) were left out: {}. The claims use the rest: each "
        "claim counts the runs of its sweep cells it lost, and one that lost half of them, or is "
        "left with fewer than 3 widths or values of m or with a cell of one seed, is "
        "INCONCLUSIVE.",
        left_out, training, 100.0 * left_out / training, exclusion_summary(excluded)));
  if (capped > 0 && !include_capped_)
    out.push_back(fmt::format(
        "{} run{} stopped at a cap (max_epochs or max_steps) without meeting a stopping "
        "criterion, as runs trained for a fixed number of epochs do: left out, because the paper "
        "measures r where a criterion is met{}. `initscope report --include-capped` includes "
        "them, marked as such.",
        capped, capped == 1 ? "" : "s",
        capped == training ? " (here every training run was capped, so the figures are empty)"
                           : ""));
  if (capped > 0 && include_capped_)
    out.push_back(fmt::format(
        "{} run{} stopped by a cap are included (--include-capped): their distances and errors "
        "are where the cap stopped them, not where a stopping criterion was met. Each claim says "
        "how many capped runs it used.",
        capped, capped == 1 ? "" : "s"));
  if (!superseded_.empty())
    out.push_back(fmt::format(
        "{} run{} repeat{} the configuration and seed of another run: each configuration and "
        "seed counts once, as its latest completed repeat (listed under Runs).",
        superseded_.size(), superseded_.size() == 1 ? "" : "s",
        superseded_.size() == 1 ? "s" : ""));
  return out;
}

RunCounts Page::counted_runs() const {
  // Every run in the database, but each configuration and seed used, left out or capped once.
  std::vector<RunRecord> counted;
  counted.reserve(runs_.size());
  for (const auto& r : runs_)
    if (!superseded(r)) counted.push_back(r);
  RunCounts n = count_runs(counted, include_capped_);
  n.total = static_cast<int>(runs_.size());
  return n;
}

std::string Page::warnings_html() const {
  std::string s;
  for (const auto& w : warnings_text()) s += "<div class=\"warn\">" + h::escape(w) + "</div>\n";
  return s;
}

void Page::cite(const std::string& html) {
  cites_.push_back(html);
}

void Page::add_claims(const std::vector<Claim>& claims) {
  claims_.insert(claims_.end(), claims.begin(), claims.end());
}

void Page::add_runs_note(const std::string& html) {
  runs_notes_ += html;
}

void Page::add(const std::string& html) {
  body_ += html;
}

void Page::add_drawn(const std::string& html, int plots) {
  body_ += html;
  plots_ += plots;
}

void Page::heading(int level, const std::string& text_html) {
  IS_CHECK(level == 2 || level == 3);
  body_ += fmt::format("<h{0}>{1}</h{0}>\n", level, text_html);
}

void Page::table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows, const std::string& css_class) {
  body_ += h::table(header, rows, css_class);
}

void Page::figure(const PlotSpec& spec, const std::string& caption_html, const std::string& why,
                  const std::string& label) {
  const std::string name =
      label.empty() ? fmt::format("Figure {}{}", unlabeled_prefix_, ++figures_) : label;
  if (!drawable(spec)) {
    body_ += h::missing_figure(spec, name, why);
    return;
  }
  render_plot(spec, dir_);
  ++plots_;
  body_ += h::figure(spec, name,
                     caption_html + (starts_at_zero(spec) ? " The y axis starts at 0." : ""));
}

std::string Page::header() const {
  std::string cites;
  for (const auto& c : cites_) cites += " · " + c;
  return "<h1>initscope report</h1>\n" +
         fmt::format(
             "<p class=\"meta\">Database <code>{}</code> · generated {} · initscope {}{}"
             "</p>\n",
             h::escape(fs::absolute(db_).lexically_normal().string()), now_utc(), INITSCOPE_VERSION,
             cites) +
         run_cards(counted_runs(), include_capped_, superseded_.size()) + warnings_html();
}

std::string Page::claims_section() const {
  std::vector<std::vector<std::string>> rows, checks;
  const auto row = [](const Claim& c) {
    std::string rule = c.criterion.empty()
                           ? h::escape(c.rule)
                           : "<b>" + h::escape(c.criterion) + "</b><br>" + h::escape(c.rule);
    return std::vector<std::string>{h::escape(c.id), h::badge(c.verdict), h::escape(c.figure),
                                    c.coverage ? h::escape(coverage_text(*c.coverage)) : "–", rule};
  };
  for (const auto& c : claims_) (c.consistency ? checks : rows).push_back(row(c));
  const VerdictCounts n = count_verdicts(claims_);
  std::string s =
      "<h2>Claims</h2>\n" +
      fmt::format(
          "<p>Reproduced claims: <b>{} PASS</b>, {} FAIL, {} INCONCLUSIVE, {} "
          "SKIP{}.</p>\n",
          n.pass, n.fail, n.inconclusive, n.skip,
          n.consistency ? fmt::format("; and {} consistency check{} (below, "
                                      "not counted)",
                                      n.consistency, n.consistency == 1 ? "" : "s")
                        : "") +
      h::table({"claim", "result", "measured (95% CI)", "runs", "rule"}, rows, "claims") +
      "<p class=\"muted\">One rule for every claim about measured data: PASS when "
      "the statistic's 95% confidence interval lies inside the region the paper "
      "claims, FAIL when it lies outside, INCONCLUSIVE when it straddles an end, or "
      "when the runs left after exclusions are too few to decide (fewer than 3 "
      "widths or values of m, a cell with one seed, half of the cells' runs "
      "excluded). SKIP means the database holds no runs of that figure. Each "
      "study's regions are fixed in its source under src/report/studies/ from its "
      "paper's statements.</p>\n";
  if (!checks.empty())
    s += "<h3>Consistency checks</h3>\n<p class=\"muted\">These hold by construction unless "
         "the code computing them is wrong (an inequality between norms it computes): they "
         "check the code, not the paper, and are not counted as reproduced claims.</p>\n" +
         h::table({"check", "result", "measured", "runs", "rule"}, checks, "claims");
  return s;
}

std::string Page::runs_section() const {
  std::string s = "<h2>Runs</h2>\n" +
                  h::table({"status", "runs", "converged", "stopped by a cap", "init-only"},
                           status_rows(runs_), "num") +
                  runs_notes_;
  if (superseded_.empty()) return s;
  std::vector<std::vector<std::string>> rows;
  for (const auto& [dropped, kept] : superseded_)
    rows.push_back({std::to_string(dropped->id), h::escape(dropped->status),
                    std::to_string(kept->id), h::escape(kept->status),
                    h::escape(config_summary(*kept))});
  return s + "<h3 id=\"repeats\">Repeats counted once</h3>\n" +
         fmt::format(
             "<p>{} run{} repeat the configuration and seed of a later or completed run. Two "
             "repeats of one seed are one draw, not two: counted twice they would shrink the "
             "error bars. Of each set of repeats the report uses the <b>latest completed</b> "
             "run (the latest run if none completed) and leaves the others out of every count, "
             "figure and claim.</p>\n",
             superseded_.size(), superseded_.size() == 1 ? "" : "s") +
         h::table({"run not counted", "its status", "repeat used", "its status", "configuration"},
                  rows, "runs");
}

std::string Page::excluded_section() const {
  std::string s = "<h2 id=\"excluded\">Excluded runs</h2>\n";
  auto excluded = excluded_runs(runs_, include_capped_);
  std::erase_if(excluded, [this](const RunRecord* r) { return superseded(*r); });
  if (excluded.empty())
    return s +
           "<p>None: every run completed and either converged or measured the initialization "
           "only.</p>\n";
  std::vector<std::vector<std::string>> rows;
  rows.reserve(excluded.size());
  for (const RunRecord* r : excluded)
    rows.push_back({std::to_string(r->id), h::escape(r->created), h::escape(config_summary(*r)),
                    h::escape(r->status), h::escape(r->stopped_by.empty() ? "–" : r->stopped_by),
                    h::escape(exclusion_reason(*r))});
  return s +
         fmt::format("<p>{} run{} not used in any plot or claim.</p>\n", excluded.size(),
                     excluded.size() == 1 ? "" : "s") +
         h::table({"id", "created", "configuration", "status", "stopped_by", "why excluded"}, rows,
                  "runs");
}

std::string Page::footer() const {
  return fmt::format(
      "<footer>Written by <code>initscope report --db {} --out {}</code>. Each figure is NAME.png "
      "and NAME.svg drawn by gnuplot from NAME.gp and NAME.dat in this folder; re-draw them with "
      "<code>cd {} "
      "&amp;&amp; for f in *.gp; do gnuplot \"$f\"; done</code>.</footer>\n",
      h::escape(db_.string()), h::escape(dir_.string()), h::escape(dir_.string()));
}

std::string Page::html() const {
  return h::page("initscope report", header() + claims_section() + runs_section() + body_ +
                                         excluded_section() + footer());
}

fs::path Page::write() const {
  fs::path index = dir_ / "index.html";
  std::ofstream f(index, std::ios::binary | std::ios::trunc);
  if (f) f << html();
  if (!f) throw Error(fmt::format("--out {}: cannot write index.html", dir_.string()));
  return index;
}

}  // namespace initscope::report
