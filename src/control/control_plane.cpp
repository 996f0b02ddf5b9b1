#include "control/control_plane.hpp"

#include "control/routes.hpp"

#include <httplib.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "domain/clock.hpp"
#include "domain/errors.hpp"
#include "domain/times.hpp"

namespace cdbemu::control {
namespace {

using nlohmann::ordered_json;

/// A non-negative integer query parameter, or `fallback` when absent; 400 when malformed.
std::uint64_t number_param(const httplib::Request &req, const char *name, std::uint64_t fallback) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    throw ControlError{400, std::string(name) + " must be a non-negative integer"};
  }
  return value;
}

JournalFilter journal_filter(const httplib::Request &req) {
  JournalFilter filter;
  if (req.has_param("action") && !req.get_param_value("action").empty()) filter.action = req.get_param_value("action");
  if (req.has_param("code") && !req.get_param_value("code").empty()) {
    const std::string text = req.get_param_value("code");
    int code = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
    if (ec != std::errc{} || end != text.data() + text.size()) throw ControlError{400, "code must be an integer"};
    filter.code = code;
  }
  if (req.has_param("jobId") && !req.get_param_value("jobId").empty()) {
    filter.job_id = static_cast<std::int64_t>(number_param(req, "jobId", 0));
  }
  filter.since = number_param(req, "since", 0);
  filter.limit = static_cast<std::size_t>(std::min<std::uint64_t>(number_param(req, "limit", 1000), 10000));
  return filter;
}

}  // namespace

ControlPlane::ControlPlane(ControlOptions options, domain::Clock &clock, ControlState state, ControlHooks hooks)
    : options_(std::move(options)),
      clock_(clock),
      state_(state),
      hooks_(std::move(hooks)),
      journal_(options_.journal_entries, options_.journal_bytes) {}

bool ControlPlane::authorized(const httplib::Request &req) const {
  return options_.token.empty() || req.get_header_value("Authorization") == "Bearer " + options_.token;
}

bool ControlPlane::try_sleep_slot() {
  if (sleeping_.fetch_add(1) < options_.sleep_slots) return true;
  sleeping_.fetch_sub(1);
  return false;
}

void ControlPlane::release_sleep_slot() { sleeping_.fetch_sub(1); }

void ControlPlane::pause(std::chrono::milliseconds duration) {
  std::unique_lock lock(pause_mutex_);
  pause_wake_.wait_for(lock, duration, [this] { return shutting_down_; });
}

void ControlPlane::shutdown() {
  {
    std::lock_guard lock(pause_mutex_);
    shutting_down_ = true;
  }
  pause_wake_.notify_all();
  journal_.shutdown();
}

