// Crash safety: clients create tasks at full speed while the emulator is killed with SIGKILL, 20
// times in a row, restarting on the same database. Every acknowledged task must be there with its
// exact data, ids must only grow, and SQLite's integrity check must pass.

#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "../e2e/support.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

TEST_CASE("20 SIGKILLs under load lose no acknowledged task") {
  const std::string db = temp_path(".db");
  std::map<std::int64_t, std::string> acked;  // jobId -> jobName
  std::mutex acked_mutex;
  std::int64_t previous_max = 0;
  std::atomic<std::uint64_t> name_seq{0};
  for (int cycle = 0; cycle < 20; ++cycle) {
    CAPTURE(cycle);
    ChildEmulator child({"--port", "0", "--db", db, "--log-level", "off"});
    REQUIRE_MESSAGE(child.ready(), child.stderr_text());
    const std::string host = "127.0.0.1:" + std::to_string(child.port());
    std::atomic<int> cycle_acks{0};
    std::atomic<bool> stop{false};
    std::vector<std::int64_t> cycle_ids;
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&] {
        httplib::Client cli("127.0.0.1", child.port());
        cli.set_keep_alive(true);
        cli.set_read_timeout(5);
        while (!stop) {
          Params params = common_params("CreateCdbDataSyncTask");
          for (auto &p : seed_create_params()) params.push_back(p);
          const std::string name = "crash-" + std::to_string(++name_seq);
          for (auto &[n, v] : params) {
            if (n == "jobName") v = name;
          }
          auto res = cli.Post("/v2/index.php", encode_query(sign(params, "POST", host)), "application/x-www-form-urlencoded");
          if (!res) break;  // killed
          const auto body = nlohmann::json::parse(res->body, nullptr, false);
          if (!body.is_object() || body["code"] != 0) continue;
          const auto id = body["data"]["jobId"].get<std::int64_t>();
          std::lock_guard lock(acked_mutex);
          acked[id] = name;
          cycle_ids.push_back(id);
          ++cycle_acks;
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // Kill at a different depth each cycle, always mid-stream.
    while (cycle_acks < 50 + cycle * 10 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    child.stop(SIGKILL);
    stop = true;
    for (auto &t : clients) t.join();
    REQUIRE(cycle_acks > 0);
    // Ids strictly increase across restarts: this cycle's ids are all above the last cycle's.
    const auto [min_it, max_it] = std::minmax_element(cycle_ids.begin(), cycle_ids.end());
    CHECK(*min_it > previous_max);
    previous_max = *max_it;
  }
  store::Store store(db);
  std::size_t missing = 0;
  std::size_t wrong = 0;
  for (const auto &[id, name] : acked) {
    const auto task = store.find_task(id);
    if (!task) {
      ++missing;
    } else if (task->job_name != name || task->src_instance_id != "cdb-c1nl9rpv" ||
               task->src_db_info.at(0).tables != std::vector<std::string>{"myTable0", "myTable1"}) {
      ++wrong;
    }
  }
  MESSAGE("acknowledged tasks over 20 SIGKILL cycles: " << acked.size());
  CHECK(missing == 0);
  CHECK(wrong == 0);
  {
    store::Database raw(db);
    store::Statement check(raw.handle(), "PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.column_text(0) == "ok");
  }
  for (const char *suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}
