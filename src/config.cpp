#include "config.hpp"

#include <CLI/CLI.hpp>
#include <charconv>

#include "domain/times.hpp"

namespace cdbemu {

std::optional<std::int32_t> progression_polls(std::string_view text) {
  constexpr std::string_view kPrefix = "polls:";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view digits = text.substr(kPrefix.size());
  std::int32_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n < 1 || n > 1000) return std::nullopt;
  return n;
}

std::optional<Config> parse_command_line(int argc, const char *const *argv, int &exit_code) {
  Config cfg;
  CLI::App app{"cdb-sync-emulator: a local emulator of Tencent Cloud API 2.0 CDB data-sync tasks.\n"
               "Every flag can also be set by the environment variable shown as Env (a flag beats\n"
               "its variable, which beats the default)."};
  app.set_version_flag("--version", std::string("cdb-sync-emulator ") + CDB_EMU_VERSION);
  app.get_formatter()->column_width(34);

  app.add_option("--host", cfg.host, "Address to listen on")->envname("CDB_EMU_HOST")->capture_default_str();
  app.add_option("--port", cfg.port, "Port to listen on; 0 picks a free port")
      ->envname("CDB_EMU_PORT")->check(CLI::Range(0, 65535))->capture_default_str();
  app.add_option("--db", cfg.db, "SQLite database file, or :memory:")->envname("CDB_EMU_DB")->capture_default_str();
  app.add_option("--fixtures", cfg.fixtures, "Directory with instances.json (default: the built-in fixtures)")
      ->envname("CDB_EMU_FIXTURES")->check(CLI::ExistingDirectory);
  app.add_option("--first-job-id", cfg.first_job_id, "Smallest id a new task may get (ids never go down)")
      ->envname("CDB_EMU_FIRST_JOB_ID")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 53))->capture_default_str();
  app.add_option("--log-level", cfg.log_level, "trace, debug, info, warn, error or off")
      ->envname("CDB_EMU_LOG_LEVEL")->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.add_option("--log-format", cfg.log_format, "text or json (one JSON object per line)")
      ->envname("CDB_EMU_LOG_FORMAT")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  app.add_flag("--string-code", cfg.string_code, "Send the success code as the string \"0\" (like the doc examples)")
      ->envname("CDB_EMU_STRING_CODE");
  app.add_option("--threads", cfg.threads, "Worker threads; each open keep-alive connection holds one")
      ->envname("CDB_EMU_THREADS")->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--ready-file", cfg.ready_file, "Also write the ready line to this file (atomically)")
      ->envname("CDB_EMU_READY_FILE");
  app.add_option("--keep-alive-timeout", cfg.keep_alive_timeout, "Seconds an idle keep-alive connection stays open")
      ->envname("CDB_EMU_KEEP_ALIVE_TIMEOUT")->check(CLI::Range(1, 3600))->capture_default_str();
  app.add_option("--read-timeout", cfg.read_timeout,
                 "Seconds a client may take to send a whole request, from its first byte (fractions allowed)")
      ->envname("CDB_EMU_READ_TIMEOUT")->check(CLI::Range(0.001, 3600.0))->capture_default_str();
  app.add_option("--shutdown-timeout", cfg.shutdown_timeout, "Seconds in-flight requests get after SIGINT/SIGTERM")
      ->envname("CDB_EMU_SHUTDOWN_TIMEOUT")->check(CLI::Range(1, 3600))->capture_default_str();
  app.add_option("--max-body-bytes", cfg.limits.max_body_bytes, "Largest request body, counted after decompression")
      ->envname("CDB_EMU_MAX_BODY_BYTES")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32))->capture_default_str();
  app.add_option("--max-params", cfg.limits.max_params, "Most parameters in one request, and most nodes their dotted names make (a.0.b makes 3)")
      ->envname("CDB_EMU_MAX_PARAMS")->check(CLI::Range(std::size_t{1}, std::size_t{100000000}))->capture_default_str();
  app.add_option("--max-index", cfg.limits.max_index, "Largest list index in a parameter name")
      ->envname("CDB_EMU_MAX_INDEX")->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 53))->capture_default_str();
  app.add_option("--max-depth", cfg.limits.max_depth, "Most dot-separated segments in a parameter name")
      ->envname("CDB_EMU_MAX_DEPTH")->check(CLI::Range(std::size_t{1}, std::size_t{64}))->capture_default_str();
  app.add_option("--max-value-bytes", cfg.limits.max_value_bytes, "Largest decoded parameter value")
      ->envname("CDB_EMU_MAX_VALUE_BYTES")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32))->capture_default_str();

  app.add_option("--auth", cfg.auth, "verify: check keys, signatures, timestamps and nonces; off: skip them")
      ->envname("CDB_EMU_AUTH")->check(CLI::IsMember({"verify", "off"}))->capture_default_str();
  app.add_option("--credential", cfg.credentials,
                 "Accept SECRET_ID:SECRET_KEY as well (repeatable; replaces a fixture key with the same id)")
      ->envname("CDB_EMU_CREDENTIALS")->delimiter(',')->type_name("ID:KEY");
  app.add_option("--timestamp-window", cfg.timestamp_window,
                 "Seconds a request's Timestamp may differ from wall time; nonces are remembered as long")
      ->envname("CDB_EMU_TIMESTAMP_WINDOW")->check(CLI::Range(std::int64_t{1}, std::int64_t{10} * 365 * 86400))
      ->capture_default_str();
  app.add_option("--nonce-capacity", cfg.nonce_capacity, "Most (SecretId, Nonce) pairs remembered; oldest dropped first")
      ->envname("CDB_EMU_NONCE_CAPACITY")->check(CLI::Range(std::size_t{1}, std::size_t{100000000}))->capture_default_str();
  app.add_option("--tls-cert", cfg.tls_cert, "PEM certificate: serve HTTPS (needs --tls-key)")
      ->envname("CDB_EMU_TLS_CERT")->check(CLI::ExistingFile);
  app.add_option("--tls-key", cfg.tls_key, "PEM private key of --tls-cert")->envname("CDB_EMU_TLS_KEY")->check(CLI::ExistingFile);

  app.add_option("--clock", cfg.clock, "real: tasks advance in real time; manual: time moves only by POST /_emulator/clock")
      ->envname("CDB_EMU_CLOCK")->check(CLI::IsMember({"real", "manual"}))->capture_default_str();
  app.add_option("--clock-start", cfg.clock_start, "Manual clock start, \"yyyy-mm-dd hh:mm:ss\" in --timezone (default: now)")
      ->envname("CDB_EMU_CLOCK_START");
  app.add_option("--timezone", cfg.timezone, "UTC offset of the times on the wire (+08:00 is Beijing time)")
      ->envname("CDB_EMU_TIMEZONE")->capture_default_str();
  app.add_option("--progression", cfg.progression, "time: tasks move by the clock; polls:N: a listed task moves one phase after N List reads")
      ->envname("CDB_EMU_PROGRESSION")->capture_default_str();
  app.add_option("--verify-seconds", cfg.verify_seconds, "Seconds verification takes (default: fixtures, else 3)")
      ->envname("CDB_EMU_VERIFY_SECONDS")->check(CLI::Range(std::int64_t{0}, std::int64_t{86400 * 365}));
  app.add_option("--ready-seconds", cfg.ready_seconds, "Seconds between Start and syncing (default: fixtures, else 2)")
      ->envname("CDB_EMU_READY_SECONDS")->check(CLI::Range(std::int64_t{0}, std::int64_t{86400 * 365}));
  app.add_option("--step-seconds", cfg.step_seconds, "Seconds each of the 6 run steps takes (default: fixtures, else 5)")
      ->envname("CDB_EMU_STEP_SECONDS")->check(CLI::Range(std::int64_t{0}, std::int64_t{86400 * 365}));

  app.add_option("--control-token", cfg.control_token,
                 "Require \"Authorization: Bearer TOKEN\" on /_emulator/ calls and X-Emulator-* request headers")
      ->envname("CDB_EMU_CONTROL_TOKEN");
  app.add_flag("--no-control", cfg.no_control, "Turn the control plane off (404) and ignore X-Emulator-* headers")
      ->envname("CDB_EMU_NO_CONTROL");
  app.add_option("--journal-entries", cfg.journal_entries, "Most requests the journal keeps (oldest dropped first)")
      ->envname("CDB_EMU_JOURNAL_ENTRIES")->check(CLI::Range(std::size_t{1}, std::size_t{10000000}))->capture_default_str();
  app.add_option("--journal-bytes", cfg.journal_bytes, "Most bytes of JSON the journal keeps (oldest dropped first)")
      ->envname("CDB_EMU_JOURNAL_BYTES")->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 34))->capture_default_str();
  app.add_option("--max-delay-ms", cfg.max_delay_ms, "Longest delay a fault may inject")
      ->envname("CDB_EMU_MAX_DELAY_MS")->check(CLI::Range(std::int64_t{0}, std::int64_t{600000}))->capture_default_str();
  app.add_option("--max-wait-ms", cfg.max_wait_ms, "Longest /_emulator/requests/wait")
      ->envname("CDB_EMU_MAX_WAIT_MS")->check(CLI::Range(std::int64_t{0}, std::int64_t{600000}))->capture_default_str();

  app.add_option("--snapshot-dir", cfg.snapshot_dir, "Keep snapshots in this directory so they survive restarts (default: in memory)")
      ->envname("CDB_EMU_SNAPSHOT_DIR");

  CLI::App *sign = app.add_subcommand("sign", "Sign a hand-made request like the SDKs do and print it with a curl line");
  sign->add_option("--url", cfg.sign.url, "http://HOST:PORT/v2/index.php?Action=...&Region=...&... (unsigned)")->required();
  sign->add_option("--method", cfg.sign.method, "GET or POST")->check(CLI::IsMember({"GET", "POST"}))->capture_default_str();
  sign->add_option("--secret-id", cfg.sign.secret_id, "SecretId")->capture_default_str();
  sign->add_option("--secret-key", cfg.sign.secret_key, "SecretKey")->capture_default_str();
  sign->add_option("--signature-method", cfg.sign.signature_method, "HmacSHA1 or HmacSHA256 (default: as in the URL, else SHA-1)")
      ->check(CLI::IsMember({"HmacSHA1", "HmacSHA256"}));
  sign->add_option("--sign-host", cfg.sign.sign_host, "Host to sign for (default: the URL's host:port)");
  sign->callback([&cfg] { cfg.sign_command = true; });

  try {
    app.parse(argc, argv);
    if (cfg.tls_cert.empty() != cfg.tls_key.empty()) {
      throw CLI::ValidationError("--tls-cert and --tls-key", "must be given together");
    }
    if (!domain::parse_utc_offset(cfg.timezone)) {
      throw CLI::ValidationError("--timezone", "must be a UTC offset such as +08:00, -05:30 or UTC");
    }
    if (cfg.progression != "time" && !progression_polls(cfg.progression)) {
      throw CLI::ValidationError("--progression", "must be time or polls:N with N from 1 to 1000");
    }
    if (cfg.no_control && cfg.clock == "manual") {
      throw CLI::ValidationError("--clock manual", "needs the control plane to move the clock; drop --no-control");
    }
    if (!cfg.clock_start.empty()) {
      if (cfg.clock != "manual") throw CLI::ValidationError("--clock-start", "needs --clock manual");
      if (!domain::parse_time(cfg.clock_start, *domain::parse_utc_offset(cfg.timezone))) {
        throw CLI::ValidationError("--clock-start", "must be \"yyyy-mm-dd hh:mm:ss\"");
      }
    }
  } catch (const CLI::ParseError &e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }
  return cfg;
}

}  // namespace cdbemu
