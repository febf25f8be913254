// Two tiers of errors (STYLE.md practice 8).
// - initscope::Error: bad user input, configuration or files. The message names the file or
//   flag, what was wrong and what was expected; the CLI prints it and exits non-zero.
// - IS_CHECK: a broken internal invariant. Aborts with file and line; never used for input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace initscope {

/// Thrown for bad user input; `what()` is a complete sentence meant for the user.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void check_failed(const char* cond, const char* file, int line,
                                      const char* msg) {
  std::fprintf(stderr, "initscope: internal check failed at %s:%d: %s%s%s\n", file, line, cond,
               msg[0] ? " — " : "", msg);
  std::abort();
}

}  // namespace initscope

/// Aborts with file and line when an internal invariant does not hold.
#define IS_CHECK(cond, ...)                                                            \
  do {                                                                                 \
    if (!(cond)) ::initscope::check_failed(#cond, __FILE__, __LINE__, "" __VA_ARGS__); \
  } while (0)