void ControlPlane::install(httplib::Server &server) {
  if (!options_.enabled) return;
  install_state_routes(server);

  const auto clock_state = [this] {
    ordered_json state;
    state["mode"] = clock_.manual() ? "manual" : "real";
    state["now"] = domain::format_time(clock_.now(), options_.utc_offset);
    state["unix"] = clock_.now();
    return state;
  };

  server.Get("/_emulator/health", guarded([this](const httplib::Request &, httplib::Response &res) {
               ordered_json body;
               body["status"] = "ready";
               body["version"] = CDB_EMU_VERSION;
               body["uptimeSeconds"] = std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::steady_clock::now() - started_)
                                           .count();
               body["tasks"] = hooks_.task_count();
               body["clock"] = clock_.manual() ? "manual" : "real";
               body["faults"] = faults_.list().size();
               body["journalEntries"] = journal_.size();
               body["sleepingRequests"] = sleeping_.load();
               reply(res, 200, body);
             }));

  server.Post("/_emulator/reset", guarded([this](const httplib::Request &req, httplib::Response &res) {
                const auto body = json_body(req, true);
                for (const auto &[key, value] : body.items()) {
                  if (key != "resetIds") throw ControlError{400, "unknown field \"" + key + "\"; reset takes resetIds"};
                }
                const bool reset_ids = body.contains("resetIds") && body["resetIds"].is_boolean() && body["resetIds"].get<bool>();
                if (body.contains("resetIds") && !body["resetIds"].is_boolean()) {
                  throw ControlError{400, "resetIds must be true or false"};
                }
                hooks_.reset(reset_ids);
                faults_.clear();
                journal_.clear();
                reply(res, 200, {{"reset", true}, {"resetIds", reset_ids}});
              }));

  server.Get("/_emulator/errors", guarded([](const httplib::Request &, httplib::Response &res) {
               ordered_json errors = ordered_json::array();
               for (const auto &row : domain::error_catalogue()) {
                 ordered_json item;
                 item["code"] = row.code;
                 item["codeDesc"] = row.code_desc;
                 item["message"] = row.message;
                 item["documented"] = row.documented;
                 ordered_json actions = ordered_json::array();
                 std::string_view rest = row.actions;
                 while (!rest.empty()) {
                   const std::size_t space = rest.find(' ');
                   actions.push_back(std::string(rest.substr(0, space)));
                   rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
                 }
                 item["actions"] = std::move(actions);
                 errors.push_back(std::move(item));
               }
               reply(res, 200, {{"errors", errors}});
             }));

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
                                          ? domain::parse_time(body["set"].get<std::string>(), options_.utc_offset)
                                          : std::nullopt;
                  if (!parsed) throw ControlError{400, "set must be a time as \"yyyy-mm-dd hh:mm:ss\""};
                  target = *parsed;
                }
                // Wire times have four-digit years.
                const auto last = domain::parse_time("9999-12-31 23:59:59", options_.utc_offset);
                if (last && target > *last) throw ControlError{400, "the clock cannot pass 9999-12-31 23:59:59"};
                if (!clock_.set(target)) {
                  throw ControlError{400, "the clock never goes backwards (it is " +
                                              domain::format_time(clock_.now(), options_.utc_offset) + ")"};
                }
                reply(res, 200, clock_state());
              }));

  server.Post("/_emulator/faults", guarded([this](const httplib::Request &req, httplib::Response &res) {
                const std::string id = faults_.add(json_body(req), options_.max_delay_ms);
                reply(res, 201, {{"id", id}});
              }));
  server.Get("/_emulator/faults", guarded([this](const httplib::Request &, httplib::Response &res) {
               reply(res, 200, {{"faults", faults_.list()}});
             }));
  server.Delete("/_emulator/faults", guarded([this](const httplib::Request &, httplib::Response &res) {
                  faults_.clear();
                  reply(res, 200, {{"deleted", "all"}});
                }));
  server.Delete(R"(/_emulator/faults/([^/]+))", guarded([this](const httplib::Request &req, httplib::Response &res) {
                  const std::string id = req.matches[1];
                  if (!faults_.remove(id)) throw ControlError{404, "no fault rule " + id};
                  reply(res, 200, {{"deleted", id}});
                }));

  server.Get("/_emulator/requests/wait", guarded([this](const httplib::Request &req, httplib::Response &res) {
               const JournalFilter filter = journal_filter(req);
               const auto count = static_cast<std::size_t>(number_param(req, "count", 1));
               const auto timeout = std::min<std::uint64_t>(number_param(req, "timeoutMs", 5000),
                                                            static_cast<std::uint64_t>(options_.max_wait_ms));
               if (!try_sleep_slot()) {
                 throw ControlError{429, "too many requests are waiting already; try again"};
               }
               ordered_json body;
               try {
                 body = journal_.wait(filter, count, std::chrono::milliseconds(timeout));
               } catch (...) {
                 release_sleep_slot();
                 throw;
               }
               release_sleep_slot();
               body["satisfied"] = body["matched"].get<std::size_t>() >= count;
               reply(res, 200, body);
             }));
  server.Get("/_emulator/requests", guarded([this](const httplib::Request &req, httplib::Response &res) {
               reply(res, 200, journal_.query(journal_filter(req)));
             }));
  server.Delete("/_emulator/requests", guarded([this](const httplib::Request &, httplib::Response &res) {
                  journal_.clear();
                  reply(res, 200, {{"deleted", "all"}});
                }));

  server.Get("/_emulator/metrics", guarded([this](const httplib::Request &, httplib::Response &res) {
               MetricsReadings readings;
               hooks_.read_metrics(readings);
               readings.faults_fired = faults_.fired_total();
               readings.journal_entries = journal_.size();
               readings.journal_bytes = journal_.bytes();
               readings.journal_dropped_entries = journal_.dropped_entries();
               readings.journal_dropped_bytes = journal_.dropped_bytes();
               res.status = 200;
               res.set_content(metrics_.render(readings), "text/plain; version=0.0.4");
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
