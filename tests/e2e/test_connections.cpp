// What happens to connections: bodies that cannot be read never turn into requests, idle
// connections do not hold up a shutdown, odd framing is read correctly.

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/store.hpp"
#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

Params create_request() {
  Params params = common_params("CreateCdbDataSyncTask");
  for (auto &p : seed_create_params()) params.push_back(p);
  return params;
}

std::size_t count_of(const std::string &text, const std::string &needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("bytes left from a body that could not be read never run as a request") {
  LiveEmulator emu;
  const std::string smuggled = "GET /v2/index.php?" + encode_query(sign(create_request(), "GET", "x")) +
                               " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  for (const std::string &headers : {std::string("Content-Encoding: gzip\r\n"), std::string("")}) {
    // Not gzip data, or a Content-Length that is not a number.
    const std::string body = std::string(4010, 'z') + smuggled;
    const std::string length = headers.empty() ? "abc" : std::to_string(body.size());
    const std::string reply = raw_exchange(emu.port(), "POST /v2/index.php HTTP/1.1\r\nHost: x\r\n" + headers +
                                                           "Content-Length: " + length + "\r\n\r\n" + body);
    CAPTURE(reply);
    CHECK(count_of(reply, "HTTP/1.1 ") == 1);
    CHECK(reply.find(R"("code":4000)") != std::string::npos);
    CHECK(reply.find(R"("code":0)") == std::string::npos);
  }
  // A GET's body is not read by httplib either.
  const std::string get = "GET /v2/index.php?Action=X HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled;
  const std::string reply = raw_exchange(emu.port(), get);
  CHECK(count_of(reply, "HTTP/1.1 ") == 1);
  CHECK(reply.find(R"("code":0)") == std::string::npos);
  CHECK(emu.get(create_request())["data"]["jobId"] == 1);  // nothing was created before
}

TEST_CASE("chunked framing is recognised whatever its case and a bad Content-Length is refused") {
  LiveEmulator emu;
  const std::string body = encode_query(sign(create_request(), "POST", "x"));
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", body.size());
  const std::string reply = raw_exchange(emu.port(), "POST /v2/index.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                                     "Transfer-Encoding: Chunked\r\n\r\n" +
                                                         std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n");
  CHECK(reply.find(R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})") != std::string::npos);
  const std::string negative = raw_exchange(emu.port(), "POST /v2/index.php HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n");
  CHECK(negative.find(R"({"code":4000,"message":"invalid parameter: malformed Content-Length header","codeDesc":"InvalidParameter"})") !=
        std::string::npos);
}

TEST_CASE("other methods and paths answer at once and drain their bodies") {
  LiveEmulator emu;
  auto cli = emu.client();
  cli.set_keep_alive(true);
  auto put = cli.Put("/v2/index.php");  // no body, no Content-Length
  REQUIRE(put);
  CHECK(put->body == R"({"code":4000,"message":"invalid parameter: method PUT is not supported; use GET or POST","codeDesc":"InvalidParameter"})");
  auto big = cli.Post("/nope", std::string(9000, 'a'), "application/x-www-form-urlencoded");
  REQUIRE(big);
  CHECK(big->status == 404);
  CHECK(big->body == R"({"code":4000,"message":"invalid parameter: no endpoint at this path; the API is served at /v2/index.php","codeDesc":"InvalidParameter"})");
  auto del = cli.Delete("/v2/index.php", std::string(9000, 'a'), "multipart/form-data; boundary=x");
  REQUIRE(del);
  CHECK(del->body == R"({"code":4000,"message":"invalid parameter: method DELETE is not supported; use GET or POST","codeDesc":"InvalidParameter"})");
  auto head = cli.Head("/nope");
  REQUIRE(head);
  CHECK(head->status == 404);
  // The same keep-alive connection still carries a real request.
  CHECK(emu.get(create_request())["code"] == 0);
  auto after = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", emu.host())));
  REQUIRE(after);
  CHECK(after->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":2}})");
}

TEST_CASE("names with a stray underscore are tolerated extras") {
  LiveEmulator emu;
  Params params = create_request();
  params.push_back({"_", "1700000000"});  // jQuery's cache-buster
  params.push_back({"__utm", "x"});
  CHECK(emu.get(params)["code"] == 0);
}

TEST_CASE("idle keep-alive connections do not hold up a shutdown") {
  ChildEmulator child({"--port", "0", "--db", ":memory:", "--keep-alive-timeout", "60", "--shutdown-timeout", "30"});
  REQUIRE_MESSAGE(child.ready(), child.stderr_text());
  httplib::Client cli("127.0.0.1", child.port());
  cli.set_keep_alive(true);
  auto res = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", "127.0.0.1:" + std::to_string(child.port()))));
  REQUIRE(res);
  CHECK(nlohmann::json::parse(res->body)["code"] == 0);
  // Waiting out the idle connection would take 60 s and hit the 30 s shutdown timeout (exit 1).
  CHECK(child.stop(SIGTERM, std::chrono::seconds(40)) == 0);
}

TEST_CASE("a start that fails on a busy port leaves the running emulator's database alone") {
  const std::string db = temp_path(".db");
  Config cfg = LiveEmulator::default_config();
  cfg.db = db;
  LiveEmulator first(cfg);
  const std::string dir = temp_path("-fixtures");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/instances.json")
      << R"({"instances": [{"id": "cdb-lonely01", "region": "gz", "zoneId": 100001, "role": "master"}]})";
  ChildEmulator second({"--port", std::to_string(first.port()), "--db", db, "--fixtures", dir, "--first-job-id", "900"});
  CHECK(second.wait_exit(std::chrono::seconds(10)) == 2);
  CHECK(first.get(create_request())["data"]["jobId"] == 1);
  std::filesystem::remove_all(dir);
  for (const char *suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}

TEST_CASE("json logs are one JSON object per line with a string level") {
  ChildEmulator child({"--port", "0", "--db", ":memory:", "--log-format", "json"});
  REQUIRE_MESSAGE(child.ready(), child.stderr_text());
  httplib::Client cli("127.0.0.1", child.port());
  auto res = cli.Get("/v2/index.php?Action=Nope");
  REQUIRE(res);
  CHECK(child.stop(SIGTERM) == 0);
  std::istringstream lines(child.stderr_text());
  std::string line;
  int requests = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("--", 0) == 0 || line.empty()) continue;
    CAPTURE(line);
    const auto json = nlohmann::json::parse(line);
    CHECK(json["level"].is_string());
    if (json.value("event", "") == "request") {
      ++requests;
      CHECK(json["level"] == "info");
      CHECK(json["action"] == "Nope");
      CHECK(json["code"] == 6100);
      CHECK(json["requestId"] == res->get_header_value("X-Emulator-Request-Id"));
    }
  }
  CHECK(requests == 1);
}

