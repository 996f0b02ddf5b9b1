#pragma once
// One emulator instance: store, fixtures, service and server wired together. main() runs one;
// the end-to-end tests run one in-process on port 0.

#include <memory>
#include <string>

#include "config.hpp"

namespace cdbemu {

class Emulator {
 public:
  /// Opens the store, applies migrations, loads the fixtures and binds the port.
  /// Throws std::runtime_error (and its subclasses) with a message for the user.
  explicit Emulator(const Config &config);
  ~Emulator();
  Emulator(const Emulator &) = delete;
  Emulator &operator=(const Emulator &) = delete;

  /// The port actually bound.
  int port() const;
  /// The single JSON line announcing readiness.
  std::string ready_line() const;
  /// Serves until stop(); blocking.
  void run();
  /// Makes run() return after in-flight requests finish.
  void stop();
  bool is_running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdbemu
