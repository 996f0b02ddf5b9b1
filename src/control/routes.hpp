#pragma once
// Shared by the control plane's route files: JSON replies and errors, and the guard every route
// goes through (the token first, so a refused request changes nothing).

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "control/control_plane.hpp"

namespace cdbemu::control {

/// A control-plane failure: HTTP `status` with {"error": message}.
struct ControlError {
  int status;
  std::string message;
};

inline void reply(httplib::Response &res, int status, const nlohmann::ordered_json &body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

/// Whether `text` nests JSON arrays and objects at most `limit` deep (deeper input would exhaust
/// the stack of a recursive JSON library).
inline bool json_depth_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

/// `text` parsed as JSON (discarded when malformed), or 400 when nested deeper than 64 levels.
inline nlohmann::json parse_json(std::string_view text) {
  if (!json_depth_within(text, 64)) throw ControlError{400, "the body nests deeper than 64 levels"};
  return nlohmann::json::parse(text, nullptr, false);
}

/// The request body as a JSON object ({} when empty), or 400.
inline nlohmann::json json_body(const httplib::Request &req, bool allow_empty = false) {
  if (allow_empty && req.body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  nlohmann::json body = parse_json(req.body);
  if (body.is_discarded() || !body.is_object()) throw ControlError{400, "the body must be a JSON object"};
  return body;
}

template <class Handler>
auto ControlPlane::guarded(Handler handler) {
  return [this, handler](const httplib::Request &req, httplib::Response &res) {
    try {
      if (!authorized(req)) {
        throw ControlError{401, "this emulator requires \"Authorization: Bearer <token>\" (--control-token)"};
      }
      handler(req, res);
    } catch (const ControlError &e) {
      reply(res, e.status, {{"error", e.message}});
    } catch (const FaultRuleError &e) {
      reply(res, 400, {{"error", e.message}});
    } catch (const std::exception &e) {
      reply(res, 500, {{"error", std::string("internal error: ") + e.what()}});
    }
  };
}

}  // namespace cdbemu::control
