// libFuzzer target: a run's configuration from JSON (what `train` builds from its flags, and what
// a database row or a sweep holds), then its validation and identity.
// Checked beyond "only initscope::Error": a configuration that reads survives to_json and back
// with the same config_hash (the identity a resumed sweep relies on).
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "fuzz_input.hpp"
#include "train/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;  // not JSON: the parser's business, not ours
  initscope::fuzz::expect_only_errors([&] {
    const initscope::TrainConfig c = initscope::config_from_json(j, "fuzz");
    initscope::validate(c);
    const std::string h = initscope::config_hash(c);
    const initscope::TrainConfig again = initscope::config_from_json(initscope::to_json(c));
    if (initscope::config_hash(again) != h) std::abort();
    if (initscope::config_hash_of_stored(initscope::to_json(c)) != h) std::abort();
  });
  return 0;
}
