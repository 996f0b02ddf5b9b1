// The task lifecycle end to end on a manual clock: verification, syncing, failures, every
// forbidden transition, conflicts, concurrency, and the golden shape of a finished task.

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

Config manual_clock() {
  Config cfg = LiveEmulator::default_config();
  cfg.clock = "manual";
  cfg.clock_start = "2017-02-23 15:04:00";
  return cfg;
}

/// Creates a task from the seed request with `dst` (in ap-shanghai) as destination; returns its id.
std::int64_t create(const LiveEmulator &emu, const std::string &src = "cdb-c1nl9rpv", const std::string &dst = "cdb-d2sagyed",
                    const std::string &region = "gz", const std::string &dst_region = "sh") {
  Params params = common_params("CreateCdbDataSyncTask", region);
  params.push_back({"jobName", "灾备同步"});
  params.push_back({"srcInfo.0.cdbUInstanceId", src});
  params.push_back({"srcInfo.0.isOverrideRoot", "1"});
  params.push_back({"dstInfo.0.cdbUInstanceId", dst});
  params.push_back({"dstInfo.0.regionId", dst_region});
  const auto body = emu.get(params);
  REQUIRE_MESSAGE(body["code"] == 0, body.dump());
  return body["data"]["jobId"].get<std::int64_t>();
}

std::string act(const LiveEmulator &emu, const std::string &action, std::int64_t job_id, const std::string &region = "gz") {
  Params params = common_params(action, region);
  params.push_back({"jobId", std::to_string(job_id)});
  return emu.get_text(params);
}

nlohmann::json item(const LiveEmulator &emu, std::int64_t job_id, const std::string &region = "gz") {
  Params params = common_params("GetCdbDataSyncTaskList", region);
  params.push_back({"jobId", std::to_string(job_id)});
  const auto body = emu.get(params);
  REQUIRE_MESSAGE(body["data"]["totalCount"] == 1, body.dump());
  return body["data"]["jobList"][0];
}

void advance(const LiveEmulator &emu, int seconds) {
  auto cli = emu.client();
  auto res = cli.Post("/_emulator/clock", R"({"advanceSeconds":)" + std::to_string(seconds) + "}", "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
}

const std::string kOk = R"({"code":0,"message":"","codeDesc":"Success","data":[]})";

std::string status_error(std::int64_t job_id, int status, const std::string &name, const std::string &action,
                         const std::string &needs) {
  return R"({"code":30016,"message":"the operation is not allowed in the current sync status: task )" +
         std::to_string(job_id) + " is at status " + std::to_string(status) + " (" + name + "); " + action +
         " needs status " + needs + R"(","codeDesc":"InvalidParameter"})";
}

/// The key order and value types of a JSON document (arrays by their first element).
nlohmann::json shape(const nlohmann::ordered_json &value) {
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::array();
    for (auto it = value.begin(); it != value.end(); ++it) out.push_back({it.key(), shape(it.value())});
    return out;
  }
  if (value.is_array()) return value.empty() ? nlohmann::json::array() : nlohmann::json::array({shape(value[0])});
  return value.type_name();
}

}  // namespace

