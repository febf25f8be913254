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

std::string run_cards(const RunCounts& n) {
  return "<div class=\"cards\">\n" + card(n.total, "runs in the database") +
         card(n.trained, "trained & converged (used)") + card(n.init_only, "initialization only") +
         card(n.capped, "stopped by a cap") + card(n.other, "diverged, failed or unfinished") +
         "</div>\n";
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

RunCounts count_runs(const std::vector<RunRecord>& runs) {
  RunCounts n;
  n.total = static_cast<int>(runs.size());
  for (const auto& r : runs) {
    switch (classify(r)) {
      case RunUse::trained:
        ++n.trained;
        break;
      case RunUse::init_only:
        ++n.init_only;
        break;
      case RunUse::excluded:
        ++(r.status == k_status_completed ? n.capped : n.other);
        break;
    }
  }
  return n;
}

std::vector<const RunRecord*> excluded_runs(const std::vector<RunRecord>& runs) {
  std::vector<const RunRecord*> out;
  for (const auto& r : runs)
    if (classify(r) == RunUse::excluded) out.push_back(&r);
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

Page::Page(fs::path db, fs::path dir, const std::vector<RunRecord>& runs)
    : db_(std::move(db)), dir_(std::move(dir)), runs_(runs) {}

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
         run_cards(count_runs(runs_));
}

std::string Page::claims_section() const {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : claims_)
    rows.push_back({h::escape(c.id), h::badge(c.verdict), h::escape(c.figure), h::escape(c.rule)});
  return "<h2>Claims</h2>\n" + h::table({"claim", "result", "measured", "rule"}, rows, "claims") +
         "<p class=\"muted\">SKIP means the database lacks the runs the rule needs, not that the "
         "claim failed. Each study's thresholds are fixed in its source under "
         "src/report/studies/ from its paper's statements.</p>\n";
}

std::string Page::runs_section() const {
  return "<h2>Runs</h2>\n" +
         h::table({"status", "runs", "converged", "stopped by a cap", "init-only"},
                  status_rows(runs_), "num") +
         runs_notes_;
}

std::string Page::excluded_section() const {
  std::string s = "<h2 id=\"excluded\">Excluded runs</h2>\n";
  const auto excluded = excluded_runs(runs_);
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
      "drawn by gnuplot from NAME.gp and NAME.dat in this folder; re-draw them with <code>cd {} "
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
