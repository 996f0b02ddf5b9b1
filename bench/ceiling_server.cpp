// The ceiling for scripts/bench: cpp-httplib with the emulator's server settings, answering a
// fixed success body without decoding, verifying, validating or storing anything.

#include <httplib.h>

#include <iostream>
#include <string>

int main(int argc, char **argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : 128;
  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1000000);
  const std::string body = R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})";
  server.Post("/v2/index.php", [&](const httplib::Request &, httplib::Response &res) {
    res.set_content(body, "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::cout << R"({"event":"ready","port":)" << port << "}" << std::endl;
  server.listen_after_bind();
}