TEST_CASE("a task goes from created through verification and syncing to done on the manual clock") {
  LiveEmulator emu(manual_clock());
  const auto id = create(emu);
  auto task = item(emu, id);
  CHECK(task["status"] == 1);
  CHECK(task["detail"]["checkInfo"] == nlohmann::json::parse(R"({"checkFlag":0,"checkResult":[]})"));
  CHECK(task["detail"]["jobOutput"] == nlohmann::json::array());
  CHECK(task["detail"]["submitTime"] == "2017-02-23 15:04:00");

  CHECK(act(emu, "CheckCdbDataSyncTask", id) == kOk);
  CHECK(item(emu, id)["status"] == 2);
  advance(emu, 2);
  task = item(emu, id);
  CHECK(task["status"] == 2);
  CHECK(task["detail"]["checkInfo"]["checkResult"]["status"] == "running");
  CHECK(task["detail"]["checkInfo"]["checkResult"]["stepInfo"].size() == 6);  // 2 of 3 seconds: 6 of 9 steps
  advance(emu, 1);
  task = item(emu, id);
  CHECK(task["status"] == 4);
  CHECK(task["detail"]["checkInfo"]["checkFlag"] == 1);
  CHECK(task["detail"]["checkInfo"]["checkResult"]["stepInfo"].size() == 9);
  CHECK(task["detail"]["updateTime"] == "2017-02-23 15:04:03");

  CHECK(act(emu, "StartCdbDataSyncTask", id) == kOk);
  task = item(emu, id);
  CHECK(task["status"] == 5);
  CHECK(task["detail"]["jobOutput"]["status"] == "waiting");
  CHECK(task["detail"]["jobOutput"]["createTime"] == "2017-02-23 15:04:03");
  advance(emu, 2);
  task = item(emu, id);
  CHECK(task["status"] == 6);
  CHECK(task["startTime"] == "2017-02-23 15:04:05");
  CHECK(task["progress"] == 0);
  int last_progress = 0;
  for (int step = 1; step <= 6; ++step) {
    advance(emu, 3);  // 3 of 5 seconds into the step
    task = item(emu, id);
    CAPTURE(step);
    CHECK(task["status"] == 6);
    CHECK(task["detail"]["jobOutput"]["stepNow"] == step);
    CHECK(task["detail"]["jobOutput"]["stepPercent"] == "60.00");
    CHECK(task["progress"].get<int>() > last_progress);
    last_progress = task["progress"].get<int>();
    advance(emu, 2);
  }
  task = item(emu, id);
  CHECK(task["status"] == 9);
  CHECK(task["progress"] == 100);
  CHECK(task["endTime"] == "2017-02-23 15:04:35");
  CHECK(task["detail"]["jobOutput"]["costTime"] == 32);  // endTime - createTime, as in the documented example
  CHECK(task["detail"]["jobOutput"]["status"] == "normal_finish");

  // The golden shape: every key in the documented order, every value of the documented type.
  // A copy of ../shared/spec/examples/GetCdbDataSyncTaskList.response.json, the documented example.
  std::ifstream file(CDB_EMU_SOURCE_DIR "/tests/fixtures/examples/GetCdbDataSyncTaskList.response.json");
  std::stringstream text;
  text << file.rdbuf();
  Params list = common_params("GetCdbDataSyncTaskList");
  list.push_back({"jobId", std::to_string(id)});
  const auto body = nlohmann::ordered_json::parse(emu.get_text(list));
  const auto example = nlohmann::ordered_json::parse(text.str());
  CHECK(shape(body) == shape(example));
  CHECK(body["data"]["jobList"][0]["detail"]["checkInfo"] == example["data"]["jobList"][0]["detail"]["checkInfo"]);
  CHECK(body["data"]["jobList"][0]["detail"]["jobOutput"]["stepInfo"] ==
        example["data"]["jobList"][0]["detail"]["jobOutput"]["stepInfo"]);
  CHECK(body["data"]["jobList"][0]["detail"]["extMsg"] == example["data"]["jobList"][0]["detail"]["extMsg"]);
}