namespace {

/// An emulator whose requests must arrive within 0.3 s of their first byte.
Config impatient_config() {
  Config cfg = LiveEmulator::default_config();
  cfg.read_timeout = 0.3;
  return cfg;
}

constexpr const char *kReadTimeoutMessage =
    "invalid parameter: the request did not arrive within 0.3 seconds of its first byte (--read-timeout)";

/// Sends `request` in pieces of `piece` bytes, 50 ms apart, until it is all sent or the server
/// answers or closes; returns the answer and how many bytes went out.
std::pair<std::string, std::size_t> trickle(int port, const std::string &request, std::size_t piece) {
  RawConnection connection(port);
  std::size_t sent = 0;
  while (sent < request.size()) {
    if (!connection.send(request.substr(sent, piece))) break;
    sent += std::min(piece, request.size() - sent);
    const std::string reply = connection.read_reply(std::chrono::milliseconds(50));
    if (!reply.empty()) return {reply, sent};
  }
  return {connection.read_reply(), sent};
}

}  // namespace

TEST_CASE("a client trickling its request line and headers is cut off at --read-timeout") {
  LiveEmulator emu(impatient_config());
  // 2 bytes every 50 ms: the whole request would take seconds; each read waits far less than 0.3 s.
  const std::string request =
      "GET /v2/index.php?" + encode_query(sign(create_request(), "GET", "x")) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  std::thread other([&] {
    // Other clients are served meanwhile.
    for (int i = 0; i < 5; ++i) CHECK(emu.get(create_request())["code"] == 0);
  });
  const auto [reply, sent] = trickle(emu.port(), request, 2);
  other.join();
  CAPTURE(reply);
  CHECK(sent < request.size());
  const nlohmann::json body = body_of(reply);
  CHECK(body["code"] == 4000);
  CHECK(body["codeDesc"] == "InvalidParameter");
  CHECK(body["message"] == kReadTimeoutMessage);
  CHECK(reply.find("Connection: close") != std::string::npos);
  // Nothing the trickler sent ran: only the other client's five tasks exist.
  CHECK(emu.get(create_request())["data"]["jobId"] == 6);
}

TEST_CASE("a client trickling its body is cut off at --read-timeout") {
  LiveEmulator emu(impatient_config());
  const std::string body = encode_query(sign(create_request(), "POST", "x"));
  const std::string request = "POST /v2/index.php HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              "application/x-www-form-urlencoded\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  const auto [reply, sent] = trickle(emu.port(), request, 8);
  CAPTURE(reply);
  CHECK(sent < request.size());
  const nlohmann::json answer = body_of(reply);
  CHECK(answer["code"] == 4000);
  CHECK(answer["codeDesc"] == "InvalidParameter");
  CHECK(answer["message"] == kReadTimeoutMessage);
  CHECK(emu.get(create_request())["data"]["jobId"] == 1);
}

TEST_CASE("the read timeout starts at a request's first byte, not when the connection went idle") {
  LiveEmulator emu(impatient_config());
  httplib::Client cli = emu.client();
  cli.set_keep_alive(true);
  const auto send = [&] {
    auto res = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", emu.host())));
    REQUIRE(res);
    return nlohmann::json::parse(res->body)["code"];
  };
  CHECK(send() == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // idle, within --keep-alive-timeout
  CHECK(send() == 0);
}

TEST_CASE("a TLS client that stalls its handshake is cut off at --read-timeout") {
  Config cfg = impatient_config();
  cfg.tls_cert = CDB_EMU_SOURCE_DIR "/tests/fixtures/tls/cert.pem";
  cfg.tls_key = CDB_EMU_SOURCE_DIR "/tests/fixtures/tls/key.pem";
  LiveEmulator emu(cfg);
  RawConnection connection(emu.port());
  REQUIRE(connection.send(std::string("\x16\x03\x01", 3)));  // the start of a ClientHello, then nothing
  // httplib's loop waited 5 s per read here; ours ends the connection at 0.3 s.
  CHECK(connection.closed_by_server(std::chrono::milliseconds(2500)));
  httplib::SSLClient cli("127.0.0.1", emu.port());
  cli.set_ca_cert_path(cfg.tls_cert.c_str());
  cli.enable_server_certificate_verification(false);
  auto res = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", emu.host())));
  REQUIRE(res);
  CHECK(nlohmann::json::parse(res->body)["code"] == 0);
}

TEST_CASE("the Keep-Alive header tells the keep-alive timeout and request count the loop enforces") {
  Config cfg = LiveEmulator::default_config();
  cfg.keep_alive_timeout = 30;
  LiveEmulator emu(cfg);
  httplib::Client cli = emu.client();
  cli.set_keep_alive(true);
  auto res = cli.Get("/v2/index.php?" + encode_query(sign(common_params("GetCdbDataSyncTaskList"), "GET", emu.host())));
  REQUIRE(res);
  CHECK(res->get_header_value("Keep-Alive") == "timeout=30, max=10000");
}

TEST_CASE("a connection ends after its 10,000th answer, which says Connection: close") {
  LiveEmulator emu;
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(emu.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(sock, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0);
  // 10,005 pipelined requests, sent while the answers are read.
  std::string requests;
  for (int i = 0; i < 10005; ++i) requests += "GET /v2/index.php?Action=X HTTP/1.1\r\nHost: x\r\n\r\n";
  std::thread sender([&] {
    for (std::size_t sent = 0; sent < requests.size();) {
      const ssize_t n = ::send(sock, requests.data() + sent, requests.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server closed
      sent += static_cast<std::size_t>(n);
    }
  });
  std::string answers;
  char buffer[65536];
  bool closed = false;
  for (;;) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    const ssize_t n = ::recv(sock, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    answers.append(buffer, static_cast<std::size_t>(n));
  }
  ::shutdown(sock, SHUT_RDWR);
  sender.join();
  ::close(sock);
  CHECK(closed);
  CHECK(count_of(answers, "HTTP/1.1 200 OK\r\n") == 10000);
  CHECK(count_of(answers, "Connection: close\r\n") == 1);
  const std::size_t last = answers.rfind("HTTP/1.1 200 OK\r\n");
  CHECK(answers.find("Connection: close\r\n", last) != std::string::npos);
}
