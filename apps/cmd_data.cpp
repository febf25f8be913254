// `initscope data fetch NAME` and `initscope data check`.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"
#include "common/error.hpp"
#include "data/dataset.hpp"

namespace initscope::cli {

void add_data(CLI::App& app, Common& common) {
  auto* data = app.add_subcommand("data", "Fetch and check datasets");
  data->require_subcommand(1);

  auto* fetch = data->add_subcommand("fetch", "Put a dataset's files into the data directory");
  auto name = std::make_shared<std::string>();
  fetch->add_option("name", *name, "mnist, fashion-mnist or images")->required();
  fetch->add_option("--data-dir", common.data_dir,
                    "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  fetch->callback([name, &common] {
    const auto dir = data_dir(common.data_dir);
    fetch_dataset(*name, dir);
    fmt::print("{}: ready in {}\n", *name, dir.string());
  });

  auto* check = data->add_subcommand("check", "Say which dataset files are present and valid");
  check->add_option("--data-dir", common.data_dir, "data directory");
  check->callback([&common] {
    const auto dir = data_dir(common.data_dir);
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
      throw Error(
          fmt::format("--data-dir {}: is not a directory (expected the folder that holds "
                      "mnist/, fashion-mnist/ or cifar-10-batches-bin/)",
                      dir.string()));
    fmt::print("data directory: {}\n", dir.string());
    std::vector<std::string> incomplete, bad;
    for (const auto& s : check_data(dir)) {
      // MISSING: not there (fetch it); BAD: there but unreadable, damaged or of the wrong sum.
      const bool missing = !s.ok && s.detail == "missing";
      fmt::print("  {:<14} {:<8} {:<40} {}\n", s.dataset,
                 s.ok      ? "ok"
                 : missing ? "MISSING"
                           : "BAD",
                 s.file.filename().string(), s.detail);
      if (!s.ok && !missing) bad.push_back(s.file.string());
      if (!s.ok && (incomplete.empty() || incomplete.back() != s.dataset))
        incomplete.push_back(s.dataset);
    }
    for (const auto& d : incomplete) {
      if (d == "cifar10")
        fmt::print(
            "cifar10: cannot be fetched here; put the binary version's data_batch_1..5.bin "
            "and test_batch.bin in {}\n",
            (dir / "cifar-10-batches-bin").string());
      else
        fmt::print("{}: initscope data fetch {}{}\n", d, d,
                   common.data_dir ? " --data-dir " + dir.string() : "");
    }
    // Scripts can trust the exit code: a file that is there but bad is an error (reliability
    // B15); a missing one is not (CIFAR-10, say, is often absent on purpose).
    if (!bad.empty())
      throw Error(fmt::format("{} data file{} damaged or unreadable ({}); delete and fetch again",
                              bad.size(), bad.size() == 1 ? " is" : "s are", fmt::join(bad, ", ")));
  });
}

}  // namespace initscope::cli
