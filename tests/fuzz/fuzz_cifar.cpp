// libFuzzer target: the CIFAR-10 binary reader on arbitrary bytes, as one batch file.
// Checked beyond "only initscope::Error": what reads has whole records and labels below 10.
#include <cstdlib>

#include "data/dataset.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = initscope::fuzz::input_file(data, size, "data_batch_1.bin");
  initscope::fuzz::expect_only_errors([&] {
    const initscope::Dataset d = initscope::cifar10_read({file});
    if (d.dim != 3072 || d.x.size() != static_cast<size_t>(d.n * d.dim) ||
        d.y.size() != static_cast<size_t>(d.n))
      std::abort();
    for (const int32_t y : d.y)
      if (y < 0 || y >= 10) std::abort();
  });
  return 0;
}
