// `initscope rank`: how well each measure ranks the stored runs by a target (the generalization
// gap by default): Kendall's τ with a bootstrap interval, and the granulated Ψ over --by
// factors (report/ranking.hpp states the conventions).
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/core.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "report/ranking.hpp"
#include "store/db.hpp"

namespace initscope::cli {

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string number(double x) {
  return std::isfinite(x) ? fmt::format("{:.4f}", x) : "nan";
}

}  // namespace

void add_rank(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand(
      "rank", "Kendall's tau (and granulated Psi) of measures against a target over the runs");
  struct Args {
    std::string target = "gen_error", measures, by, tau = "b", csv;
    int bootstrap = 1000;
    uint64_t seed = 1;
    bool all_runs = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_option("--target", a->target,
                  "metric the measures should rank (gen_error, gen_mse, ...)")
      ->capture_default_str();
  cmd->add_option("--measures", a->measures,
                  "comma-separated metric names, e.g. dist_init,hessian_trace")
      ->required();
  cmd->add_option("--by", a->by,
                  "comma-separated factors for the granulated Psi (config keys or seed)");
  cmd->add_option("--tau", a->tau, "a (Jiang's: ties count 0) or b (scipy's tie correction)")
      ->capture_default_str();
  cmd->add_option("--bootstrap", a->bootstrap, "resamples for the 95% interval of tau")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "seed of the bootstrap")->capture_default_str();
  cmd->add_option("--csv", a->csv, "also write the table as CSV to this file");
  cmd->add_flag("--all-runs", a->all_runs,
                "use every completed run, not only those that met their stopping criterion");
  cmd->callback([a, &common] {
    report::RankOptions o;
    o.target = a->target;
    o.measures = split_list(a->measures);
    o.by = split_list(a->by);
    if (a->tau != "a" && a->tau != "b")
      throw Error(fmt::format("--tau {}: expected a or b", a->tau));
    o.kind = a->tau == "a" ? report::TauKind::a : report::TauKind::b;
    if (a->bootstrap < 0)
      throw Error(fmt::format("--bootstrap {}: expected 0 or more resamples", a->bootstrap));
    o.resamples = a->bootstrap;
    o.seed = a->seed;
    o.converged_only = !a->all_runs;
    if (o.measures.empty()) throw Error("--measures: expected at least one metric name");
    if (!std::filesystem::exists(common.db))
      throw Error(fmt::format("--db {}: no such database file", common.db));
    Db db(common.db);
    const auto rows = report::rank_measures(db.runs(), o);
    std::string header = fmt::format("{:<28} {:>5} {:>8} {:>17}", "measure", "runs",
                                     "tau-" + a->tau, "95% interval");
    if (!o.by.empty()) {
      header += fmt::format(" {:>8}", "Psi");
      for (const auto& f : o.by) header += fmt::format(" {:>10}", "psi:" + f);
    }
    fmt::print("{}\n", header);
    std::ofstream csv;
    if (!a->csv.empty()) {
      csv.open(a->csv, std::ios::trunc);
      if (!csv) throw Error(fmt::format("--csv {}: cannot open the file for writing", a->csv));
      csv << "measure,target,tau_kind,runs,tau,tau_lo,tau_hi,resamples,psi";
      for (const auto& f : o.by) csv << ",psi_" << f << ",cells_" << f;
      csv << "\n";
    }
    for (const auto& r : rows) {
      std::string line =
          fmt::format("{:<28} {:>5} {:>8} {:>17}", r.measure, r.runs, number(r.tau.tau),
                      "[" + number(r.tau.lo) + ", " + number(r.tau.hi) + "]");
      if (!o.by.empty()) {
        line += fmt::format(" {:>8}", number(r.psi.psi));
        for (size_t i = 0; i < o.by.size(); ++i)
          line += fmt::format(" {:>10}", number(r.psi.per_factor[i]));
      }
      fmt::print("{}\n", line);
      if (csv.is_open()) {
        csv << fmt::format("{},{},{},{},{},{},{},{},{}", r.measure, o.target, a->tau, r.runs,
                           r.tau.tau, r.tau.lo, r.tau.hi, r.tau.resamples,
                           o.by.empty() ? NAN : r.psi.psi);
        for (size_t i = 0; i < o.by.size(); ++i)
          csv << fmt::format(",{},{}", r.psi.per_factor[i], r.psi.cells[i]);
        csv << "\n";
      }
    }
    if (csv.is_open() && !csv.flush()) throw Error(fmt::format("--csv {}: writing failed", a->csv));
  });
}

}  // namespace initscope::cli
