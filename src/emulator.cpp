#include "emulator.hpp"

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/action.hpp"
#include "control/control_plane.hpp"
#include "domain/clock.hpp"
#include "domain/times.hpp"
#include "domain/fixtures.hpp"
#include "domain/nonce_cache.hpp"
#include "http/auth.hpp"
#include "domain/task_service.hpp"
#include "http/server.hpp"
#include "logging.hpp"
#include "store/snapshots.hpp"
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

/// instances.json from --fixtures DIR, or the built-in one.
domain::InstanceFixtures load_instances(const Config &config) {
  const std::string file = config.fixtures.empty() ? "built-in instances.json" : config.fixtures + "/instances.json";
  return domain::parse_instances(domain::read_fixture(config.fixtures, "instances.json"), file);
}

/// The fixtures' phase durations with the flags' overrides.
domain::Timing timing_of(const Config &config, domain::Timing timing) {
  if (config.verify_seconds) timing.verify_seconds = *config.verify_seconds;
  if (config.ready_seconds) timing.ready_seconds = *config.ready_seconds;
  if (config.step_seconds) timing.step_seconds = *config.step_seconds;
  return timing;
}

domain::Clock clock_of(const Config &config, std::int32_t utc_offset) {
  if (config.clock != "manual") return domain::Clock();
  const auto start = config.clock_start.empty() ? std::optional<std::int64_t>(domain::Clock::wall_seconds())
                                                : domain::parse_time(config.clock_start, utc_offset);
  return domain::Clock(true, start.value_or(domain::Clock::wall_seconds()));
}

control::ControlOptions control_options(const Config &config, std::int32_t utc_offset) {
  control::ControlOptions options;
  options.enabled = !config.no_control;
  options.token = config.control_token;
  options.max_delay_ms = config.max_delay_ms;
  options.max_wait_ms = config.max_wait_ms;
  options.journal_entries = config.journal_entries;
  options.journal_bytes = config.journal_bytes;
  options.utc_offset = utc_offset;
  // Sleeping requests (delays, waits) may take at most half the workers (none of a single one).
  options.sleep_slots = config.threads / 2;
  return options;
}

}  // namespace

struct Emulator::Impl {
  explicit Impl(const Config &cfg)
      : config(cfg),
        fixtures(load_instances(cfg)),
        options{domain::parse_utc_offset(cfg.timezone).value_or(8 * 3600)},
        store(cfg.db),
        clock(clock_of(cfg, options.utc_offset)),
        service(store, clock, timing_of(cfg, fixtures.timing),
                domain::Progression{progression_polls(cfg.progression).value_or(0)}),
        nonces(cfg.nonce_capacity, cfg.timestamp_window),
        auth(cfg.auth == "verify", load_credentials(cfg), cfg.timestamp_window, nonces),
        snapshots(cfg.snapshot_dir),
        control(control_options(cfg, options.utc_offset), clock, {store, service, snapshots},
                {[this] { return store.count_tasks(); }, [this](bool reset_ids) { reset(reset_ids); },
                 [this](control::MetricsReadings &readings) {
                   readings.tasks_by_status = store.count_by_status();
                   readings.nonces = nonces.size();
                   readings.nonce_evictions = nonces.evictions();
                 }}),
        server(config, service, auth, options, control) {
    // Bind first: a start that fails on a busy port must not touch a database another
    // emulator may be serving.
    port = server.bind();
    if (config.host != "127.0.0.1" && config.host != "localhost" && config.host != "::1") {
      logging::log(logging::Level::Warn, "listening on " + config.host +
                                             ": the emulator and its control plane are reachable from other hosts" +
                                             (config.control_token.empty() ? " (consider --control-token)" : ""));
    }
    store.replace_fixtures(fixtures.instances, fixtures.zones);
    store.raise_next_job_id(config.first_job_id);
    // A manual clock never goes backwards, across restarts too: it starts no earlier than the
    // latest time the stored tasks record.
    // (Only then: finding that time reads every task.)
    if (const std::int64_t latest = clock.manual() ? store.latest_task_time() : 0; latest > clock.now()) {
      logging::log(logging::Level::Warn, "the database holds tasks up to " + domain::format_time(latest, options.utc_offset) +
                                             ": the manual clock starts there instead");
      clock.start_at(latest);
    }
  }

  /// Back to a fresh emulator: no tasks or nonces, the fixtures' instances, the clock's start.
  void reset(bool reset_ids) {
    store.delete_all_tasks(reset_ids, config.first_job_id);
    store.replace_fixtures(fixtures.instances, fixtures.zones);
    nonces.clear();
    clock.restart();
  }

  Config config;
  domain::InstanceFixtures fixtures;
  api::ApiOptions options;
  store::Store store;
  domain::Clock clock;
  domain::TaskService service;
  domain::NonceCache nonces;
  http::Authenticator auth;
  store::Snapshots snapshots;
  control::ControlPlane control;
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
