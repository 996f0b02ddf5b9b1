#pragma once
// The HTTP server: routes, body reading, the one exception handler, tuned socket settings.

#include <memory>
#include <string>

#include "config.hpp"

namespace cdbemu::domain {
class TaskService;
}
namespace cdbemu::api {
struct ApiOptions;
}
namespace cdbemu::control {
class ControlPlane;
}

namespace cdbemu::http {

class Authenticator;

class Server {
 public:
  /// Serves the API and the control plane; HTTPS when config.tls_cert and config.tls_key are set.
  Server(const Config &config, domain::TaskService &service, const Authenticator &auth,
         const api::ApiOptions &options, control::ControlPlane &control);
  ~Server();
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;

  /// Binds config.host:config.port (0: any free port) and returns the port. Throws
  /// std::runtime_error with a clear message when the address cannot be used.
  int bind();
  /// Serves until stop(); returns once in-flight requests are done.
  void listen();
  /// Asks listen() to return; safe from any thread, also before listen() runs.
  void stop();
  bool is_running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdbemu::http
