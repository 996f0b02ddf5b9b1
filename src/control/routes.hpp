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

/// The request body as a JSON object ({} when empty), or 400.
inline nlohmann::json json_body(const httplib::Request &req, bool allow_empty = false) {
  if (allow_empty && req.body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
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
