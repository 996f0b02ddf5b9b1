#include "emulator.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "domain/clock.hpp"
#include "domain/fixtures.hpp"
#include "domain/task_service.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace cdbemu {

struct Emulator::Impl {
  explicit Impl(const Config &cfg)
      : config(cfg), store(cfg.db), service(store, clock), server(config, service) {
    const std::string file = config.fixtures.empty() ? "built-in instances.json" : config.fixtures + "/instances.json";
    const auto fixtures = domain::parse_instances(domain::read_fixture(config.fixtures, "instances.json"), file);
    store.replace_fixtures(fixtures.instances, fixtures.zones);
    store.raise_next_job_id(config.first_job_id);
    port = server.bind();
  }

  Config config;
  store::Store store;
  domain::Clock clock;
  domain::TaskService service;
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