TEST_CASE("verification fails at step 7 for a destination with data and at step 6 for another MySQL version") {
  LiveEmulator emu(manual_clock());
  const auto full = create(emu, "cdb-c1nl9rpv", "cdb-drfull01");
  const auto older = create(emu, "cdb-5u7czxdx", "cdb-drv56001");
  CHECK(act(emu, "CheckCdbDataSyncTask", full) == kOk);
  CHECK(act(emu, "CheckCdbDataSyncTask", older) == kOk);
  advance(emu, 3);
  for (const auto &[id, step, message] : {std::tuple{full, 7, "目标实例不为空"}, std::tuple{older, 6, "源实例与目标实例的版本不一致"}}) {
    CAPTURE(step);
    const auto task = item(emu, id);
    CHECK(task["status"] == 3);
    CHECK(task["code"] == 1);
    CHECK(task["message"] == message);
    const auto &check = task["detail"]["checkInfo"];
    CHECK(check["checkFlag"] == 2);
    CHECK(check["checkResult"]["isSuccess"] == 0);
    CHECK(check["checkResult"]["message"] == "灾备检查失败");
    REQUIRE(check["checkResult"]["stepInfo"].size() == static_cast<std::size_t>(step));
    CHECK(check["checkResult"]["stepInfo"][step - 1]["code"] == 1);
    CHECK(check["checkResult"]["stepInfo"][step - 1]["message"] == message);
    CHECK(check["checkResult"]["stepInfo"][step - 2]["code"] == 0);
    // Status 3 is a dead end: no second Check, no Start; only Delete.
    CHECK(act(emu, "CheckCdbDataSyncTask", id) == status_error(id, 3, "verification failed", "CheckCdbDataSyncTask", "1"));
    CHECK(act(emu, "StartCdbDataSyncTask", id) == status_error(id, 3, "verification failed", "StartCdbDataSyncTask", "4"));
    CHECK(act(emu, "DelCdbDataSyncTask", id) == kOk);
  }
}

TEST_CASE("a destination whose replication breaks fails the run at its step") {
  LiveEmulator emu(manual_clock());
  const auto id = create(emu, "cdb-c1nl9rpv", "cdb-drbrk004");
  CHECK(act(emu, "CheckCdbDataSyncTask", id) == kOk);
  advance(emu, 3);
  CHECK(act(emu, "StartCdbDataSyncTask", id) == kOk);
  advance(emu, 2 + 3 * 5 + 1);
  CHECK(item(emu, id)["status"] == 6);
  advance(emu, 4);  // the end of step 4
  const auto task = item(emu, id);
  CHECK(task["status"] == 8);
  CHECK(task["code"] == 1);
  CHECK(task["message"] == "灾备同步失败");
  CHECK(task["progress"] == 66);
  CHECK(task["endTime"] == "2017-02-23 15:04:25");
  const auto &output = task["detail"]["jobOutput"];
  CHECK(output["code"] == 1);
  CHECK(output["status"] == "abnormal_finish");
  CHECK(output["stepNow"] == 4);
  CHECK(output["message"] == "建立主从失败：主从复制中断");
  CHECK(act(emu, "StartCdbDataSyncTask", id) == status_error(id, 8, "sync failed", "StartCdbDataSyncTask", "4"));
  CHECK(act(emu, "DelCdbDataSyncTask", id) == kOk);
}

