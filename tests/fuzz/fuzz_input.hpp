// What every fuzz target shares: the readers under test take a path, so each input is written to
// one file per process first; and the contract checked is that bad input throws initscope::Error
// (a one-line message for the user) and nothing else: any other exception, a crash, a leak or
// undefined behaviour is a finding (libFuzzer, ASan and UBSan report it).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"

namespace initscope::fuzz {

/// The input as a file named `name` in a per-process folder under the temporary directory.
inline std::filesystem::path input_file(const uint8_t* data, size_t size, const std::string& name) {
  static const std::filesystem::path dir = [] {
    auto d =
        std::filesystem::temp_directory_path() / ("initscope-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const auto file = dir / name;
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return file;
}

/// Runs `body`; an initscope::Error is the expected answer to bad input, anything else escapes.
template <class F>
void expect_only_errors(F&& body) {
  try {
    body();
  } catch (const initscope::Error&) {
  }
}

}  // namespace initscope::fuzz
