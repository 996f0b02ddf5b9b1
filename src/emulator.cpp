#include "emulator.hpp"

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "domain/clock.hpp"
#include "domain/fixtures.hpp"
#include "domain/nonce_cache.hpp"
#include "http/auth.hpp"
#include "domain/task_service.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace cdbemu {

namespace {

/// The keys: credentials.json from --fixtures DIR (the built-in one when DIR has none), then the
/// --credential pairs, which replace keys with the same SecretId.
domain::Credentials load_credentials(const Config &config) {
  const bool from_dir = !config.fixtures.empty() && std::filesystem::exists(config.fixtures + "/credentials.json");
  const std::string dir = from_dir ? config.fixtures : std::string();
  domain::Credentials credentials;
  for (auto &credential : domain::parse_credentials(domain::read_fixture(dir, "credentials.json"),
                                                    from_dir ? dir + "/credentials.json" : "built-in credentials.json")) {
    credentials.put(std::move(credential));
  }
  for (const auto &flag : config.credentials) {
    try {
      credentials.put(domain::parse_credential_flag(flag));
    } catch (const std::invalid_argument &e) {
      throw std::runtime_error("--credential: " + std::string(e.what()));
    }
  }
  return credentials;
}

}  // namespace

struct Emulator::Impl {
  explicit Impl(const Config &cfg)
      : config(cfg),
        store(cfg.db),
        service(store, clock),
        nonces(cfg.nonce_capacity, cfg.timestamp_window),
        auth(cfg.auth == "verify", load_credentials(cfg), cfg.timestamp_window, nonces),
        server(config, service, auth) {
    // Bind first: a start that fails on a busy port must not touch a database another
    // emulator may be serving.
    port = server.bind();
    const std::string file = config.fixtures.empty() ? "built-in instances.json" : config.fixtures + "/instances.json";
    const auto fixtures = domain::parse_instances(domain::read_fixture(config.fixtures, "instances.json"), file);
    store.replace_fixtures(fixtures.instances, fixtures.zones);
    store.raise_next_job_id(config.first_job_id);
  }

  Config config;
  store::Store store;
  domain::Clock clock;
  domain::TaskService service;
  domain::NonceCache nonces;
  http::Authenticator auth;
  http::Server server;
  int port = 0;
};

Emulator::Emulator(const Config &config) : impl_(std::make_unique<Impl>(config)) {}
Emulator::~Emulator() = default;

int Emulator::port() const { return impl_->port; }

std::string Emulator::ready_line() const {
  nlohmann::ordered_json line;
  line["event"] = "ready";
  line["host"] = impl_->config.host;
  line["port"] = impl_->port;
  line["pid"] = static_cast<long>(::getpid());
  line["db"] = impl_->config.db;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Emulator::run() { impl_->server.listen(); }
void Emulator::stop() { impl_->server.stop(); }
bool Emulator::is_running() const { return impl_->server.is_running(); }

}  // namespace cdbemu
