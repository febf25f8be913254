// libFuzzer target: a sweep file (TOML) parsed and expanded into run configurations.
// Checked beyond "only initscope::Error": every expanded run is valid and the runs are distinct.
#include <cstdlib>
#include <set>

#include "fuzz_input.hpp"
#include "sweep/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = initscope::fuzz::input_file(data, size, "sweep.toml");
  initscope::fuzz::expect_only_errors([&] {
    const initscope::Sweep s = initscope::sweep_load(file);
    std::set<std::string> hashes;
    for (const auto& c : s.runs) {
      initscope::validate(c);
      if (!hashes.insert(initscope::config_hash(c)).second) std::abort();
    }
  });
  return 0;
}
