#pragma once
// The emulator's notion of "now" for task times: real time, or a manual clock that tests move.
// (Signature timestamps and the replay window always use real wall time, never this clock.)

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cdbemu::domain {

class Clock {
 public:
  /// A real clock, or a manual one standing at `start` (Unix seconds).
  explicit Clock(bool manual = false, std::int64_t start = 0) : manual_(manual), start_(start), now_(start) {}

  /// Unix seconds now.
  std::int64_t now() const { return manual_ ? now_.load() : wall_seconds(); }
  bool manual() const { return manual_; }

  /// Moves a manual clock to `time`; false (and no change) when that would go backwards.
  bool set(std::int64_t time) {
    std::int64_t current = now_.load();
    while (time >= current) {
      if (now_.compare_exchange_weak(current, time)) return true;
    }
    return false;
  }
  /// Moves a manual clock's start (and the clock) to `time`.
  void start_at(std::int64_t time) {
    start_ = time;
    now_ = time;
  }
  /// Puts a manual clock back where it started (reset).
  void restart() { now_ = start_; }
  /// Puts a manual clock at `time`, backwards too (restoring a snapshot).
  void restore(std::int64_t time) {
    if (manual_) now_ = time;
  }

  static std::int64_t wall_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  bool manual_;
  std::int64_t start_;
  std::atomic<std::int64_t> now_;
};

}  // namespace cdbemu::domain
