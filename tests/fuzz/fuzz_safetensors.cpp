// libFuzzer target: the safetensors reader on arbitrary bytes.
// Checked beyond "only initscope::Error": every tensor read holds as many floats as its shape.
#include <cstdlib>

#include "fuzz_input.hpp"
#include "store/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = initscope::fuzz::input_file(data, size, "input.safetensors");
  initscope::fuzz::expect_only_errors([&] {
    for (const initscope::Tensor& t : initscope::safetensors_read(file)) {
      size_t n = 1;
      for (const int64_t d : t.shape) {
        if (d < 0) std::abort();
        n *= static_cast<size_t>(d);
      }
      if (n != t.data.size()) std::abort();
    }
  });
  return 0;
}
