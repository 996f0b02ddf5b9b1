#pragma once
// The emulator's notion of "now" for task times (not for signature timestamps).

#include <chrono>
#include <cstdint>

namespace cdbemu::domain {

/// Task time source; real wall time.
class Clock {
 public:
  /// Unix seconds now.
  std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace cdbemu::domain
