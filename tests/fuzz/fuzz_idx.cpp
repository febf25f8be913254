// libFuzzer target: the IDX reader (raw or gzip, detected by magic bytes) on arbitrary bytes.
// Checked beyond "only initscope::Error": a file that reads has as many bytes as its dims say.
#include <cstdlib>
#include <functional>
#include <numeric>

#include "data/dataset.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = initscope::fuzz::input_file(data, size, "input.idx");
  initscope::fuzz::expect_only_errors([&] {
    const initscope::IdxArray a = initscope::idx_read(file);
    const int64_t n =
        std::accumulate(a.dims.begin(), a.dims.end(), int64_t{1}, std::multiplies<>());
    if (a.dims.empty() || static_cast<size_t>(n) != a.data.size()) std::abort();
  });
  return 0;
}