TEST_CASE("every forbidden transition of each action is 30016 naming the status") {
  LiveEmulator emu(manual_clock());
  // One task at each reachable status: 1, 2, 4, 5, 6, 9.
  const auto at1 = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed");
  const auto at9 = create(emu, "cdb-5u7czxdx", "cdb-ek0t57qd");
  CHECK(act(emu, "CheckCdbDataSyncTask", at9) == kOk);
  advance(emu, 3);
  CHECK(act(emu, "StartCdbDataSyncTask", at9) == kOk);
  advance(emu, 100);
  const auto at6 = create(emu, "cdb-5u7czxdx", "cdb-ek0t57qd");
  CHECK(act(emu, "CheckCdbDataSyncTask", at6) == kOk);
  advance(emu, 3);
  CHECK(act(emu, "StartCdbDataSyncTask", at6) == kOk);
  advance(emu, 3);
  const auto at4 = create(emu, "cdb-m4st3rsh", "cdb-drhk0001", "sh", "hk");
  const auto at5 = create(emu, "cdb-c1nl9rpv", "cdb-drgz0003", "gz", "gz");
  REQUIRE(act(emu, "CheckCdbDataSyncTask", at4, "sh") == kOk);
  REQUIRE(act(emu, "CheckCdbDataSyncTask", at5) == kOk);
  advance(emu, 3);
  REQUIRE(act(emu, "StartCdbDataSyncTask", at5) == kOk);
  const auto at2 = create(emu, "cdb-m4st3rbj", "cdb-drbj0002", "bj", "bj");
  REQUIRE(act(emu, "CheckCdbDataSyncTask", at2, "bj") == kOk);

  struct Case {
    std::int64_t id;
    int status;
    const char *name;
    std::string region;
  };
  const Case cases[] = {{at1, 1, "configured", "gz"},     {at2, 2, "verifying", "bj"}, {at4, 4, "verification succeeded", "sh"},
                        {at5, 5, "ready to sync", "gz"},  {at6, 6, "syncing", "gz"},   {at9, 9, "sync succeeded", "gz"}};
  for (const auto &c : cases) {
    CAPTURE(c.status);
    REQUIRE(item(emu, c.id, c.region)["status"] == c.status);
    if (c.status != 1) {
      CHECK(act(emu, "CheckCdbDataSyncTask", c.id, c.region) ==
            status_error(c.id, c.status, c.name, "CheckCdbDataSyncTask", "1"));
    }
    if (c.status != 4) {
      CHECK(act(emu, "StartCdbDataSyncTask", c.id, c.region) ==
            status_error(c.id, c.status, c.name, "StartCdbDataSyncTask", "4"));
    }
    if (c.status == 2 || c.status == 5 || c.status == 6) {
      CHECK(act(emu, "DelCdbDataSyncTask", c.id, c.region) ==
            status_error(c.id, c.status, c.name, "DelCdbDataSyncTask", "0, 1, 3, 4, 8 or 9"));
    }
  }
  // Deleting an allowed status still waits for a running task on the same instances (9592).
  CHECK(act(emu, "DelCdbDataSyncTask", at1) ==
        R"({"code":9592,"message":"the source or target instance already has a running task: instance cdb-c1nl9rpv is used by task )" +
            std::to_string(at5) + R"( at status 5","codeDesc":"OperationDenied"})");
  CHECK(nlohmann::json::parse(act(emu, "DelCdbDataSyncTask", at9))["code"] == 9592);  // at6 runs on its instances
  CHECK(act(emu, "DelCdbDataSyncTask", at4, "sh") == kOk);
  advance(emu, 100);  // everything finishes
  CHECK(act(emu, "DelCdbDataSyncTask", at1) == kOk);
  CHECK(act(emu, "DelCdbDataSyncTask", at9) == kOk);
}

TEST_CASE("unknown and other-region tasks are 9591 and a malformed jobId is 9003") {
  LiveEmulator emu(manual_clock());
  const auto id = create(emu);
  for (const std::string action : {"CheckCdbDataSyncTask", "StartCdbDataSyncTask", "DelCdbDataSyncTask"}) {
    CAPTURE(action);
    CHECK(act(emu, action, 999) == R"({"code":9591,"message":"task does not exist: jobId 999","codeDesc":"TaskNotExist"})");
    CHECK(act(emu, action, id, "sh") ==
          R"({"code":9591,"message":"task does not exist: jobId )" + std::to_string(id) + R"(","codeDesc":"TaskNotExist"})");
    for (const std::string bad : {"", "0", "01", "-1", "1.5", "abc", "99999999999999999999"}) {
      Params params = common_params(action);
      params.push_back({"jobId", bad});
      const std::string expected = bad.empty() ? "jobId is required" : "jobId must be a positive integer";
      CHECK(emu.get_text(params) == R"({"code":9003,"message":"parameter error: )" + expected + R"(","codeDesc":"InvalidParameter"})");
    }
    CHECK(emu.get_text(common_params(action)) == R"({"code":9003,"message":"parameter error: jobId is required","codeDesc":"InvalidParameter"})");
  }
}

