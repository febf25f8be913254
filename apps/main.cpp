// Entry point: parse, dispatch, and turn user errors into one clear line and exit code 1 (a
// command stopped by SIGINT or SIGTERM exits 128 + signal).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "common/interrupt.hpp"

int main(int argc, char** argv) {
  CLI::App app{"initscope: train networks and measure how their initialization shapes them"};
  app.require_subcommand(1);
  app.set_version_flag("--version", INITSCOPE_VERSION);
  initscope::cli::Common common;
  initscope::cli::add_train(app, common);
  initscope::cli::add_options(app);
  initscope::cli::add_data(app, common);
  initscope::cli::add_results(app, common);
  initscope::cli::add_sweep(app, common);
  initscope::cli::add_report(app, common);
  initscope::cli::add_cluster(app, common);
  initscope::cli::add_rank(app, common);
  initscope::cli::add_measure(app, common);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end the parse with exit code 0; CLI11 prints them.
    if (e.get_exit_code() == 0) return app.exit(e);
    // Any other parse error is bad input like the rest: one line naming the flag, exit 1.
    std::string what = e.what();
    // CLI11 says only "A subcommand is required" for `initscope frobnicate`: name the word.
    if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
      std::vector<std::string> names;
      for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
      what = fmt::format("'{}' is not a command (expected one of: {})", argv[1],
                         fmt::join(names, ", "));
    }
    std::replace(what.begin(), what.end(), '\n', ' ');
    fmt::print(
        stderr, "initscope: error: {} (see initscope {}--help)\n", what,
        app.get_subcommands().empty() ? "" : app.get_subcommands().front()->get_name() + " ");
    return 1;
  } catch (const initscope::Interrupted& e) {
    // The command stopped on SIGINT or SIGTERM after recording what it had: 128 + signal, as a
    // shell reports a process the signal ended (130, 143).
    fmt::print(stderr, "initscope: {}\n", e.what());
    return 128 + e.signal();
  } catch (const initscope::Error& e) {
    fmt::print(stderr, "initscope: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "initscope: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
