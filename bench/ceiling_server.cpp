// The ceiling for scripts/bench: the emulator's HTTP stack (cpp-httplib behind our connection
// loop, the same server settings) answering a fixed success body without decoding, verifying,
// validating or storing anything.

#include <httplib.h>

#include <iostream>
#include <string>

#include "http/connection.hpp"

namespace {

/// httplib's server with its connections served by our loop, as the emulator's is.
class CeilingServer : public httplib::Server {
 public:
  explicit CeilingServer(cdbemu::http::ConnectionLoop &loop) : loop_(loop) {}

 private:
  bool process_and_close_socket(socket_t sock) override {
    loop_.serve(sock, nullptr, [this](httplib::Stream &stream, bool close_connection, bool &connection_closed) {
      return process_request(stream, close_connection, connection_closed, nullptr);
    });
    return true;
  }

  cdbemu::http::ConnectionLoop &loop_;
};

}  // namespace

int main(int argc, char **argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : 128;
  cdbemu::http::ConnectionLoop loop(cdbemu::http::ConnectionLimits{});
  CeilingServer server(loop);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server.set_tcp_nodelay(true);
  const std::string body = R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})";
  server.Post("/v2/index.php", [&](const httplib::Request &, httplib::Response &res) {
    res.set_content(body, "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::cout << R"({"event":"ready","port":)" << port << "}" << std::endl;
  server.listen_after_bind();
}
