// HTML building blocks for the report page: escaping, tables, figures and the page shell with
// its inline style sheet. The page needs nothing but its own folder: no scripts, fonts or
// style sheets from elsewhere, images referenced by relative file name.
// Deliberately left out: what the page says (page.cpp, studies/) and any templating engine.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report/claims.hpp"
#include "report/plots.hpp"

namespace initscope::report::html {

/// Text with &, <, >, " and ' escaped for element content and attribute values.
std::string escape(std::string_view text);

/// A <table>. `header` is plain text (escaped here); each cell of `rows` is HTML, so callers
/// escape text cells themselves (escape()) and may pass markup such as badge().
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::string& css_class = "");

/// A coloured PASS / FAIL / INCONCLUSIVE / SKIP label.
std::string badge(Verdict v);

/// The numbers behind a plot as a table: line, x, mean, sd, n (all points, also those a log
/// axis cannot show).
std::string plot_table(const PlotSpec& spec);

/// A figure: the plot's PNG (by relative name) with its caption and, beside it, plot_table().
/// `label` is what the caption calls it ("Figure 3", "Figure 2(c)").
std::string figure(const PlotSpec& spec, const std::string& label, const std::string& caption_html);

/// A notice that a figure was not drawn, saying why, with the table of whatever points exist.
std::string missing_figure(const PlotSpec& spec, const std::string& label, const std::string& why);

/// The whole document: <!doctype html>, <head> with the title and inline CSS, and `body_html`.
std::string page(const std::string& title, const std::string& body_html);

}  // namespace initscope::report::html
