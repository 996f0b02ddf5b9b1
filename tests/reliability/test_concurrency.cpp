// Concurrency: many clients at once never lose, duplicate or double-apply anything.

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "../e2e/support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

TEST_CASE("32 clients x 500 creates give 16000 distinct ids and rows") {
  Config cfg = LiveEmulator::default_config();
  cfg.threads = 64;
  LiveEmulator emu(cfg);
  std::mutex mutex;
  std::set<std::int64_t> ids;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 32; ++c) {
    clients.emplace_back([&] {
      auto cli = emu.client();
      cli.set_keep_alive(true);
      for (int i = 0; i < 500; ++i) {
        Params params = common_params("CreateCdbDataSyncTask");
        for (auto &p : seed_create_params()) params.push_back(p);
        auto res = cli.Post("/v2/index.php", encode_query(sign(params, "POST", emu.host())),
                            "application/x-www-form-urlencoded");
        const auto body = res ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
        if (!body.is_object() || body["code"] != 0) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mutex);
        ids.insert(body["data"]["jobId"].get<std::int64_t>());
      }
    });
  }
  for (auto &t : clients) t.join();
  CHECK(failures == 0);
  CHECK(ids.size() == 16000);
  Params list = common_params("GetCdbDataSyncTaskList");
  list.push_back({"limit", "1"});
  CHECK(emu.get(list)["data"]["totalCount"] == 16000);
}

TEST_CASE("parallel Check Start and Delete on one task never apply a transition twice") {
  Config cfg = LiveEmulator::default_config();
  cfg.clock = "manual";
  cfg.threads = 64;
  LiveEmulator emu(cfg);
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    Params create = common_params("CreateCdbDataSyncTask");
    for (auto &p : seed_create_params()) create.push_back(p);
    const auto id = emu.get(create)["data"]["jobId"].get<std::int64_t>();
    std::atomic<int> checks{0};
    std::atomic<int> deletes{0};
    std::atomic<int> starts{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 24; ++t) {
      threads.emplace_back([&, t] {
        const char *action = t % 3 == 0 ? "CheckCdbDataSyncTask" : t % 3 == 1 ? "DelCdbDataSyncTask" : "StartCdbDataSyncTask";
        Params params = common_params(action);
        params.push_back({"jobId", std::to_string(id)});
        const auto body = emu.get(params);
        if (body["code"] != 0) return;
        (t % 3 == 0 ? checks : t % 3 == 1 ? deletes : starts)++;
      });
    }
    for (auto &t : threads) t.join();
    // From status 1: one Check or one Delete wins (never both: after a Check, Delete waits for 4);
    // Start is never allowed at 1 or 2.
    CHECK(starts == 0);
    CHECK(checks + deletes == 1);
    CHECK(checks <= 1);
    CHECK(deletes <= 1);
    // Finish the round so its instances are free again.
    auto cli = emu.client();
    cli.Post("/_emulator/clock", R"({"advanceSeconds":10})", "application/json");
    if (checks == 1) {
      Params del = common_params("DelCdbDataSyncTask");
      del.push_back({"jobId", std::to_string(id)});
      CHECK(emu.get(del)["code"] == 0);
    }
  }
}

TEST_CASE("control-plane calls racing API calls never corrupt state") {
  Config cfg = LiveEmulator::default_config();
  cfg.threads = 64;
  LiveEmulator emu(cfg);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      auto cli = emu.client();
      while (!stop) {
        Params params = common_params("CreateCdbDataSyncTask");
        for (auto &p : seed_create_params()) params.push_back(p);
        auto res = cli.Post("/v2/index.php", encode_query(sign(params, "POST", emu.host())),
                            "application/x-www-form-urlencoded");
        const auto body = res ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
        if (!body.is_object() || !body.contains("code")) ++bad;
      }
    });
  }
  auto cli = emu.client();
  for (int i = 0; i < 60; ++i) {
    const std::string name = "race" + std::to_string(i % 3);
    CHECK(cli.Post("/_emulator/snapshots/" + name, "", "application/json")->status == 201);
    CHECK(cli.Post("/_emulator/faults", R"({"action":"GetCdbDataSyncTaskList","code":9006,"times":1})", "application/json")->status == 201);
    CHECK(cli.Post("/_emulator/snapshots/" + name + "/restore", "", "application/json")->status == 200);
    if (i % 10 == 9) CHECK(cli.Post("/_emulator/reset", "", "application/json")->status == 200);
    CHECK(cli.Delete("/_emulator/faults")->status == 200);
  }
  stop = true;
  for (auto &t : threads) t.join();
  CHECK(bad == 0);
  // The state is consistent: the list's total equals the stored rows, and a new id is new.
  Params list = common_params("GetCdbDataSyncTaskList");
  list.push_back({"limit", "100"});
  const auto all = emu.get(list);
  auto state = cli.Get("/_emulator/state");
  REQUIRE(state);
  CHECK(all["data"]["totalCount"] == nlohmann::json::parse(state->body)["tasks"].size());
}
