// `initscope report` (check the paper's claims, draw the figures, write DIR/index.html) and
// `initscope export` (every run as one flat CSV or JSON Lines row).
#include <fstream>
#include <iostream>

#include <fmt/core.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "report/export.hpp"
#include "report/report.hpp"
#include "store/db.hpp"
#include "trajectory.hpp"

namespace initscope::cli {

void add_report(CLI::App& app, Common& common) {
  auto* report = app.add_subcommand(
      "report",
      "Check the paper's claims on the runs and write an HTML report with gnuplot figures");
  auto out = std::make_shared<std::string>();
  report->add_option("--db", common.db, "results database")->capture_default_str();
  report
      ->add_option("--out", *out,
                   "report folder (created if missing): index.html, PNGs, .gp and .dat files")
      ->required();
  auto include_capped = std::make_shared<bool>(false);
  report->add_flag("--include-capped", *include_capped,
                   "also use runs a cap ended without a stopping criterion (fixed epochs), "
                   "marked as such");
  report->callback([out, include_capped, &common] {
    report::ReportOptions o;
    o.db = common.db;
    o.out = *out;
    o.include_capped = *include_capped;
    const auto result = report::write_report(o);
    // Warnings on stderr: stdout holds one line per claim, for scripts.
    for (const auto& w : result.warnings) fmt::print(stderr, "initscope: warning: {}\n", w);
    for (const auto& c : result.claims) fmt::print("{}\n", report::claim_line(c));
    fmt::print("report: {} ({} figures)\n", result.index.string(), result.plots);
  });

  auto* exp = app.add_subcommand("export", "Write every run as one row of CSV or JSON Lines");
  auto format = std::make_shared<std::string>("csv");
  auto file = std::make_shared<std::string>();
  exp->add_option("--db", common.db, "results database")->capture_default_str();
  exp->add_option("--format", *format, "csv or jsonl")->capture_default_str();
  exp->add_option("--out", *file, "output file (default: stdout)");
  auto trajectory = std::make_shared<bool>(false);
  exp->add_flag("--trajectory", *trajectory,
                "the learning curves instead: one row per run and epoch (run_id, epoch, step, "
                "then each quantity)");
  exp->callback([format, file, trajectory, &common] {
    const auto f = report::parse_export_format(*format);
    if (!std::filesystem::exists(common.db))
      throw Error(fmt::format("--db {}: no such database file", common.db));
    Db db(common.db, DbMode::read_only);
    const auto runs = db.runs();
    const auto write = [&](std::ostream& os) {
      if (!*trajectory) {
        report::export_runs(runs, f, os);
        return;
      }
      // One set of columns for the whole file: every quantity any run recorded.
      std::vector<std::vector<TrajectoryPoint>> points;
      std::vector<TrajectoryPoint> all;
      for (const auto& r : runs) {
        points.push_back(db.trajectory(r.id));
        for (const auto& p : points.back()) all.push_back({0, 0, p.name, 0.0});
      }
      const auto columns = trajectory_columns(all);
      const auto tf =
          f == report::ExportFormat::csv ? TrajectoryFormat::csv : TrajectoryFormat::jsonl;
      for (size_t i = 0; i < runs.size(); ++i)
        write_trajectory(pivot_trajectory(points[i], columns), tf, os, runs[i].id, i == 0);
    };
    if (file->empty()) {
      write(std::cout);
      std::cout.flush();
      return;
    }
    std::ofstream os(*file, std::ios::binary | std::ios::trunc);
    if (!os) throw Error(fmt::format("--out {}: cannot open the file for writing", *file));
    write(os);
    os.flush();
    if (!os) throw Error(fmt::format("--out {}: writing failed", *file));
  });
}

}  // namespace initscope::cli
