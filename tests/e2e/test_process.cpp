// The binary as a user runs it: ready line, ready file, flags and variables, busy port, signals.

#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>

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

std::string host_of(const ChildEmulator &child) { return "127.0.0.1:" + std::to_string(child.port()); }

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("the ready line and the ready file carry the bound port") {
  const std::string ready_file = temp_path(".ready");
  ChildEmulator child({"--port", "0", "--db", ":memory:", "--ready-file", ready_file});
  REQUIRE_MESSAGE(child.ready(), child.stderr_text());
  const auto &line = child.ready_line();
  CHECK(line["event"] == "ready");
  CHECK(line["host"] == "127.0.0.1");
  CHECK(line["pid"] == child.pid());
  CHECK(line["db"] == ":memory:");
  CHECK(child.ready_text() == R"({"event":"ready","host":"127.0.0.1","port":)" + std::to_string(child.port()) +
                                  R"(,"pid":)" + std::to_string(child.pid()) + R"(,"db":":memory:"})");
  CHECK(read_file(ready_file) == child.ready_text() + "\n");
  httplib::Client cli("127.0.0.1", child.port());
  auto res = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", host_of(child))));
  REQUIRE(res);
  CHECK(res->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  CHECK(child.stop(SIGINT) == 0);
  std::remove(ready_file.c_str());
}

TEST_CASE("a busy port is a clear error and a non-zero exit") {
  LiveEmulator first;
  ChildEmulator second({"--port", std::to_string(first.port()), "--db", ":memory:"});
  CHECK_FALSE(second.ready());
  CHECK(second.wait_exit(std::chrono::seconds(10)) == 2);
  CHECK(second.stderr_text().find("cannot listen on 127.0.0.1:" + std::to_string(first.port()) +
                                  ": Address already in use") != std::string::npos);
  // The first emulator kept its port and still answers.
  CHECK(first.get(create_request())["code"] == 0);
}

TEST_CASE("a flag beats its environment variable which beats the default") {
  ::setenv("CDB_EMU_FIRST_JOB_ID", "500", 1);
  ::setenv("CDB_EMU_STRING_CODE", "true", 1);
  {
    ChildEmulator from_env({"--port", "0", "--db", ":memory:"});
    REQUIRE_MESSAGE(from_env.ready(), from_env.stderr_text());
    httplib::Client cli("127.0.0.1", from_env.port());
    auto res = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", host_of(from_env))));
    REQUIRE(res);
    CHECK(res->body == R"({"code":"0","message":"","codeDesc":"Success","data":{"jobId":500}})");
  }
  {
    ChildEmulator from_flag({"--port", "0", "--db", ":memory:", "--first-job-id", "700"});
    REQUIRE(from_flag.ready());
    httplib::Client cli("127.0.0.1", from_flag.port());
    auto res = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", host_of(from_flag))));
    REQUIRE(res);
    CHECK(nlohmann::json::parse(res->body)["data"]["jobId"] == 700);
  }
  ::unsetenv("CDB_EMU_FIRST_JOB_ID");
  ::unsetenv("CDB_EMU_STRING_CODE");
}

TEST_CASE("help lists every flag with its variable and a bad flag exits non-zero") {
  ChildEmulator help({"--help"});
  CHECK(help.wait_exit(std::chrono::seconds(10)) == 0);
  ChildEmulator bad({"--port", "70000"});
  CHECK(bad.wait_exit(std::chrono::seconds(10)) != 0);
  CHECK(bad.stderr_text().find("--port") != std::string::npos);
  ChildEmulator fixtures({"--port", "0", "--db", ":memory:", "--fixtures", CDB_EMU_SOURCE_DIR "/tests"});
  CHECK(fixtures.wait_exit(std::chrono::seconds(10)) == 2);
  CHECK(fixtures.stderr_text().find("/tests/instances.json: does not exist") != std::string::npos);
}

TEST_CASE("SIGTERM during load finishes in-flight requests and exits 0 with every answered task stored") {
  const std::string db = temp_path(".db");
  ChildEmulator child({"--port", "0", "--db", db, "--log-level", "warn"});
  REQUIRE_MESSAGE(child.ready(), child.stderr_text());
  std::atomic<int> answered{0};
  std::mutex ids_mutex;
  std::set<long> ids;
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      httplib::Client cli("127.0.0.1", child.port());
      cli.set_keep_alive(true);
      for (int i = 0; i < 2000; ++i) {
        auto res = cli.Post("/v2/index.php", encode_query(sign(create_request(), "POST", host_of(child))),
                            "application/x-www-form-urlencoded");
        if (!res) break;
        const auto body = nlohmann::json::parse(res->body);
        if (body["code"] != 0) break;
        std::lock_guard lock(ids_mutex);
        ids.insert(body["data"]["jobId"].get<long>());
        ++answered;
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (answered < 200 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  REQUIRE(answered >= 200);
  CHECK(child.stop(SIGTERM) == 0);
  for (auto &t : clients) t.join();
  CHECK(child.stderr_text().find("received SIGTERM") == std::string::npos);  // warn level: info lines are off
  store::Store store(db);
  CHECK(store.count_tasks() >= static_cast<std::int64_t>(ids.size()));
  for (const long id : ids) {
    if (!store.find_task(id)) FAIL("acknowledged task " << id << " is missing");
  }
  for (const char *suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}
