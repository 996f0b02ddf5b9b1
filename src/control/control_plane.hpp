#pragma once
// The emulator's own endpoints under /_emulator/ (JSON in and out, JSON errors): health, reset,
// the error catalogue, the clock, fault rules and the request journal. The API at /v2/index.php
// never changes because of them, except where a test asks for a fault.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "control/faults.hpp"
#include "control/journal.hpp"
#include "control/metrics.hpp"

namespace httplib {
class Server;
struct Request;
}

namespace cdbemu::domain {
class Clock;
class TaskService;
}
namespace cdbemu::store {
class Store;
class Snapshots;
}

namespace cdbemu::control {

struct ControlOptions {
  bool enabled = true;            ///< false: every /_emulator/ path is 404, X-Emulator-* headers are ignored
  std::string token;              ///< when set: "Authorization: Bearer <token>" is required
  std::int64_t max_delay_ms = 30000;
  std::int64_t max_wait_ms = 30000;
  std::size_t journal_entries = 10000;
  std::size_t journal_bytes = 8 << 20;
  std::int32_t utc_offset = 8 * 3600;
  int sleep_slots = 32;           ///< requests that may sleep (delays, waits) at once
};

/// What the control plane needs from the rest of the emulator.
struct ControlHooks {
  std::function<std::int64_t()> task_count;
  std::function<void(bool reset_ids)> reset;  ///< tasks, nonces, instances, clock (faults and journal: here)
  std::function<void(MetricsReadings &)> read_metrics;  ///< fills in the task and nonce readings
};

/// The state the control plane reads and changes directly.
struct ControlState {
  store::Store &store;
  domain::TaskService &service;
  store::Snapshots &snapshots;
};

class ControlPlane {
 public:
  ControlPlane(ControlOptions options, domain::Clock &clock, ControlState state, ControlHooks hooks);

  /// Adds the control routes to `server` (or, when disabled, nothing).
  void install(httplib::Server &server);

  const ControlOptions &options() const { return options_; }
  FaultRules &faults() { return faults_; }
  Journal &journal() { return journal_; }
  Metrics &metrics() { return metrics_; }

  /// Whether `req` carries the control token (always, when none is configured).
  bool authorized(const httplib::Request &req) const;

  /// Takes one of the slots for a request that sleeps (a delay or a wait); false when all are busy.
  bool try_sleep_slot();
  void release_sleep_slot();

  /// Sleeps `duration`, or less when the emulator shuts down.
  void pause(std::chrono::milliseconds duration);

  /// Wakes every journal waiter and pause (shutdown).
  void shutdown();

 private:
  /// `handler` behind the token check, with ControlError and friends turned into JSON errors.
  template <class Handler>
  auto guarded(Handler handler);
  /// Snapshots, export/import and instances at run time (state_routes.cpp).
  void install_state_routes(httplib::Server &server);

  ControlOptions options_;
  domain::Clock &clock_;
  ControlState state_;
  ControlHooks hooks_;
  FaultRules faults_;
  Journal journal_;
  Metrics metrics_;
  std::atomic<int> sleeping_{0};
  std::mutex pause_mutex_;
  std::condition_variable pause_wake_;
  bool shutting_down_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace cdbemu::control
