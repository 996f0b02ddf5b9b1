#include "support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "http/signature.hpp"
#include "logging.hpp"

namespace cdbemu::test {

std::string percent_encode(std::string_view text) { return http::percent_encode(text); }

std::string encode_query(const Params &params) {
  std::string out;
  for (const auto &[name, value] : params) {
    if (!out.empty()) out += '&';
    out += percent_encode(name) + "=" + percent_encode(value);
  }
  return out;
}

std::string next_nonce() {
  static std::atomic<std::uint64_t> counter{static_cast<std::uint64_t>(::getpid()) * 100000};
  return std::to_string(++counter);
}

Params common_params(const std::string &action, const std::string &region) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return {{"Action", action},      {"Region", region},     {"Timestamp", std::to_string(now)},
          {"Nonce", next_nonce()}, {"SecretId", kSecretId}, {"Signature", "signed-on-send"}};
}

Params sign(Params params, const std::string &method, const std::string &host, const std::string &key) {
  http::RawParams raw;
  std::string signature_method;
  for (const auto &[name, value] : params) {
    raw.push_back({name, value, false});
    if (name == "SignatureMethod") signature_method = value;
  }
  const std::string text = http::string_to_sign(method, host, "/v2/index.php", raw, http::SignOrder::SortThenReplace,
                                                method == "POST");
  const std::string signature = http::hmac_base64(text, key.empty() ? kSecretKey : key, signature_method == "HmacSHA256");
  for (auto &[name, value] : params) {
    if (name == "Signature") value = signature;
  }
  return params;
}

Params seed_create_params() {
  return {{"jobName", "myJobName"},
          {"srcInfo.0.cdbUInstanceId", "cdb-c1nl9rpv"},
          {"srcInfo.0.dbInfo.0.database", "myDB"},
          {"srcInfo.0.dbInfo.0.table.0", "myTable0"},
          {"srcInfo.0.dbInfo.0.table.1", "myTable1"},
          {"srcInfo.0.isOverrideRoot", "0"},
          {"dstInfo.0.cdbUInstanceId", "cdb-d2sagyed"},
          {"dstInfo.0.regionId", "sh"},
          {"dstInfo.0.zoneId", "200001"}};
}

std::string temp_path(const std::string &suffix) {
  static std::atomic<int> counter{0};
  return "/tmp/cdbemu-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + suffix;
}

namespace {

/// Quiet logs for in-process emulators (the child processes log to their own stderr).
Config quiet(Config config) {
  static const bool once = [] {
    logging::init("off", "text");
    return true;
  }();
  (void)once;
  return config;
}

}  // namespace

