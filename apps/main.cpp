// Entry point: parse, dispatch, and turn user errors into one clear line and exit code 1.
#include <cstdio>

#include <fmt/core.h>

#include "cli.hpp"
#include "common/error.hpp"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const initscope::Error& e) {
    fmt::print(stderr, "initscope: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "initscope: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
