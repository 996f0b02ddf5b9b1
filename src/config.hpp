#pragma once
// Everything the emulator can be told at start, from flags or CDB_EMU_* variables.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http/params.hpp"
#include "sign_command.hpp"

namespace cdbemu {

struct Config {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string db = "cdb-sync-emulator.db";
  std::string fixtures;  ///< directory; empty means the fixtures compiled into the binary
  std::int64_t first_job_id = 1;
  std::string log_level = "info";
  std::string log_format = "text";
  bool string_code = false;
  int threads = 128;
  std::string ready_file;
  int keep_alive_timeout = 5;  ///< seconds an idle keep-alive connection is kept
  double read_timeout = 5;     ///< seconds from a request's first byte to its last
  int shutdown_timeout = 10;   ///< seconds in-flight requests get after SIGINT/SIGTERM
  std::size_t listen_backlog = 1024;
  std::string auth = "verify";           ///< "verify" or "off"
  std::vector<std::string> credentials;  ///< extra SECRET_ID:SECRET_KEY pairs
  std::int64_t timestamp_window = 7200;  ///< seconds a Timestamp may be away from wall time
  std::size_t nonce_capacity = 100000;   ///< (SecretId, Nonce) pairs remembered at most
  std::string tls_cert;                  ///< PEM certificate; with tls_key, serve HTTPS
  std::string tls_key;
  http::DecodeLimits limits;
  std::string clock = "real";        ///< "real" or "manual"
  std::string clock_start;           ///< manual clock start, yyyy-mm-dd hh:mm:ss in --timezone
  std::string timezone = "+08:00";   ///< zone of the times on the wire
  std::string progression = "time";  ///< "time" or "polls:N"
  std::optional<std::int64_t> verify_seconds;  ///< override of the fixtures' timing
  std::optional<std::int64_t> ready_seconds;
  std::optional<std::int64_t> step_seconds;
  std::string control_token;             ///< when set, /_emulator/ and X-Emulator-* headers need "Bearer <token>"
  bool no_control = false;               ///< turn the control plane off (404) and ignore X-Emulator-* headers
  std::size_t journal_entries = 10000;   ///< request journal cap, entries
  std::size_t journal_bytes = 8 << 20;   ///< request journal cap, bytes of JSON
  std::int64_t max_delay_ms = 30000;     ///< longest injected delay
  std::int64_t max_wait_ms = 30000;      ///< longest /_emulator/requests/wait
  std::string snapshot_dir;              ///< keep snapshots here (they survive restarts); empty: in memory
  bool sign_command = false;  ///< `cdb-sync-emulator sign ...`: sign a request instead of serving
  SignOptions sign;
};

/// N of a `polls:N` --progression value.
std::optional<std::int32_t> progression_polls(std::string_view text);

/// Parses flags (which beat CDB_EMU_<FLAG> variables, which beat defaults). Returns the config,
/// or the exit code when the process should end now (--help, --version, a bad flag).
std::optional<Config> parse_command_line(int argc, const char *const *argv, int &exit_code);

}  // namespace cdbemu
