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
#include "git_commit.hpp"

namespace {

// Edit distance (insertions, deletions, substitutions), for "did you mean".
size_t levenshtein(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The known name nearest to `word`, if it is near enough to be a typo (CLI11 2.1 suggests
// nothing itself).
std::string nearest(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& n : names) {
    const size_t d = levenshtein(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

// "; did you mean --lr?" for each flag of the command line that `sub` does not know.
std::string flag_suggestions(const CLI::App* sub, int argc, char** argv) {
  std::vector<std::string> names;
  for (const CLI::Option* o : sub->get_options())
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) continue;
    a = a.substr(0, a.find('='));
    if (std::find(names.begin(), names.end(), a) != names.end()) continue;
    const std::string n = nearest(a, names);
    if (!n.empty()) out += fmt::format("; did you mean {} (not {})?", n, a);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"initscope: train networks and measure how their initialization shapes them"};
  app.require_subcommand(1);
  const std::string version =
      fmt::format("initscope {} (commit {})", INITSCOPE_VERSION, INITSCOPE_GIT_COMMIT);
  app.set_version_flag("--version", version);
  initscope::cli::Common common;
  initscope::cli::add_train(app, common);
  initscope::cli::add_options(app);
  initscope::cli::add_data(app, common);
  initscope::cli::add_results(app, common);
  initscope::cli::add_compare(app, common);
  initscope::cli::add_rerun(app, common);
  initscope::cli::add_sweep(app, common);
  initscope::cli::add_calibrate(app, common);
  initscope::cli::add_report(app, common);
  initscope::cli::add_cluster(app, common);
  initscope::cli::add_rank(app, common);
  app.add_subcommand("version", "Print the version and the git commit this binary was built from")
      ->callback([&] { fmt::print("{}\n", version); });

  initscope::cli::add_measure(app, common);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end the parse with exit code 0; CLI11 prints them.
    if (e.get_exit_code() == 0) return app.exit(e);
    // Any other parse error is bad input like the rest: one line naming the flag, exit 1.
    std::string what = e.what();
    // CLI11 says only "A subcommand is required" for `initscope frobnicate`: name the word,
    // the commands, and the nearest one.
    if (app.get_subcommands().empty() && (argc == 1 || argv[1][0] != '-')) {
      std::vector<std::string> names;
      for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
      const std::string near = argc > 1 ? nearest(argv[1], names) : "";
      what = argc > 1 ? fmt::format("unknown command {}; commands are: {}{}", argv[1],
                                    fmt::join(names, ", "),
                                    near.empty() ? "" : fmt::format(" (did you mean {}?)", near))
                      : fmt::format("no command given; commands are: {}", fmt::join(names, ", "));
    } else if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr &&
               !app.get_subcommands().empty()) {
      what += flag_suggestions(app.get_subcommands().front(), argc, argv);
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
