#pragma once
// The emulator's own endpoints under /_emulator/ (JSON in and out, JSON errors). The API at
// /v2/index.php never changes because of them.

#include <cstdint>

namespace httplib {
class Server;
}

namespace cdbemu::domain {
class Clock;
}

namespace cdbemu::control {

class ControlPlane {
 public:
  ControlPlane(domain::Clock &clock, std::int32_t utc_offset) : clock_(clock), utc_offset_(utc_offset) {}

  /// Adds the control routes to `server`.
  void install(httplib::Server &server);

 private:
  domain::Clock &clock_;
  std::int32_t utc_offset_;
};

}  // namespace cdbemu::control
