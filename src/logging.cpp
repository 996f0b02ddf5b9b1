#include "logging.hpp"

#include <spdlog/fmt/chrono.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "domain/text.hpp"

namespace cdbemu::logging {
namespace {

bool g_json = false;

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::Trace: return spdlog::level::trace;
    case Level::Debug: return spdlog::level::debug;
    case Level::Info: return spdlog::level::info;
    case Level::Warn: return spdlog::level::warn;
    case Level::Error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string now_iso() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(static_cast<std::time_t>(ms / 1000)),
                     static_cast<int>(ms % 1000));
}

void emit_json(Level level, nlohmann::ordered_json fields) {
  nlohmann::ordered_json line;
  line["time"] = now_iso();
  const auto name = spdlog::level::to_string_view(to_spdlog(level));
  line["level"] = std::string(name.data(), name.size());
  line.update(fields);
  spdlog::log(to_spdlog(level), "{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

/// Text-mode copy of untrusted text: one line, no raw control bytes or invalid UTF-8.
std::string printable(std::string_view text, bool escape_spaces = true) {
  std::string out = domain::escape_text(text, 65536, false);
  if (!escape_spaces) return out;
  std::string spaced;
  for (const char c : out) {
    if (c == ' ') {
      spaced += "\\x20";
    } else {
      spaced += c;
    }
  }
  return spaced;
}

}  // namespace

void init(std::string_view level, std::string_view format) {
  g_json = format == "json";
  auto logger = std::make_shared<spdlog::logger>("cdb-sync-emulator", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern(g_json ? "%v" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void log(Level level, std::string_view message) {
  if (!spdlog::should_log(to_spdlog(level))) return;
  if (g_json) {
    emit_json(level, {{"message", message}});
  } else {
    spdlog::log(to_spdlog(level), "{}", printable(message, false));
  }
}

void log_request(const RequestLine &line) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  if (g_json) {
    emit_json(Level::Info, {{"event", "request"},
                            {"requestId", line.request_id},
                            {"method", line.method},
                            {"path", line.path},
                            {"action", line.action},
                            {"code", line.code},
                            {"latencyMs", line.latency_ms}});
  } else {
    spdlog::info("request id={} method={} path={} action={} code={} latency_ms={:.3f}", line.request_id,
                 printable(line.method), printable(line.path), line.action.empty() ? "-" : printable(line.action),
                 line.code, line.latency_ms);
  }
}

}  // namespace cdbemu::logging
