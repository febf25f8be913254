// Test helper: asserts that a call throws initscope::Error whose message contains every given
// piece, so tests pin down what the user is told, not just that something failed.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "common/error.hpp"

namespace initscope::test {

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected initscope::Error, nothing was thrown";
  return "";
}

template <class F>
void expect_error_with(F&& f, std::initializer_list<std::string> pieces) {
  const std::string message = error_message(std::forward<F>(f));
  for (const auto& piece : pieces)
    EXPECT_NE(message.find(piece), std::string::npos)
        << "message: " << message << "\nmissing: " << piece;
}

}  // namespace initscope::test