TEST_CASE("a task using an instance held by a running task gets 9592") {
  LiveEmulator emu(manual_clock());
  const auto first = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed");
  const auto second = create(emu, "cdb-c1nl9rpv", "cdb-ek0t57qd");  // the same source
  CHECK(act(emu, "CheckCdbDataSyncTask", first) == kOk);
  CHECK(act(emu, "CheckCdbDataSyncTask", second) ==
        R"({"code":9592,"message":"the source or target instance already has a running task: instance cdb-c1nl9rpv is used by task )" +
            std::to_string(first) + R"( at status 2","codeDesc":"OperationDenied"})");
  advance(emu, 3);  // first reaches 4, which holds nothing
  CHECK(act(emu, "CheckCdbDataSyncTask", second) == kOk);
  advance(emu, 3);
  CHECK(act(emu, "StartCdbDataSyncTask", first) == kOk);
  CHECK(nlohmann::json::parse(act(emu, "StartCdbDataSyncTask", second))["code"] == 9592);
}

TEST_CASE("concurrent Starts of one task: exactly one succeeds") {
  LiveEmulator emu(manual_clock());
  const auto id = create(emu);
  CHECK(act(emu, "CheckCdbDataSyncTask", id) == kOk);
  advance(emu, 3);
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      const auto body = nlohmann::json::parse(act(emu, "StartCdbDataSyncTask", id));
      (body["code"] == 0 ? ok : refused)++;
    });
  }
  for (auto &t : threads) t.join();
  CHECK(ok == 1);
  CHECK(refused == 7);
}

TEST_CASE("a deleted task leaves the list and its id is never reused") {
  LiveEmulator emu(manual_clock());
  const auto id = create(emu);
  CHECK(act(emu, "DelCdbDataSyncTask", id) == kOk);
  Params params = common_params("GetCdbDataSyncTaskList");
  CHECK(emu.get(params)["data"] == nlohmann::json::parse(R"({"totalCount":0,"jobList":[]})"));
  CHECK(act(emu, "DelCdbDataSyncTask", id) ==
        R"({"code":9591,"message":"task does not exist: jobId )" + std::to_string(id) + R"(","codeDesc":"TaskNotExist"})");
  CHECK(create(emu) == id + 1);
}

TEST_CASE("the clock endpoint shows and moves a manual clock and never goes backwards") {
  LiveEmulator emu(manual_clock());
  auto cli = emu.client();
  auto state = cli.Get("/_emulator/clock");
  REQUIRE(state);
  CHECK(state->body == R"({"mode":"manual","now":"2017-02-23 15:04:00","unix":1487833440})");
  auto set = cli.Post("/_emulator/clock", R"({"set":"2017-02-24 00:00:00"})", "application/json");
  REQUIRE(set);
  CHECK(set->body == R"({"mode":"manual","now":"2017-02-24 00:00:00","unix":1487865600})");
  auto back = cli.Post("/_emulator/clock", R"({"set":"2017-02-23 00:00:00"})", "application/json");
  REQUIRE(back);
  CHECK(back->status == 400);
  CHECK(back->body == R"x({"error":"the clock never goes backwards (it is 2017-02-24 00:00:00)"})x");
  for (const std::string bad : {"{}", R"({"advanceSeconds":-1})", R"({"advanceSeconds":"5"})", R"({"set":"tomorrow"})",
                                R"({"set":"2017-02-24 00:00:00","advanceSeconds":1})", "[1]", "not json"}) {
    CAPTURE(bad);
    auto res = cli.Post("/_emulator/clock", bad, "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(nlohmann::json::parse(res->body).contains("error"));
  }
  auto unknown = cli.Get("/_emulator/nothing");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(unknown->body == R"({"error":"no control endpoint GET /_emulator/nothing"})");

  LiveEmulator real;
  auto real_cli = real.client();
  auto refused = real_cli.Post("/_emulator/clock", R"({"advanceSeconds":1})", "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 400);
  CHECK(refused->body == R"({"error":"the clock is real; start the emulator with --clock manual"})");
}

TEST_CASE("times are shown in the configured zone") {
  Config cfg = manual_clock();
  cfg.timezone = "UTC";
  cfg.clock_start = "2017-02-23 07:04:00";
  LiveEmulator emu(cfg);
  const auto id = create(emu);
  CHECK(item(emu, id)["detail"]["submitTime"] == "2017-02-23 07:04:00");
}
