// `initscope data fetch NAME` and `initscope data check`.
#include <fmt/core.h>

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
    fmt::print("data directory: {}\n", dir.string());
    std::vector<std::string> incomplete;
    for (const auto& s : check_data(dir)) {
      fmt::print("  {:<14} {:<8} {:<40} {}\n", s.dataset, s.ok ? "ok" : "MISSING",
                 s.file.filename().string(), s.detail);
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
  });
}

}  // namespace initscope::cli
