// Runs the initscope binary under test (INITSCOPE_BIN, set by tests/cli/CMakeLists.txt) with a
// command line and captures its exit code and output, for the end-to-end CLI tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace initscope::testing {

struct Result {
  int code = 0;
  std::string out;  // stdout and stderr together
};

inline Result run(const std::string& args) {
  const std::string cmd = std::string(INITSCOPE_BIN) + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace initscope::testing