LiveEmulator::LiveEmulator(Config config) : emulator_(std::make_unique<Emulator>(quiet(std::move(config)))) {
  thread_ = std::thread([this] { emulator_->run(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // httplib's stop() does nothing before the listen loop runs: wait until it does.
  while (!emulator_->is_running()) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("emulator did not start");
    std::this_thread::yield();
  }
}

LiveEmulator::~LiveEmulator() {
  emulator_->stop();
  thread_.join();
}

Config LiveEmulator::default_config() {
  Config cfg;
  cfg.port = 0;
  cfg.db = ":memory:";
  cfg.threads = 16;
  return cfg;
}

httplib::Client LiveEmulator::client() const {
  httplib::Client cli("127.0.0.1", port());
  cli.set_connection_timeout(5);
  cli.set_read_timeout(10);
  cli.set_url_encode(false);  // the tests encode exactly what they mean to send
  return cli;
}

namespace {

nlohmann::json parse_body(const httplib::Result &res) {
  if (!res) throw std::runtime_error("request failed: " + httplib::to_string(res.error()));
  if (res->status != 200) throw std::runtime_error("HTTP " + std::to_string(res->status) + ": " + res->body);
  return nlohmann::json::parse(res->body);
}

}  // namespace

nlohmann::json LiveEmulator::get(const Params &params) const { return nlohmann::json::parse(get_text(params)); }

std::string LiveEmulator::get_text(const Params &params, bool signed_request) const {
  auto cli = client();
  auto res = cli.Get("/v2/index.php?" + encode_query(signed_request ? sign(params, "GET", host()) : params));
  parse_body(res);
  return res->body;
}

nlohmann::json LiveEmulator::post_form(const Params &params) const {
  auto cli = client();
  return parse_body(cli.Post("/v2/index.php", encode_query(sign(params, "POST", host())),
                             "application/x-www-form-urlencoded"));
}

nlohmann::json LiveEmulator::post_multipart(const Params &params) const {
  auto cli = client();
  httplib::MultipartFormDataItems items;
  for (const auto &[name, value] : sign(params, "POST", host())) items.push_back({name, value, "", ""});
  return parse_body(cli.Post("/v2/index.php", items));
}

namespace {

/// Whether `data` holds a whole HTTP response with a Content-Length body (after any interim
/// 1xx responses, such as the answer to `Expect: 100-continue`).
bool response_complete(const std::string &data) {
  std::size_t start = 0;
  while (data.compare(start, 10, "HTTP/1.1 1") == 0) {
    const std::size_t end = data.find("\r\n\r\n", start);
    if (end == std::string::npos) return false;
    start = end + 4;
  }
  const std::size_t end = data.find("\r\n\r\n", start);
  if (end == std::string::npos) return false;
  const std::size_t at = data.find("Content-Length: ", start);
  if (at == std::string::npos || at > end) return false;
  const std::size_t length = std::stoul(data.substr(at + 16));
  return data.size() >= end + 4 + length;
}

}  // namespace

std::string raw_exchange(int port, const std::string &bytes, std::chrono::milliseconds timeout) {
  RawConnection connection(port);
  connection.send(bytes);
  return connection.read_reply(timeout);
}

RawConnection::RawConnection(int port) : sock_(::socket(AF_INET, SOCK_STREAM, 0)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
    ::close(sock_);
    throw std::runtime_error("connect failed");
  }
  // A server that neither reads nor closes must not block a test for ever.
  timeval limit{10, 0};
  ::setsockopt(sock_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
}

RawConnection::~RawConnection() { ::close(sock_); }

bool RawConnection::send(const std::string &bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(sock_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

void RawConnection::shutdown_write() { ::shutdown(sock_, SHUT_WR); }

std::string RawConnection::read_reply(std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{sock_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&pfd, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) break;
    const ssize_t n = ::recv(sock_, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (response_complete(out)) break;
  }
  return out;
}

bool RawConnection::closed_by_server(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{sock_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&pfd, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) return false;
    const ssize_t n = ::recv(sock_, buf, sizeof(buf), 0);
    if (n <= 0) return true;  // end of stream or reset
  }
  return false;
}

nlohmann::json body_of(const std::string &reply) {
  const std::size_t at = reply.find("\r\n\r\n");
  if (at == std::string::npos) return nullptr;
  return nlohmann::json::parse(reply.substr(at + 4), nullptr, false);
}

ChildEmulator::ChildEmulator(std::vector<std::string> args) {
  stderr_file_ = temp_path(".stderr");
  stdout_file_ = temp_path(".stdout");
  pid_ = ::fork();
  if (pid_ == 0) {
    // Files, not pipes: a pipe closed after the ready line would kill a chatty child with SIGPIPE.
    ::dup2(::open(stdout_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    ::dup2(::open(stderr_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    std::vector<char *> argv;
    std::string binary = CDB_EMU_BINARY;
    argv.push_back(binary.data());
    for (auto &arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    std::_Exit(127);
  }
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(stdout_file_);
    if (std::getline(in, line) && !in.eof()) break;  // a whole first line
    line.clear();
    if (wait_exit(std::chrono::milliseconds(5)) >= 0) break;
  }
  if (!line.empty()) {
    ready_text_ = line;
    ready_line_ = nlohmann::json::parse(ready_text_, nullptr, false);
    if (ready_line_.is_object() && ready_line_.value("event", "") == "ready") port_ = ready_line_.at("port").get<int>();
  }
}

ChildEmulator::~ChildEmulator() {
  if (exit_status_ < 0 && pid_ > 0) stop(SIGKILL);
  std::remove(stderr_file_.c_str());
  std::remove(stdout_file_.c_str());
}

int ChildEmulator::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_status_ >= 0) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {  // looks at least once, so a zero timeout asks whether it has exited
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int ChildEmulator::stop(int signal, std::chrono::milliseconds timeout) {
  if (exit_status_ >= 0) return exit_status_;
  ::kill(pid_, signal);
  const int status = wait_exit(timeout);
  if (status < 0) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::milliseconds(5000));
    return -1;
  }
  return status;
}

std::string ChildEmulator::stderr_text() const {
  std::ifstream in(stderr_file_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cdbemu::test
