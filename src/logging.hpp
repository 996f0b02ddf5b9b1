#pragma once
// Logs go to stderr (stdout carries only the ready line), as text or as one JSON object per line.

#include <string_view>

namespace cdbemu::logging {

enum class Level { Trace, Debug, Info, Warn, Error };

/// Sets up the stderr logger; `format` is "text" or "json", `level` a --log-level value.
void init(std::string_view level, std::string_view format);

/// One free-form line.
void log(Level level, std::string_view message);

/// One line per API request.
struct RequestLine {
  std::string_view request_id;
  std::string_view method;
  std::string_view path;
  std::string_view action;
  int code = 0;
  double latency_ms = 0;
};
void log_request(const RequestLine &line);

}  // namespace cdbemu::logging
