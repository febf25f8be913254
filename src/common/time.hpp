// The wall-clock time as the database and the calibration file record it.
#pragma once

#include <ctime>
#include <string>

namespace initscope {

/// Now, in UTC, ISO 8601 to the second: "2026-11-30T15:11:29Z".
inline std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace initscope
