// HTML building blocks (see html.hpp).
#include "report/html.hpp"

#include <fmt/core.h>

namespace initscope::report::html {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows, const std::string& css_class) {
  std::string s = css_class.empty() ? "<table>\n<thead><tr>"
                                    : fmt::format("<table class=\"{}\">\n<thead><tr>", css_class);
  for (const auto& h : header) s += "<th>" + escape(h) + "</th>";
  s += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    s += "<tr>";
    for (const auto& cell : row) s += "<td>" + cell + "</td>";
    s += "</tr>\n";
  }
  return s + "</tbody>\n</table>\n";
}

std::string badge(Verdict v) {
  const char* cls = "skip";
  switch (v) {
    case Verdict::pass:
      cls = "pass";
      break;
    case Verdict::fail:
      cls = "fail";
      break;
    case Verdict::inconclusive:
      cls = "inconclusive";
      break;
    case Verdict::skip:
      break;
  }
  return fmt::format("<span class=\"badge {}\">{}</span>", cls, verdict_name(v));
}

std::string plot_table(const PlotSpec& spec) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : spec.lines)
    for (const auto& p : l.points) {
      if (!spec.geometric) {
        rows.push_back({escape(l.title), escape(num(p.x)), escape(fmt::format("{:.5g}", p.y.mean)),
                        p.y.n > 1 ? escape(fmt::format("{:.3g}", p.y.sd)) : "–",
                        fmt::format("{}", p.y.n)});
        continue;
      }
      const PointBand b = point_band(spec, p);
      std::string marked;
      for (double v : outliers(p))
        marked += (marked.empty() ? "" : ", ") + fmt::format("{:.4g}", v);
      rows.push_back({escape(l.title), escape(num(p.x)), escape(fmt::format("{:.5g}", b.centre)),
                      p.y.n > 1 ? escape(fmt::format("{:.3g}", b.hi / b.centre)) : "–",
                      fmt::format("{}", p.y.n), marked.empty() ? "–" : escape(marked)});
    }
  if (rows.empty()) return "<p class=\"muted\">No data points.</p>\n";
  if (spec.geometric)
    return fmt::format(
               "<div class=\"tcap\">{}: geometric mean, ×/÷ geometric sd, over n seeds; "
               "outlier runs (&gt; {:g}× from their cell's median)</div>\n",
               escape(spec.y_name), k_outlier_factor) +
           table({"line", spec.x_name, "geo. mean", "×/÷", "n", "outliers"}, rows, "num");
  return fmt::format("<div class=\"tcap\">{}: mean and sd over n seeds</div>\n",
                     escape(spec.y_name)) +
         table({"line", spec.x_name, "mean", "sd", "n"}, rows, "num");
}

std::string figure(const PlotSpec& spec, const std::string& label,
                   const std::string& caption_html) {
  return fmt::format(
      "<div class=\"figrow\" id=\"{name}\">\n<figure>\n<img src=\"{png}\" width=\"960\" "
      "height=\"600\" "
      "alt=\"{alt}\">\n"
      "<figcaption><b>{n}.</b> {cap} <span class=\"files\">Files: {name}.png, {name}.svg, "
      "{name}.gp, {name}.dat</span>"
      "</figcaption>\n</figure>\n<div class=\"figdata\">\n{table}</div>\n</div>\n",
      fmt::arg("png", escape(spec.name + ".png")), fmt::arg("alt", escape(spec.title)),
      fmt::arg("n", escape(label)), fmt::arg("cap", caption_html),
      fmt::arg("name", escape(spec.name)), fmt::arg("table", plot_table(spec)));
}

std::string missing_figure(const PlotSpec& spec, const std::string& label, const std::string& why) {
  std::string s = fmt::format("<div class=\"missing\"><b>{} not drawn</b> — {}: {}</div>\n",
                              escape(label), escape(spec.title), escape(why));
  bool any = false;
  for (const auto& l : spec.lines) any = any || !l.points.empty();
  if (any) s += "<div class=\"figdata narrow\">\n" + plot_table(spec) + "</div>\n";
  return s;
}

namespace {

constexpr const char* k_css = R"css(
:root { --fg: #1d2329; --muted: #5d6b78; --line: #d8dee4; --bg-alt: #f5f7f9; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 40px 0 10px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 17px; margin: 28px 0 8px; }
p { margin: 6px 0 10px; }
.muted, .meta { color: var(--muted); }
.meta { margin-bottom: 18px; }
code { font: 13px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--bg-alt); padding: 1px 4px; border-radius: 3px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 5px 9px; text-align: left; vertical-align: top; }
th { background: var(--bg-alt); font-weight: 600; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
table.num td { font-variant-numeric: tabular-nums; }
table.claims td:nth-child(1) { white-space: nowrap; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
table.claims td:nth-child(3) { min-width: 280px; }
table.runs td:nth-child(2) { white-space: nowrap; }
table.claims td:nth-child(4) { color: var(--muted); font-size: 13px; }
.badge { display: inline-block; min-width: 46px; text-align: center; padding: 1px 7px; border-radius: 10px;
  font-weight: 700; font-size: 12px; letter-spacing: 0.04em; color: #fff; }
.badge.pass { background: #1a7f37; } .badge.fail { background: #cf222e; } .badge.skip { background: #7d8590; }
.badge.inconclusive { background: #9a6700; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0 6px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 130px; background: var(--bg-alt); }
.card .v { font-size: 24px; font-weight: 700; } .card .k { color: var(--muted); font-size: 13px; }
.figrow { display: flex; gap: 18px; align-items: flex-start; margin: 12px 0 28px; }
figure { margin: 0; flex: 0 1 720px; min-width: 0; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; display: block; }
.pics { display: flex; flex-wrap: wrap; gap: 10px; }
.pics figure.pic { flex: 0 0 160px; }
.pics figure.pic img { image-rendering: pixelated; }
figcaption { font-size: 14px; margin-top: 6px; }
figcaption .files { display: block; color: var(--muted); font-size: 12px; margin-top: 3px; }
.figdata { flex: 1 1 340px; max-height: 480px; overflow: auto; }
.figdata table { font-size: 12.5px; margin: 0; }
.figdata th, .figdata td { padding: 3px 7px; white-space: nowrap; }
.tcap { font-size: 12.5px; color: var(--muted); margin: 0 0 4px; }
.figdata.narrow { max-width: 640px; max-height: 320px; }
.missing { border-left: 4px solid #bf8700; background: #fff8e5; padding: 8px 12px; margin: 12px 0; font-size: 14px; }
.warn { border-left: 4px solid #cf222e; background: #fff1f0; padding: 8px 12px; margin: 10px 0; font-size: 14px; }
figure.curves { margin: 10px 0 22px; max-width: 960px; }
details > summary { cursor: pointer; font-weight: 600; margin: 10px 0; }
.note { border-left: 4px solid var(--accent); background: #f0f6fc; padding: 8px 12px; margin: 12px 0; font-size: 14px; }
footer { margin-top: 48px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 1000px) { .figrow { flex-direction: column; } .figdata { max-height: none; } }
)css";

}  // namespace

std::string page(const std::string& title, const std::string& body_html) {
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>{}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n<main>\n{}</main>\n</body>\n</html>\n",
      escape(title), k_css, body_html);
}

}  // namespace initscope::report::html
