// Counts every allocation through operator new in the test binary that includes this header,
// so that a test can check that a step or a call allocates nothing:
//   const long before = initscope::testing::allocations(); step(); EXPECT_EQ(allocations(),
//   before);
// The replacement operators are ordinary (not inline) definitions: include this header in
// exactly one source file of a test binary.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace initscope::testing {
inline std::atomic<long> g_allocations{0};
inline long allocations() {
  return g_allocations.load(std::memory_order_relaxed);
}
}  // namespace initscope::testing

// GCC 12 flags free() in a replaced operator delete as "mismatched" once inlined; it is not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  initscope::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop
