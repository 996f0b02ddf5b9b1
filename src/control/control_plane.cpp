#include "control/control_plane.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "domain/clock.hpp"
#include "domain/times.hpp"

namespace cdbemu::control {
namespace {

using nlohmann::ordered_json;

/// A control-plane failure: HTTP `status` with {"error": message}.
struct ControlError {
  int status;
  std::string message;
};

void reply(httplib::Response &res, int status, const ordered_json &body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

/// Runs `handler`; a ControlError becomes its JSON error, any other exception a 500.
template <class Handler>
httplib::Server::Handler guarded(Handler handler) {
  return [handler](const httplib::Request &req, httplib::Response &res) {
    try {
      handler(req, res);
    } catch (const ControlError &e) {
      reply(res, e.status, {{"error", e.message}});
    } catch (const std::exception &e) {
      reply(res, 500, {{"error", std::string("internal error: ") + e.what()}});
    }
  };
}

/// The request body as a JSON object, or 400.
nlohmann::json json_body(const httplib::Request &req) {
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) throw ControlError{400, "the body must be a JSON object"};
  return body;
}

}  // namespace

void ControlPlane::install(httplib::Server &server) {
  const auto clock_state = [this] {
    ordered_json state;
    state["mode"] = clock_.manual() ? "manual" : "real";
    state["now"] = domain::format_time(clock_.now(), utc_offset_);
    state["unix"] = clock_.now();
    return state;
  };

  server.Get("/_emulator/clock", guarded([clock_state](const httplib::Request &, httplib::Response &res) {
               reply(res, 200, clock_state());
             }));

  server.Post("/_emulator/clock", guarded([this, clock_state](const httplib::Request &req, httplib::Response &res) {
                if (!clock_.manual()) throw ControlError{400, "the clock is real; start the emulator with --clock manual"};
                const auto body = json_body(req);
                const bool advance = body.contains("advanceSeconds");
                const bool set = body.contains("set");
                if (advance == set) throw ControlError{400, "give exactly one of advanceSeconds and set"};
                std::int64_t target = 0;
                if (advance) {
                  const auto &seconds = body["advanceSeconds"];
                  if (!seconds.is_number_integer() || seconds.get<std::int64_t>() < 0 ||
                      seconds.get<std::int64_t>() > std::int64_t{100} * 365 * 86400) {
                    throw ControlError{400, "advanceSeconds must be a non-negative integer (at most 100 years)"};
                  }
                  target = clock_.now() + seconds.get<std::int64_t>();
                } else {
                  const auto parsed = body["set"].is_string()
                                          ? domain::parse_time(body["set"].get<std::string>(), utc_offset_)
                                          : std::nullopt;
                  if (!parsed) throw ControlError{400, "set must be a time as \"yyyy-mm-dd hh:mm:ss\""};
                  target = *parsed;
                }
                if (!clock_.set(target)) {
                  throw ControlError{400, "the clock never goes backwards (it is " +
                                              domain::format_time(clock_.now(), utc_offset_) + ")"};
                }
                reply(res, 200, clock_state());
              }));

  // Anything else under /_emulator/.
  const auto unknown = guarded([](const httplib::Request &req, httplib::Response &) {
    throw ControlError{404, "no control endpoint " + req.method + " " + req.path};
  });
  server.Get("/_emulator/.*", unknown);
  server.Post("/_emulator/.*", unknown);
  server.Put("/_emulator/.*", unknown);
  server.Patch("/_emulator/.*", unknown);
  server.Delete("/_emulator/.*", unknown);
}

}  // namespace cdbemu::control
