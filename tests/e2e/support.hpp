#pragma once
// End-to-end test support: an emulator in-process on port 0, the real binary as a child
// process, and request builders. No fixed ports, no sleeps: everything polls with a deadline.

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config.hpp"
#include "emulator.hpp"

namespace cdbemu::test {

using Params = std::vector<std::pair<std::string, std::string>>;

/// `name=value&...` with RFC 3986 percent-encoding of everything but unreserved characters.
std::string encode_query(const Params &params);
/// Percent-encodes one component.
std::string percent_encode(std::string_view text);

/// The default development key, shipped in fixtures/credentials.json.
inline constexpr const char *kSecretId = "AKIDEMULATORDEFAULTKEY";
inline constexpr const char *kSecretKey = "emulator-default-secret";

/// The common parameters for `action` with the default key, a fresh Nonce and the current time;
/// Signature is a placeholder that sign() replaces.
Params common_params(const std::string &action, const std::string &region = "gz");

/// `params` with Signature (if present) replaced by a valid one for `method` and `host`, signed
/// with `key` (the default key when empty) the way the Node SDK signs.
Params sign(Params params, const std::string &method, const std::string &host, const std::string &key = "");

/// The seed page's CreateCdbDataSyncTask parameters (without the common ones).
Params seed_create_params();

/// A unique Nonce for this test process.
std::string next_nonce();

/// A unique temporary path (not created).
std::string temp_path(const std::string &suffix);

/// An emulator running in this process on a free port.
class LiveEmulator {
 public:
  explicit LiveEmulator(Config config = default_config());
  ~LiveEmulator();

  /// :memory: database, port 0, built-in fixtures, logs off.
  static Config default_config();

  int port() const { return emulator_->port(); }
  httplib::Client client() const;

  /// "127.0.0.1:PORT", the Host header httplib's client sends.
  std::string host() const { return "127.0.0.1:" + std::to_string(port()); }

  // The request helpers sign the parameters (see sign()) before sending them.

  /// GET /v2/index.php?<params>; returns the parsed body.
  nlohmann::json get(const Params &params) const;
  /// GET /v2/index.php?<params>; returns the body's bytes (HTTP status must be 200).
  std::string get_text(const Params &params, bool signed_request = true) const;
  /// POST urlencoded.
  nlohmann::json post_form(const Params &params) const;
  /// POST multipart/form-data.
  nlohmann::json post_multipart(const Params &params) const;

 private:
  std::unique_ptr<Emulator> emulator_;
  std::thread thread_;
};

/// Sends raw bytes on a new connection and returns everything the server sent back until it
/// closed or `timeout` passed.
std::string raw_exchange(int port, const std::string &bytes,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

/// A raw TCP connection to the emulator, for requests no client library would send.
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection &) = delete;
  RawConnection &operator=(const RawConnection &) = delete;

  /// Sends all of `bytes`; false once the server has closed the connection (or stopped reading
  /// for 10 s).
  bool send(const std::string &bytes);
  /// Half-closes the connection: the server reads end-of-stream after what was sent.
  void shutdown_write();
  /// What the server sends until it has sent one whole answer, closes, or `timeout` passes.
  std::string read_reply(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  /// Whether the server has closed the connection (waits up to `timeout` to find out).
  bool closed_by_server(std::chrono::milliseconds timeout);

 private:
  int sock_ = -1;
};

/// The JSON body of a raw HTTP answer (everything after the blank line).
nlohmann::json body_of(const std::string &reply);

/// The real binary as a child process, started with `args`; waits for the ready line.
class ChildEmulator {
 public:
  explicit ChildEmulator(std::vector<std::string> args);
  ~ChildEmulator();

  /// Whether the ready line arrived; otherwise stderr_text() says why.
  bool ready() const { return port_ > 0; }
  int port() const { return port_; }
  const nlohmann::json &ready_line() const { return ready_line_; }
  /// The ready line exactly as printed, without its newline.
  const std::string &ready_text() const { return ready_text_; }
  pid_t pid() const { return pid_; }
  /// Sends `signal` and waits (up to `timeout`) for the exit; returns the exit status or -1.
  int stop(int signal, std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));
  /// Waits for the process to exit on its own; returns its exit code or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout);
  /// What the process wrote to stderr so far (after exit: all of it).
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
  std::string stderr_file_;
  std::string stdout_file_;
  nlohmann::json ready_line_;
  std::string ready_text_;
};

}  // namespace cdbemu::test
