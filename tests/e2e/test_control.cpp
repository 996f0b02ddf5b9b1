// The control plane end to end on port 0 (issue 6): health, reset, the error catalogue, fault
// rules and headers, the request journal and its wait, the journal caps, the control token,
// --no-control, and the refused --clock manual --no-control start.

#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "domain/errors.hpp"
#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kOk = R"({"code":0,"message":"","codeDesc":"Success","data":[]})";
const std::string kAuthFailure =
    R"({"code":4100,"message":"身份认证失败，用户身份验证失败","codeDesc":"AuthFailure"})";
const std::string kNoEndpoint =
    R"({"code":4000,"message":"invalid parameter: no endpoint at this path; the API is served at /v2/index.php","codeDesc":"InvalidParameter"})";
const std::string kTokenRequired =
    R"~({"error":"this emulator requires \"Authorization: Bearer <token>\" (--control-token)"})~";
const std::string kHeaderTokenRequired =
    R"~({"error":"X-Emulator-* headers require \"Authorization: Bearer <token>\" (--control-token)"})~";

Config manual_clock() {
  Config cfg = LiveEmulator::default_config();
  cfg.clock = "manual";
  cfg.clock_start = "2017-02-23 15:04:00";
  return cfg;
}

httplib::Headers bearer(const std::string &token) {
  if (token.empty()) return {};
  return {{"Authorization", "Bearer " + token}};
}

/// One control-plane call (`token`: sent as "Authorization: Bearer <token>" when not empty).
httplib::Result control(const LiveEmulator &emu, const std::string &method, const std::string &path,
                        const std::string &body = "", const std::string &token = "") {
  auto cli = emu.client();
  cli.set_read_timeout(30);
  const auto headers = bearer(token);
  if (method == "GET") return cli.Get(path, headers);
  if (method == "POST") return cli.Post(path, headers, body, "application/json");
  if (method == "PUT") return cli.Put(path, headers, body, "application/json");
  if (method == "DELETE") return cli.Delete(path, headers);
  throw std::runtime_error("no method " + method);
}

/// A control-plane call that must answer `status`; returns the parsed body.
Json control_json(const LiveEmulator &emu, const std::string &method, const std::string &path,
                  const std::string &body = "", int status = 200, const std::string &token = "") {
  auto res = control(emu, method, path, body, token);
  REQUIRE_MESSAGE(res, method << " " << path << ": " << httplib::to_string(res.error()));
  REQUIRE_MESSAGE(res->status == status, method << " " << path << " " << res->status << ": " << res->body);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  return Json::parse(res->body);
}

/// Adds a fault rule; returns its id.
std::string add_fault(const LiveEmulator &emu, const std::string &rule, const std::string &token = "") {
  return control_json(emu, "POST", "/_emulator/faults", rule, 201, token)["id"].get<std::string>();
}

/// The answer of POST /_emulator/faults with `rule` as "STATUS BODY".
std::string refused_fault(const LiveEmulator &emu, const std::string &rule) {
  auto res = control(emu, "POST", "/_emulator/faults", rule);
  REQUIRE(res);
  return std::to_string(res->status) + " " + res->body;
}

Json faults(const LiveEmulator &emu) {
  return control_json(emu, "GET", "/_emulator/faults")["faults"];
}

Json journal(const LiveEmulator &emu, const std::string &query = "") {
  return control_json(emu, "GET", "/_emulator/requests" + (query.empty() ? "" : "?" + query));
}

Json health(const LiveEmulator &emu) {
  return control_json(emu, "GET", "/_emulator/health");
}

/// The seqs of a journal answer's entries.
std::vector<std::uint64_t> seqs(const Json &answer) {
  std::vector<std::uint64_t> out;
  for (const auto &entry : answer["entries"]) out.push_back(entry["seq"].get<std::uint64_t>());
  return out;
}

Params create_params(const std::string &name = "job", const std::string &src = "cdb-c1nl9rpv",
                     const std::string &dst = "cdb-d2sagyed") {
  Params params = common_params("CreateCdbDataSyncTask");
  params.push_back({"jobName", name});
  params.push_back({"srcInfo.0.cdbUInstanceId", src});
  params.push_back({"srcInfo.0.isOverrideRoot", "1"});
  params.push_back({"dstInfo.0.cdbUInstanceId", dst});
  params.push_back({"dstInfo.0.regionId", "sh"});
  return params;
}

std::int64_t create(const LiveEmulator &emu, const std::string &name = "job",
                    const std::string &src = "cdb-c1nl9rpv", const std::string &dst = "cdb-d2sagyed") {
  const auto body = emu.get(create_params(name, src, dst));
  REQUIRE_MESSAGE(body["code"] == 0, body.dump());
  return body["data"]["jobId"].get<std::int64_t>();
}

Params job_params(const std::string &action, std::int64_t job_id) {
  Params params = common_params(action);
  params.push_back({"jobId", std::to_string(job_id)});
  return params;
}

std::string act(const LiveEmulator &emu, const std::string &action, std::int64_t job_id) {
  return emu.get_text(job_params(action, job_id));
}

std::string list(const LiveEmulator &emu) {
  return emu.get_text(common_params("GetCdbDataSyncTaskList"));
}

int status_of(const LiveEmulator &emu, std::int64_t job_id) {
  const auto body = emu.get(job_params("GetCdbDataSyncTaskList", job_id));
  REQUIRE_MESSAGE(body["data"]["totalCount"] == 1, body.dump());
  return body["data"]["jobList"][0]["status"].get<int>();
}

void advance(const LiveEmulator &emu, int seconds) {
  control_json(emu, "POST", "/_emulator/clock", R"({"advanceSeconds":)" + std::to_string(seconds) + "}");
}

/// GET /v2/index.php with `params` signed, and `headers`.
httplib::Result api_get(const LiveEmulator &emu, const Params &params, const httplib::Headers &headers = {}) {
  auto cli = emu.client();
  return cli.Get("/v2/index.php?" + encode_query(sign(params, "GET", emu.host())), headers);
}

/// The answer of a signed GET with `headers` as "STATUS BODY".
std::string api_answer(const LiveEmulator &emu, const Params &params, const httplib::Headers &headers = {}) {
  auto res = api_get(emu, params, headers);
  REQUIRE(res);
  return std::to_string(res->status) + " " + res->body;
}

std::string envelope(int code, const std::string &message, const std::string &code_desc) {
  nlohmann::ordered_json body;
  body["code"] = code;
  body["message"] = message;
  body["codeDesc"] = code_desc;
  return body.dump();
}

/// The catalogue row of `code`.
const domain::ErrorInfo &row_of(int code) {
  for (const auto &row : domain::error_catalogue()) {
    if (row.code == code) return row;
  }
  throw std::runtime_error("no catalogue row " + std::to_string(code));
}

std::string catalogue_envelope(int code) {
  const auto &row = row_of(code);
  return envelope(code, std::string(row.message), std::string(row.code_desc));
}

std::int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

/// A background GET of a journal wait; `done` turns true when it returned. A 429 (the sleep slots
/// were busy for a moment, e.g. with another test request's wait) is retried.
struct Waiter {
  Waiter(const LiveEmulator &emu, std::string path) {
    // The port is read here: the test may destroy the emulator while this thread still runs.
    thread = std::thread([this, port = emu.port(), path = std::move(path)] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_connection_timeout(5);
      cli.set_url_encode(false);
      cli.set_read_timeout(60);
      const auto deadline = Clock::now() + std::chrono::seconds(10);
      auto res = cli.Get(path);
      while (res && res->status == 429 && Clock::now() < deadline) {
        std::this_thread::yield();
        res = cli.Get(path);
      }
      if (res) {
        status = res->status;
        body = res->body;
      }
      done = true;
    });
  }
  ~Waiter() {
    if (thread.joinable()) thread.join();
  }
  void join() { thread.join(); }

  std::thread thread;
  std::atomic<bool> done{false};
  int status = 0;
  std::string body;
};

/// Polls a wait with timeoutMs=0 until the emulator answers 429 (every sleep slot is taken).
bool until_slots_full(const LiveEmulator &emu) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    auto res = control(emu, "GET", "/_emulator/requests/wait?action=Nothing&count=1&timeoutMs=0");
    if (res && res->status == 429) {
      CHECK(res->body == R"({"error":"too many requests are waiting already; try again"})");
      return true;
    }
    std::this_thread::yield();
  }
  return false;
}

}  // namespace

// --- health ----------------------------------------------------------------------------------

TEST_CASE("control health reports ready with version uptime tasks clock faults and journal size") {
  LiveEmulator emu;
  auto res = control(emu, "GET", "/_emulator/health");
  REQUIRE(res);
  CHECK(res->status == 200);
  const auto ordered = nlohmann::ordered_json::parse(res->body);
  std::vector<std::string> keys;
  for (auto it = ordered.begin(); it != ordered.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"status", "version", "uptimeSeconds", "tasks", "clock", "faults",
                                         "journalEntries", "sleepingRequests"});
  auto body = Json::parse(res->body);
  CHECK(body["status"] == "ready");
  CHECK(body["version"].is_string());
  CHECK(!body["version"].get<std::string>().empty());
  CHECK(body["uptimeSeconds"].is_number_integer());
  CHECK(body["uptimeSeconds"].get<std::int64_t>() >= 0);
  CHECK(body["tasks"] == 0);
  CHECK(body["clock"] == "real");
  CHECK(body["faults"] == 0);
  CHECK(body["journalEntries"] == 0);

  create(emu);
  create(emu);
  add_fault(emu, R"({"action":"DelCdbDataSyncTask","code":9591})");
  body = health(emu);
  CHECK(body["tasks"] == 2);
  CHECK(body["faults"] == 1);
  CHECK(body["journalEntries"] == 2);

  LiveEmulator manual(manual_clock());
  CHECK(health(manual)["clock"] == "manual");
}

TEST_CASE("control unknown endpoints are 404 JSON naming the method and path") {
  LiveEmulator emu;
  auto res = control(emu, "GET", "/_emulator/nothing");
  REQUIRE(res);
  CHECK(res->status == 404);
  CHECK(res->body == R"({"error":"no control endpoint GET /_emulator/nothing"})");
  res = control(emu, "POST", "/_emulator/nothing", "{}");
  REQUIRE(res);
  CHECK(res->status == 404);
  CHECK(res->body == R"({"error":"no control endpoint POST /_emulator/nothing"})");
}

// --- reset -----------------------------------------------------------------------------------

TEST_CASE("control reset deletes tasks faults and the journal while ids keep growing") {
  Config cfg = LiveEmulator::default_config();
  cfg.first_job_id = 100;
  LiveEmulator emu(cfg);
  CHECK(create(emu) == 100);
  CHECK(create(emu) == 101);
  add_fault(emu, R"({"action":"DelCdbDataSyncTask","code":9591})");
  REQUIRE(journal(emu)["matched"] == 2);

  auto res = control(emu, "POST", "/_emulator/reset");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"reset":true,"resetIds":false})");

  const auto after = health(emu);
  CHECK(after["tasks"] == 0);
  CHECK(after["faults"] == 0);
  CHECK(after["journalEntries"] == 0);
  CHECK(faults(emu) == Json::array());
  CHECK(journal(emu)["entries"] == Json::array());
  Params list_params = job_params("GetCdbDataSyncTaskList", 100);
  CHECK(emu.get(list_params)["data"]["totalCount"] == 0);
  CHECK(act(emu, "DelCdbDataSyncTask", 101).find(R"("code":9591)") != std::string::npos);

  // Ids are never reused without resetIds.
  CHECK(create(emu) == 102);
}

TEST_CASE("control reset with resetIds restarts ids at the first job id") {
  Config cfg = LiveEmulator::default_config();
  cfg.first_job_id = 500;
  LiveEmulator emu(cfg);
  CHECK(create(emu) == 500);
  CHECK(create(emu) == 501);
  auto res = control(emu, "POST", "/_emulator/reset", R"({"resetIds": true})");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"reset":true,"resetIds":true})");
  CHECK(create(emu) == 500);
  CHECK(create(emu) == 501);
  // {"resetIds": false} is the plain reset.
  res = control(emu, "POST", "/_emulator/reset", R"({"resetIds": false})");
  REQUIRE(res);
  CHECK(res->body == R"({"reset":true,"resetIds":false})");
  CHECK(create(emu) == 502);
}

TEST_CASE("control reset forgets nonces so a used nonce works again") {
  LiveEmulator emu;
  const Params params = create_params();
  CHECK(emu.get(params)["code"] == 0);
  CHECK(emu.get(params)["code"] == 4500);  // the same Nonce again: a replay
  REQUIRE(control(emu, "POST", "/_emulator/reset")->status == 200);
  const auto again = emu.get(params);
  CHECK_MESSAGE(again["code"] == 0, again.dump());
  CHECK(health(emu)["tasks"] == 1);
}

TEST_CASE("control reset returns the manual clock to its start") {
  LiveEmulator emu(manual_clock());
  const auto id = create(emu);
  advance(emu, 100);
  CHECK(control_json(emu, "GET", "/_emulator/clock")["now"] == "2017-02-23 15:05:40");
  REQUIRE(control(emu, "POST", "/_emulator/reset")->status == 200);
  const auto clock = control_json(emu, "GET", "/_emulator/clock");
  CHECK(clock["mode"] == "manual");
  CHECK(clock["now"] == "2017-02-23 15:04:00");
  const auto body = emu.get(job_params("GetCdbDataSyncTaskList", id));
  CHECK(body["data"]["totalCount"] == 0);
  const auto next = create(emu);
  Params params = job_params("GetCdbDataSyncTaskList", next);
  CHECK(emu.get(params)["data"]["jobList"][0]["detail"]["submitTime"] == "2017-02-23 15:04:00");
}

TEST_CASE("control a bad reset body is refused with 400 and changes nothing") {
  LiveEmulator emu;
  create(emu);
  add_fault(emu, R"({"action":"DelCdbDataSyncTask","code":9591})");
  for (const auto &[body, error] : std::vector<std::pair<std::string, std::string>>{
           {R"({"resetIds":"yes"})", R"({"error":"resetIds must be true or false"})"},
           {R"({"everything":true})", R"({"error":"unknown field \"everything\"; reset takes resetIds"})"},
           {"not json", R"({"error":"the body must be a JSON object"})"},
           {"[true]", R"({"error":"the body must be a JSON object"})"}}) {
    CAPTURE(body);
    auto res = control(emu, "POST", "/_emulator/reset", body);
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(res->body == error);
  }
  const auto after = health(emu);
  CHECK(after["tasks"] == 1);
  CHECK(after["faults"] == 1);
  CHECK(after["journalEntries"] == 1);
}

// --- the error catalogue ---------------------------------------------------------------------

TEST_CASE("control errors lists every code with its codeDesc message and the actions that document it") {
  LiveEmulator emu;
  const auto body = control_json(emu, "GET", "/_emulator/errors");
  const auto &errors = body["errors"];
  std::vector<int> codes;
  for (const auto &error : errors) codes.push_back(error["code"].get<int>());
  CHECK(codes == std::vector<int>{4000,  4100,  4101,  4102,  4103,  4104,  4500,  5100,  6000,
                                  6100,  6200,  9003,  9006,  9013,  9016,  9544,  9570,  9572,
                                  9589,  9590,  9591,  9592,  9593,  9631,  9634,  30000, 30001,
                                  30002, 30004, 30005, 30009, 30010, 30011, 30012, 30013, 30016});
  REQUIRE(errors.size() == domain::error_catalogue().size());
  std::size_t i = 0;
  for (const auto &row : domain::error_catalogue()) {
    const auto &error = errors[i++];
    CAPTURE(row.code);
    CHECK(error["code"] == row.code);
    CHECK(error["codeDesc"] == std::string(row.code_desc));
    CHECK(error["message"] == std::string(row.message));
    CHECK(error["documented"] == std::string(row.documented));
    CHECK(error["actions"].is_array());
    CHECK(!error["actions"].empty());
  }
  const auto find = [&](int code) {
    for (const auto &error : errors) {
      if (error["code"] == code) return error;
    }
    return Json();
  };
  CHECK(find(4100) ==
        Json::parse(R"({"code":4100,"codeDesc":"AuthFailure","message":"身份认证失败，用户身份验证失败",
                                      "documented":"鉴权失败","actions":["*"]})"));
  CHECK(find(6100)["message"] == "本版本内不支持的接口或者接口已经被废弃，请参考该接口的文档。");
  CHECK(find(4000)["actions"] == Json::array({"*"}));
  CHECK(find(9591)["actions"] ==
        Json::array({"CheckCdbDataSyncTask", "StartCdbDataSyncTask", "DelCdbDataSyncTask"}));
  CHECK(find(9003)["actions"] ==
        Json::array({"CreateCdbDataSyncTask", "CheckCdbDataSyncTask", "StartCdbDataSyncTask",
                     "DelCdbDataSyncTask", "GetCdbDataSyncTaskList"}));
  CHECK(find(30010) == Json::parse(R"({"code":30010,"codeDesc":"OperationDenied",
                                       "message":"the task is running and cannot be modified",
                                       "documented":"同步任务正在运行，不允许修改","actions":["CreateCdbDataSyncTask"]})"));
  CHECK(find(9006)["actions"] == Json::array({"GetCdbDataSyncTaskList"}));
}

// --- fault rules -----------------------------------------------------------------------------

TEST_CASE("control every catalogue code can be forced on any action with its catalogue envelope") {
  LiveEmulator emu;
  const auto errors = control_json(emu, "GET", "/_emulator/errors")["errors"];
  for (const auto &error : errors) {
    const int code = error["code"].get<int>();
    CAPTURE(code);
    add_fault(emu, R"({"code":)" + std::to_string(code) + R"(,"times":1})");
    // The List action documents only some of these codes: a fault may force any of them anyway.
    CHECK(list(emu) == catalogue_envelope(code));
  }
  CHECK(faults(emu) == Json::array());
  CHECK(list(emu).find(R"({"code":0,)") == 0);
}

TEST_CASE("control fault rules are added listed and deleted one by one or all at once") {
  LiveEmulator emu;
  auto res = control(emu, "POST", "/_emulator/faults",
                     R"({"action":"StartCdbDataSyncTask","code":30010,"times":2})");
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->body == R"({"id":"f1"})");
  CHECK(add_fault(emu, R"({"codeDesc":"TaskNotExist","match":{"jobId":7}})") == "f2");
  CHECK(add_fault(emu, R"({"action":"CreateCdbDataSyncTask","http":502})") == "f3");
  CHECK(faults(emu) == Json::parse(R"([
    {"id":"f1","hits":0,"rule":{"action":"StartCdbDataSyncTask","code":30010,"times":2},"remaining":2},
    {"id":"f2","hits":0,"rule":{"codeDesc":"TaskNotExist","match":{"jobId":7}}},
    {"id":"f3","hits":0,"rule":{"action":"CreateCdbDataSyncTask","http":502}}])"));

  res = control(emu, "DELETE", "/_emulator/faults/f2");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"deleted":"f2"})");
  CHECK(faults(emu).size() == 2);
  CHECK(faults(emu)[0]["id"] == "f1");
  CHECK(faults(emu)[1]["id"] == "f3");

  res = control(emu, "DELETE", "/_emulator/faults/f2");
  REQUIRE(res);
  CHECK(res->status == 404);
  CHECK(res->body == R"({"error":"no fault rule f2"})");

  res = control(emu, "DELETE", "/_emulator/faults");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"deleted":"all"})");
  CHECK(control(emu, "GET", "/_emulator/faults")->body == R"({"faults":[]})");
  // Ids are not reused.
  CHECK(add_fault(emu, R"({"code":9572})") == "f4");
}

TEST_CASE("control bad fault rules are refused with a 400 naming the field and change nothing") {
  Config cfg = LiveEmulator::default_config();
  cfg.max_delay_ms = 1000;
  LiveEmulator emu(cfg);
  const std::string actions =
      "action must be one of the supported actions (CreateCdbDataSyncTask, CheckCdbDataSyncTask, "
      "StartCdbDataSyncTask, DelCdbDataSyncTask, GetCdbDataSyncTaskList)";
  for (
      const auto &[rule, error] : std::vector<std::pair<std::string, std::string>>{
          {R"({"code":0})",
           "code 0 is not in the error catalogue (GET /_emulator/errors); 0 is success, not a fault"},
          {R"({"code":1234})", "code 1234 is not in the error catalogue (GET /_emulator/errors)"},
          {R"({"code":-4100})", "code -4100 is not in the error catalogue (GET /_emulator/errors)"},
          {R"({"code":true})", "code must be an error code (integer) or a codeDesc (string)"},
          {R"({"codeDesc":"InternalError"})",
           R"(codeDesc "InternalError" is ambiguous: give code, one of 6000, 9006, 9013, 9016, 9589)"},
          {R"({"codeDesc":"OperationDenied"})",
           R"(codeDesc "OperationDenied" is ambiguous: give code, one of 9544, 9570, 9592, 9631, 9634, 30010, 30012)"},
          {R"({"codeDesc":"AuthFailure"})",
           R"(codeDesc "AuthFailure" is ambiguous: give code, one of 4100, 4101, 4103, 4104)"},
          {R"({"codeDesc":"NoSuchWord"})", R"(codeDesc "NoSuchWord" is no codeDesc of the error catalogue)"},
          {R"({"code":9572,"codeDesc":"InstanceNotExists"})", "give code or codeDesc, not both"},
          {R"({"action":"DescribeCdbDataSyncTask","code":9572})", actions},
          {R"({"action":7,"code":9572})", actions},
          {R"({"code":9572,"bogus":1})", R"(unknown field "bogus")"},
          {R"({"message":"boom"})", "message needs code or codeDesc"},
          {R"({"code":9572,"message":5})", "message must be a string"},
          {R"({"http":302})", "http must be an HTTP error status from 400 to 599"},
          {R"({"http":600})", "http must be an HTTP error status from 400 to 599"},
          {R"({"http":"502"})", "http must be an HTTP error status from 400 to 599"},
          {R"({"code":9572,"http":502})", "give one of code/codeDesc, http, emptyBody and truncatedBody"},
          {R"({"emptyBody":true,"truncatedBody":true})",
           "give one of code/codeDesc, http, emptyBody and truncatedBody"},
          {R"({"emptyBody":"yes"})", "emptyBody must be true or false"},
          {R"({"action":"GetCdbDataSyncTaskList"})",
           "give code, codeDesc, http, emptyBody, truncatedBody or delayMs"},
          {R"({})", "give code, codeDesc, http, emptyBody, truncatedBody or delayMs"},
          {R"({"code":9572,"times":0})", "times must be a positive integer"},
          {R"({"code":9572,"times":1.5})", "times must be a positive integer"},
          {R"({"code":9572,"probability":0})", "probability must be a number above 0 and at most 1"},
          {R"({"code":9572,"probability":1.5})", "probability must be a number above 0 and at most 1"},
          {R"({"code":9572,"probability":0.5,"seed":-1})", "seed must be a non-negative integer"},
          {R"({"delayMs":-1})", "delayMs must be an integer from 0 to 1000 (--max-delay-ms)"},
          {R"({"delayMs":1001})", "delayMs must be an integer from 0 to 1000 (--max-delay-ms)"},
          {R"({"code":9572,"match":[]})", "match must be an object"},
          {R"({"code":9572,"match":{"jobId":"7"}})",
           "match.jobId: match takes jobId (integer), instanceId (string) and jobName (string)"},
          {R"({"code":9572,"match":{"region":"gz"}})",
           "match.region: match takes jobId (integer), instanceId (string) and jobName (string)"},
          {"not json", "the body must be a JSON object"},
          {"[1]", "the body must be a JSON object"}}) {
    CAPTURE(rule);
    CHECK(refused_fault(emu, rule) == "400 " + Json({{"error", error}}).dump());
  }
  CHECK(faults(emu) == Json::array());
  CHECK(health(emu)["faults"] == 0);
  // Nothing was counted: the first accepted rule is f1; the maximum delay itself is accepted.
  CHECK(add_fault(emu, R"({"delayMs":1000,"action":"DelCdbDataSyncTask"})") == "f1");
}

TEST_CASE("control a times 2 fault fires exactly twice then the real answer comes back") {
  LiveEmulator emu(manual_clock());
  const auto id = create(emu);
  REQUIRE(act(emu, "CheckCdbDataSyncTask", id) == kOk);
  advance(emu, 3);
  REQUIRE(status_of(emu, id) == 4);

  CHECK(add_fault(emu, R"({"action":"StartCdbDataSyncTask","code":30010,"times":2})") == "f1");
  const std::string denied =
      R"({"code":30010,"message":"the task is running and cannot be modified","codeDesc":"OperationDenied"})";
  CHECK(act(emu, "StartCdbDataSyncTask", id) == denied);
  auto listed = faults(emu);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["hits"] == 1);
  CHECK(listed[0]["remaining"] == 1);
  CHECK(status_of(emu, id) == 4);  // other actions are left alone, and the fault changed nothing
  CHECK(act(emu, "StartCdbDataSyncTask", id) == denied);
  CHECK(faults(emu) == Json::array());  // expired after its second firing
  CHECK(act(emu, "StartCdbDataSyncTask", id) == kOk);
  CHECK(status_of(emu, id) == 5);
  CHECK(journal(emu, "action=StartCdbDataSyncTask&code=30010")["matched"] == 2);
  const auto starts = journal(emu, "action=StartCdbDataSyncTask")["entries"];
  REQUIRE(starts.size() == 3);
  CHECK(starts[0]["faultId"] == "f1");
  CHECK(starts[1]["faultId"] == "f1");
  CHECK(!starts[2].contains("faultId"));
}

TEST_CASE("control a fault can replace the catalogue message and name its code by codeDesc") {
  LiveEmulator emu;
  add_fault(emu, R"({"action":"CreateCdbDataSyncTask","code":9572,"message":"实例 cdb-x 不存在","times":1})");
  CHECK(emu.get_text(create_params()) ==
        R"({"code":9572,"message":"实例 cdb-x 不存在","codeDesc":"InstanceNotExists"})");
  add_fault(emu, R"({"action":"DelCdbDataSyncTask","codeDesc":"TaskNotExist","times":1})");
  CHECK(act(emu, "DelCdbDataSyncTask", 1) == catalogue_envelope(9591));
  // "ReplayAttack" is no codeDesc word: codeDesc is the wire word, InvalidRequest.ReplayAttack.
  CHECK(refused_fault(emu, R"({"codeDesc":"ReplayAttack"})") ==
        R"(400 {"error":"codeDesc \"ReplayAttack\" is no codeDesc of the error catalogue"})");
  add_fault(emu, R"({"action":"GetCdbDataSyncTaskList","codeDesc":"InvalidRequest.ReplayAttack","times":1})");
  CHECK(list(emu) == catalogue_envelope(4500));
}

TEST_CASE("control a seeded probability fault fires on the same calls in two runs") {
  const auto run = [](const std::string &rule) {
    LiveEmulator emu;
    add_fault(emu, rule);
    std::vector<bool> fired;
    for (int i = 0; i < 40; ++i) {
      const std::string body = list(emu);
      CHECK((body == catalogue_envelope(6000) || body.find(R"({"code":0,)") == 0));
      fired.push_back(body == catalogue_envelope(6000));
    }
    const auto listed = faults(emu);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["hits"] == std::count(fired.begin(), fired.end(), true));
    return fired;
  };
  const std::string rule = R"({"action":"GetCdbDataSyncTaskList","probability":0.5,"seed":42,"code":6000})";
  const auto first = run(rule);
  const auto second = run(rule);
  CHECK(first == second);
  const auto count = std::count(first.begin(), first.end(), true);
  CHECK(count > 0);   // it fires on some calls
  CHECK(count < 40);  // and not on others
  // Without a seed the seed is 0: repeatable too.
  const std::string unseeded = R"({"action":"GetCdbDataSyncTaskList","probability":0.3,"code":6000})";
  CHECK(run(unseeded) == run(unseeded));
}

TEST_CASE("control a matched fault leaves other tasks alone and match fields are AND-ed") {
  LiveEmulator emu(manual_clock());
  const auto alpha = create(emu, "alpha", "cdb-c1nl9rpv", "cdb-d2sagyed");
  const auto beta = create(emu, "beta", "cdb-5u7czxdx", "cdb-ek0t57qd");
  const std::string all_three = R"({"action":"CheckCdbDataSyncTask","code":9570,"match":{"jobId":)" +
                                std::to_string(alpha) + R"(,"instanceId":"cdb-d2sagyed","jobName":"alpha"}})";
  CHECK(add_fault(emu, all_three) == "f1");
  // The instance of alpha with the name of beta: no task has both.
  CHECK(add_fault(emu, R"({"code":9592,"match":{"instanceId":"cdb-c1nl9rpv","jobName":"beta"}})") == "f2");
  // alpha's id with beta's name: never.
  CHECK(add_fault(emu, R"({"code":9593,"match":{"jobId":)" + std::to_string(alpha) +
                           R"(,"jobName":"beta"}})") == "f3");

  CHECK(act(emu, "CheckCdbDataSyncTask", beta) == kOk);
  CHECK(
      act(emu, "CheckCdbDataSyncTask", alpha) ==
      R"({"code":9570,"message":"another process conflicts with this operation","codeDesc":"OperationDenied"})");
  CHECK(status_of(emu, alpha) == 1);  // the faulted Check changed nothing
  CHECK(status_of(emu, beta) == 2);
  auto listed = faults(emu);
  REQUIRE(listed.size() == 3);
  CHECK(listed[0]["hits"] == 1);
  CHECK(listed[1]["hits"] == 0);
  CHECK(listed[2]["hits"] == 0);

  // A Create matches on its own srcInfo/dstInfo instances and jobName.
  CHECK(emu.get_text(create_params("alpha", "cdb-c1nl9rpv", "cdb-d2sagyed")).find(R"({"code":0,)") == 0);
  CHECK(emu.get_text(create_params("beta", "cdb-5u7czxdx", "cdb-d2sagyed")).find(R"({"code":0,)") == 0);
  CHECK(emu.get_text(create_params("beta", "cdb-m4st3rsh", "cdb-c1nl9rpv")) == catalogue_envelope(9592));
  listed = faults(emu);
  CHECK(listed[1]["hits"] == 1);
  CHECK(listed[2]["hits"] == 0);
  CHECK(health(emu)["tasks"] == 4);

  // instanceId matches the destination too.
  CHECK(add_fault(emu,
                  R"({"action":"DelCdbDataSyncTask","code":9591,"match":{"instanceId":"cdb-ek0t57qd"}})") ==
        "f4");
  CHECK(act(emu, "DelCdbDataSyncTask", alpha).find(R"("code":9591)") == std::string::npos);
  CHECK(act(emu, "DelCdbDataSyncTask", beta) == catalogue_envelope(9591));
  CHECK(status_of(emu, beta) == 2);
}

TEST_CASE("control a fault never hides a bad signature or an unknown action or a replay") {
  LiveEmulator emu;
  CHECK(add_fault(emu, R"({"code":9572})") == "f1");
  // A bad signature: the real 4100, and the rule did not fire.
  {
    auto cli = emu.client();
    auto res = cli.Get("/v2/index.php?" +
                       encode_query(sign(create_params(), "GET", emu.host(), "not-the-secret-key")));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == kAuthFailure);
  }
  // No signature at all.
  {
    Params params = create_params();
    auto cli = emu.client();
    auto res = cli.Get("/v2/index.php?" + encode_query(params));  // Signature=signed-on-send
    REQUIRE(res);
    CHECK(res->body == kAuthFailure);
  }
  // An action that does not exist.
  const std::string unknown = emu.get_text(common_params("DescribeCdbDataSyncTask"));
  CHECK(unknown.find(R"("code":9572)") == std::string::npos);
  CHECK(unknown.find(R"({"code":6100,)") == 0);
  auto listed = faults(emu);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["hits"] == 0);

  // A replayed nonce is still a replay.
  CHECK(control(emu, "DELETE", "/_emulator/faults")->status == 200);
  const Params params = create_params();
  CHECK(emu.get(params)["code"] == 0);
  add_fault(emu, R"({"code":9572})");
  CHECK(emu.get(params)["code"] == 4500);
  CHECK(faults(emu)[0]["hits"] == 0);
  // A good request still gets the fault.
  CHECK(emu.get_text(create_params()) == catalogue_envelope(9572));
  CHECK(faults(emu)[0]["hits"] == 1);
  CHECK(health(emu)["tasks"] == 1);
}

TEST_CASE("control a faulted request changes no state and its nonce can be used again") {
  LiveEmulator emu;
  add_fault(emu, R"({"action":"CreateCdbDataSyncTask","code":6000,"times":1})");
  const Params params = create_params();
  CHECK(emu.get_text(params) == R"({"code":6000,"message":"internal error","codeDesc":"InternalError"})");
  CHECK(health(emu)["tasks"] == 0);
  // The very same signed request (same Nonce): accepted, and the faulted one used up no job id.
  CHECK(emu.get_text(params) == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");

  // A transport fault changes nothing either.
  add_fault(emu, R"({"action":"CreateCdbDataSyncTask","http":503,"times":1})");
  const Params second = create_params();
  auto res = api_get(emu, second);
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(health(emu)["tasks"] == 1);
  CHECK(emu.get_text(second) == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":2}})");

  // Nor does a faulted Delete.
  add_fault(emu, R"({"action":"DelCdbDataSyncTask","code":5100,"times":1})");
  const Params del = job_params("DelCdbDataSyncTask", 1);
  CHECK(emu.get_text(del) == catalogue_envelope(5100));
  CHECK(health(emu)["tasks"] == 2);
  CHECK(emu.get_text(del) == kOk);
  CHECK(health(emu)["tasks"] == 1);
}

TEST_CASE("control a delay alone processes the request normally and uses up its nonce") {
  LiveEmulator emu;
  CHECK(add_fault(emu, R"({"action":"CreateCdbDataSyncTask","delayMs":20})") == "f1");
  const Params params = create_params();
  CHECK(emu.get_text(params) == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  const auto entry = journal(emu)["entries"][0];
  CHECK(entry["faultId"] == "f1");
  CHECK(entry["code"] == 0);
  CHECK(entry["latencyMs"].get<double>() >= 20.0);  // the server's own measure of a sleep of 20 ms
  CHECK(faults(emu)[0]["hits"] == 1);
  // The request was processed normally, so its nonce counts: the same request again is a replay
  // and must not create a second task.
  const auto replay = emu.get(params);
  CHECK_MESSAGE(replay["code"] == 4500, replay.dump());
  CHECK(health(emu)["tasks"] == 1);

  // The same through the X-Emulator-Delay-Ms header.
  CHECK(control(emu, "DELETE", "/_emulator/faults")->status == 200);
  const Params second = create_params();
  CHECK(api_answer(emu, second, {{"X-Emulator-Delay-Ms", "10"}}).find(R"(200 {"code":0,)") == 0);
  const auto replay2 = emu.get(second);
  CHECK_MESSAGE(replay2["code"] == 4500, replay2.dump());
  CHECK(health(emu)["tasks"] == 2);
}

TEST_CASE("control transport faults answer an HTTP error status or an empty or truncated body") {
  LiveEmulator emu;
  add_fault(emu, R"({"action":"CreateCdbDataSyncTask","http":502,"times":1})");
  auto res = api_get(emu, create_params());
  REQUIRE(res);
  CHECK(res->status == 502);
  CHECK(res->body.empty());

  add_fault(emu, R"({"action":"CreateCdbDataSyncTask","emptyBody":true,"times":1})");
  res = api_get(emu, create_params());
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.empty());
  CHECK(res->get_header_value("Content-Length") == "0");

  add_fault(emu, R"({"action":"CreateCdbDataSyncTask","truncatedBody":true,"times":1})");
  const std::string request = "GET /v2/index.php?" + encode_query(sign(create_params(), "GET", emu.host())) +
                              " HTTP/1.1\r\nHost: " + emu.host() + "\r\n\r\n";
  const std::string raw = raw_exchange(emu.port(), request);
  REQUIRE(raw.find("HTTP/1.1 200") == 0);
  const std::size_t head_end = raw.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  const std::string head = raw.substr(0, head_end);
  const std::string body = raw.substr(head_end + 4);
  const std::string whole = kOk;
  CHECK(head.find("Content-Length: " + std::to_string(whole.size())) != std::string::npos);
  CHECK(body == whole.substr(0, whole.size() / 2));  // half of it, then the connection ended

  CHECK(health(emu)["tasks"] == 0);
  const auto entries = journal(emu)["entries"];
  REQUIRE(entries.size() == 3);
  CHECK(entries[0]["transport"] == "http502");
  CHECK(entries[0]["faultId"] == "f1");
  CHECK(entries[1]["transport"] == "emptyBody");
  CHECK(entries[1]["faultId"] == "f2");
  CHECK(entries[2]["transport"] == "truncatedBody");
  CHECK(entries[2]["faultId"] == "f3");
  // The emulator is fine afterwards.
  CHECK(create(emu) == 1);
}

// --- per-request headers ---------------------------------------------------------------------

TEST_CASE("control the X-Emulator-Fault header forces a code and X-Emulator-Delay-Ms a delay") {
  LiveEmulator emu;
  const Params params = create_params();
  CHECK(api_answer(emu, params, {{"X-Emulator-Fault", "9572"}}) ==
        R"(200 {"code":9572,"message":"instance does not exist","codeDesc":"InstanceNotExists"})");
  CHECK(health(emu)["tasks"] == 0);
  // A header fault changes nothing either: the same request without the header works.
  CHECK(emu.get(params)["code"] == 0);

  CHECK(api_answer(emu, job_params("CheckCdbDataSyncTask", 1), {{"X-Emulator-Fault", "TaskNotExist"}}) ==
        "200 " + catalogue_envelope(9591));
  CHECK(api_answer(emu, common_params("GetCdbDataSyncTaskList"),
                   {{"X-Emulator-Fault", "InvalidRequest.ReplayAttack"}}) ==
        "200 " + catalogue_envelope(4500));

  auto res = api_get(emu, common_params("GetCdbDataSyncTaskList"), {{"X-Emulator-Delay-Ms", "150"}});
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(Json::parse(res->body)["code"] == 0);
  const std::string request_id = res->get_header_value("X-Emulator-Request-Id");

  res = api_get(emu, job_params("DelCdbDataSyncTask", 1),
                {{"X-Emulator-Fault", "5100"}, {"X-Emulator-Delay-Ms", "50"}});
  REQUIRE(res);
  CHECK(res->body == catalogue_envelope(5100));
  CHECK(health(emu)["tasks"] == 1);

  const auto entries = journal(emu)["entries"];
  REQUIRE(entries.size() == 6);
  CHECK(entries[0]["faultId"] == "header");
  CHECK(entries[0]["code"] == 9572);
  CHECK(!entries[1].contains("faultId"));
  CHECK(entries[4]["requestId"] == request_id);
  CHECK(entries[4]["faultId"] == "header");
  CHECK(entries[4]["code"] == 0);
  CHECK(entries[4]["latencyMs"].get<double>() >= 150.0);  // the server's own measure of its sleep
  CHECK(entries[5]["faultId"] == "header");
  CHECK(entries[5]["code"] == 5100);
  CHECK(entries[5]["latencyMs"].get<double>() >= 50.0);
}

TEST_CASE("control the per-request header beats the rules") {
  LiveEmulator emu;
  add_fault(emu, R"({"code":9572})");
  CHECK(api_answer(emu, create_params(), {{"X-Emulator-Fault", "9591"}}) ==
        "200 " + catalogue_envelope(9591));
  CHECK(faults(emu)[0]["hits"] == 0);
  // One fault per request: a delay header alone wins over the rule, then normal processing.
  CHECK(api_answer(emu, create_params(), {{"X-Emulator-Delay-Ms", "1"}}).find(R"(200 {"code":0,)") == 0);
  CHECK(faults(emu)[0]["hits"] == 0);
  CHECK(health(emu)["tasks"] == 1);
  // Without a header the rule fires.
  CHECK(emu.get_text(create_params()) == catalogue_envelope(9572));
  CHECK(faults(emu)[0]["hits"] == 1);
  const auto entries = journal(emu)["entries"];
  REQUIRE(entries.size() == 3);
  CHECK(entries[0]["faultId"] == "header");
  CHECK(entries[1]["faultId"] == "header");
  CHECK(entries[2]["faultId"] == "f1");
}

TEST_CASE("control the oldest matching rule fires first") {
  LiveEmulator emu;
  add_fault(emu, R"({"action":"GetCdbDataSyncTaskList","code":9006,"times":1})");
  add_fault(emu, R"({"code":9016,"times":1})");
  CHECK(list(emu) == catalogue_envelope(9006));
  CHECK(list(emu) == catalogue_envelope(9016));
  CHECK(list(emu).find(R"({"code":0,)") == 0);
}

TEST_CASE("control a bad X-Emulator-* header value is refused with 400 JSON") {
  LiveEmulator emu;
  CHECK(api_answer(emu, create_params(), {{"X-Emulator-Fault", "1234"}}) ==
        R"~(400 {"error":"X-Emulator-Fault 1234 is not in the error catalogue (GET /_emulator/errors)"})~");
  CHECK(
      api_answer(emu, create_params(), {{"X-Emulator-Fault", "0"}}) ==
      R"(400 {"error":"X-Emulator-Fault 0 is not in the error catalogue (GET /_emulator/errors); 0 is success, not a fault"})");
  CHECK(
      api_answer(emu, create_params(), {{"X-Emulator-Fault", "InternalError"}}) ==
      R"(400 {"error":"X-Emulator-Fault \"InternalError\" is ambiguous: give code, one of 6000, 9006, 9013, 9016, 9589"})");
  CHECK(api_answer(emu, create_params(), {{"X-Emulator-Delay-Ms", "soon"}}) ==
        R"(400 {"error":"X-Emulator-Delay-Ms must be an integer from 0 to 30000"})");
  CHECK(api_answer(emu, create_params(), {{"X-Emulator-Delay-Ms", "30001"}}) ==
        R"~(400 {"error":"X-Emulator-Delay-Ms must be an integer from 0 to 30000 (--max-delay-ms)"})~");
  CHECK(health(emu)["tasks"] == 0);
}

TEST_CASE("control a request refused for a bad X-Emulator-* header does not use up its nonce") {
  LiveEmulator emu;
  const Params params = create_params();
  CHECK(api_answer(emu, params, {{"X-Emulator-Fault", "1234"}}).find("400 ") == 0);
  // The refused request changed nothing: the same signed request is not a replay.
  const auto again = emu.get(params);
  CHECK_MESSAGE(again["code"] == 0, again.dump());
}

// --- the journal -----------------------------------------------------------------------------

TEST_CASE("control the journal records action code redacted parameters and task status changes") {
  LiveEmulator emu(manual_clock());
  Params params = create_params("journal-job");
  params.push_back({"Token", "temporary-session-token"});
  auto cli = emu.client();
  const Params signed_params = sign(params, "GET", emu.host());
  auto res = cli.Get("/v2/index.php?" + encode_query(signed_params));
  REQUIRE(res);
  const auto created = Json::parse(res->body);
  REQUIRE_MESSAGE(created["code"] == 0, res->body);
  const auto id = created["data"]["jobId"].get<std::int64_t>();
  const std::string request_id = res->get_header_value("X-Emulator-Request-Id");

  REQUIRE(act(emu, "CheckCdbDataSyncTask", id) == kOk);
  advance(emu, 3);
  REQUIRE(status_of(emu, id) == 4);  // this read moved the task on
  CHECK(status_of(emu, id) == 4);    // this one changed nothing
  // A bad signature by POST is recorded with its code.
  {
    Params bad = create_params("bad-signature");
    auto post = cli.Post("/v2/index.php", encode_query(sign(bad, "POST", emu.host(), "wrong-secret")),
                         "application/x-www-form-urlencoded");
    REQUIRE(post);
    CHECK(post->body == kAuthFailure);
  }

  const auto answer = journal(emu);
  CHECK(answer["matched"] == 5);
  CHECK(answer["dropped"] == 0);
  CHECK(answer["nextSeq"] == 6);
  const auto &entries = answer["entries"];
  REQUIRE(entries.size() == 5);

  // The Create: every field, the parameters decoded and Signature and Token redacted.
  auto ordered = nlohmann::ordered_json::parse(control(emu, "GET", "/_emulator/requests?limit=1")->body);
  std::vector<std::string> keys;
  for (auto it = ordered["entries"][0].begin(); it != ordered["entries"][0].end(); ++it)
    keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"seq", "timeMs", "requestId", "method", "action", "params", "code",
                                         "latencyMs", "tasks"});
  const auto &create_entry = entries[0];
  CHECK(create_entry["seq"] == 1);
  CHECK(create_entry["requestId"] == request_id);
  CHECK(create_entry["method"] == "GET");
  CHECK(create_entry["action"] == "CreateCdbDataSyncTask");
  CHECK(create_entry["code"] == 0);
  CHECK(create_entry["timeMs"].get<std::int64_t>() > 1500000000000);
  CHECK(create_entry["latencyMs"].get<double>() >= 0.0);
  CHECK(!create_entry.contains("faultId"));
  Json expected_params = Json::object();
  for (const auto &[name, value] : signed_params) expected_params[name] = value;
  expected_params["Signature"] = "(redacted)";
  expected_params["Token"] = "(redacted)";
  CHECK(create_entry["params"] == expected_params);
  CHECK(create_entry["params"]["jobName"] == "journal-job");
  CHECK(create_entry["params"]["srcInfo.0.cdbUInstanceId"] == "cdb-c1nl9rpv");
  CHECK(res->body.find("temporary-session-token") == std::string::npos);
  const std::string dump = control(emu, "GET", "/_emulator/requests")->body;
  CHECK(dump.find("temporary-session-token") == std::string::npos);
  for (const auto &[name, value] : signed_params) {
    if (name == "Signature") CHECK(dump.find(value) == std::string::npos);
  }
  CHECK(create_entry["tasks"] ==
        Json::parse(R"([{"jobId":)" + std::to_string(id) + R"(,"statusBefore":null,"statusAfter":1}])"));

  // The Check: 1 → 2.
  CHECK(entries[1]["action"] == "CheckCdbDataSyncTask");
  CHECK(entries[1]["params"]["jobId"] == std::to_string(id));
  CHECK(entries[1]["tasks"] ==
        Json::parse(R"([{"jobId":)" + std::to_string(id) + R"(,"statusBefore":1,"statusAfter":2}])"));
  // The List read that advanced the task: 2 → 4; the next read changed nothing.
  CHECK(entries[2]["action"] == "GetCdbDataSyncTaskList");
  CHECK(entries[2]["tasks"] ==
        Json::parse(R"([{"jobId":)" + std::to_string(id) + R"(,"statusBefore":2,"statusAfter":4}])"));
  CHECK(!entries[3].contains("tasks"));
  // The refused POST.
  CHECK(entries[4]["method"] == "POST");
  CHECK(entries[4]["action"] == "CreateCdbDataSyncTask");
  CHECK(entries[4]["code"] == 4100);
  CHECK(entries[4]["params"]["Signature"] == "(redacted)");
  CHECK(entries[4]["params"]["jobName"] == "bad-signature");
  CHECK(!entries[4].contains("tasks"));

  // A Delete: status → null.
  REQUIRE(act(emu, "DelCdbDataSyncTask", id) == kOk);
  const auto del = journal(emu, "action=DelCdbDataSyncTask")["entries"];
  REQUIRE(del.size() == 1);
  CHECK(del[0]["tasks"] ==
        Json::parse(R"([{"jobId":)" + std::to_string(id) + R"(,"statusBefore":4,"statusAfter":null}])"));
}

TEST_CASE("control the journal redacts SecretKey and cuts long values and large parameter sets") {
  LiveEmulator emu;
  Params params = common_params("GetCdbDataSyncTaskList");
  params.push_back({"SecretKey", "leaked-secret-key"});
  params.push_back({"jobName", std::string(300, 'x')});
  emu.get_text(params);
  auto entry = journal(emu)["entries"][0];
  CHECK(entry["params"]["SecretKey"] == "(redacted)");
  CHECK(entry["params"]["jobName"] == std::string(256, 'x') + "...");
  CHECK(entry["params"]["Signature"] == "(redacted)");

  Params many = common_params("GetCdbDataSyncTaskList");
  for (int i = 0; i < 250; ++i) many.push_back({"extra" + std::to_string(1000 + i), "v"});
  const std::size_t total = many.size();
  emu.get_text(many);
  entry = journal(emu, "since=1")["entries"][0];
  CHECK(entry["params"].size() == 201);
  CHECK(entry["params"]["..."] == std::to_string(total - 200) + " more parameters not kept");
  CHECK(entry["params"]["Action"] == "GetCdbDataSyncTaskList");
}

TEST_CASE("control the journal filters by action code jobId since and limit and DELETE clears it") {
  LiveEmulator emu(manual_clock());
  const auto a = create(emu, "a", "cdb-c1nl9rpv", "cdb-d2sagyed");  // seq 1
  const auto b = create(emu, "b", "cdb-5u7czxdx", "cdb-ek0t57qd");  // seq 2
  REQUIRE(act(emu, "CheckCdbDataSyncTask", a) == kOk);              // seq 3
  {
    auto cli = emu.client();  // seq 4: a Check of b with a bad signature
    auto res = cli.Get("/v2/index.php?" +
                       encode_query(sign(job_params("CheckCdbDataSyncTask", b), "GET", emu.host(), "wrong")));
    REQUIRE(res);
    REQUIRE(res->body == kAuthFailure);
  }
  list(emu);  // seq 5

  using Seqs = std::vector<std::uint64_t>;
  CHECK(seqs(journal(emu)) == Seqs{1, 2, 3, 4, 5});
  CHECK(seqs(journal(emu, "action=CreateCdbDataSyncTask")) == Seqs{1, 2});
  CHECK(seqs(journal(emu, "action=CheckCdbDataSyncTask")) == Seqs{3, 4});
  CHECK(seqs(journal(emu, "action=DelCdbDataSyncTask")).empty());
  CHECK(seqs(journal(emu, "code=4100")) == Seqs{4});
  CHECK(seqs(journal(emu, "code=0")) == Seqs{1, 2, 3, 5});
  CHECK(seqs(journal(emu, "action=CheckCdbDataSyncTask&code=0")) == Seqs{3});
  // jobId: the parameter, or a task the request changed (the Create of a).
  CHECK(seqs(journal(emu, "jobId=" + std::to_string(a))) == Seqs{1, 3});
  CHECK(seqs(journal(emu, "jobId=" + std::to_string(b))) == Seqs{2, 4});
  CHECK(seqs(journal(emu, "jobId=999")).empty());
  CHECK(seqs(journal(emu, "since=2")) == Seqs{3, 4, 5});
  CHECK(seqs(journal(emu, "since=5")).empty());
  CHECK(seqs(journal(emu, "since=0")) == Seqs{1, 2, 3, 4, 5});
  auto limited = journal(emu, "limit=2");
  CHECK(seqs(limited) == Seqs{1, 2});
  CHECK(limited["matched"] == 5);
  limited = journal(emu, "since=1&limit=1&code=0");
  CHECK(seqs(limited) == Seqs{2});
  CHECK(limited["matched"] == 3);
  CHECK(journal(emu, "limit=0")["entries"] == Json::array());
  // Empty filters are no filters.
  CHECK(seqs(journal(emu, "action=&code=&jobId=")) == Seqs{1, 2, 3, 4, 5});
  CHECK(journal(emu)["nextSeq"] == 6);

  auto res = control(emu, "DELETE", "/_emulator/requests");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"deleted":"all"})");
  const auto cleared = journal(emu);
  CHECK(cleared["entries"] == Json::array());
  CHECK(cleared["matched"] == 0);
  CHECK(health(emu)["journalEntries"] == 0);
  // Sequence numbers are never reused: a client's since= stays meaningful.
  list(emu);
  CHECK(seqs(journal(emu)) == Seqs{6});
  CHECK(health(emu)["tasks"] == 2);  // clearing the journal touched no task
}

TEST_CASE("control journal filters with malformed numbers are refused with 400") {
  LiveEmulator emu;
  for (const auto &[query, error] : std::vector<std::pair<std::string, std::string>>{
           {"code=abc", "code must be an integer"},
           {"code=1x", "code must be an integer"},
           {"jobId=-1", "jobId must be a non-negative integer"},
           {"since=soon", "since must be a non-negative integer"},
           {"limit=ten", "limit must be a non-negative integer"},
           {"limit=", "limit must be a non-negative integer"}}) {
    CAPTURE(query);
    for (const std::string path : {"/_emulator/requests?", "/_emulator/requests/wait?timeoutMs=0&"}) {
      auto res = control(emu, "GET", path + query);
      REQUIRE(res);
      CHECK(res->status == 400);
      CHECK(res->body == Json({{"error", error}}).dump());
    }
  }
  auto res = control(emu, "GET", "/_emulator/requests/wait?count=many");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(res->body == R"({"error":"count must be a non-negative integer"})");
  res = control(emu, "GET", "/_emulator/requests/wait?timeoutMs=-5");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(res->body == R"({"error":"timeoutMs must be a non-negative integer"})");
}

TEST_CASE("control the journal byte cap drops the oldest entries and counts them as dropped") {
  Config cfg = LiveEmulator::default_config();
  cfg.journal_bytes = 3000;
  LiveEmulator emu(cfg);
  for (int i = 0; i < 20; ++i) list(emu);
  const auto answer = journal(emu);
  const auto kept = seqs(answer);
  REQUIRE(!kept.empty());
  CHECK(kept.size() < 20);
  CHECK(answer["dropped"] == 20 - kept.size());
  CHECK(answer["matched"] == kept.size());
  CHECK(answer["nextSeq"] == 21);
  // The newest are kept, in order.
  for (std::size_t i = 0; i < kept.size(); ++i) CHECK(kept[i] == 21 - kept.size() + i);
  std::size_t bytes = 0;
  for (const auto &entry : answer["entries"]) bytes += entry.dump().size();
  CHECK(bytes <= 3000);
  CHECK(health(emu)["journalEntries"] == kept.size());

  // A larger entry pushes out more of the small ones.
  Params big = common_params("GetCdbDataSyncTaskList");
  for (int i = 0; i < 8; ++i) big.push_back({"pad" + std::to_string(i), std::string(200, 'p')});
  emu.get_text(big);
  const auto after = journal(emu);
  CHECK(seqs(after).back() == 21);
  CHECK(after["dropped"].get<std::size_t>() > answer["dropped"].get<std::size_t>() + 1);
  CHECK(after["dropped"].get<std::size_t>() + seqs(after).size() == 21);
}

TEST_CASE("control the journal entry cap drops the oldest entries and counts them as dropped") {
  Config cfg = LiveEmulator::default_config();
  cfg.journal_entries = 3;
  LiveEmulator emu(cfg);
  for (int i = 0; i < 5; ++i) list(emu);
  const auto answer = journal(emu);
  CHECK(seqs(answer) == std::vector<std::uint64_t>{3, 4, 5});
  CHECK(answer["matched"] == 3);
  CHECK(answer["dropped"] == 2);
  CHECK(answer["nextSeq"] == 6);
  CHECK(health(emu)["journalEntries"] == 3);
}

// --- the journal wait ------------------------------------------------------------------------

TEST_CASE("control a journal wait already satisfied returns at once and one that times out says so") {
  LiveEmulator emu;
  create(emu);
  auto start = Clock::now();
  auto body = control_json(emu, "GET",
                           "/_emulator/requests/wait?action=CreateCdbDataSyncTask&count=1&timeoutMs=20000");
  CHECK(elapsed_ms(start) < 5000);
  CHECK(body["satisfied"] == true);
  CHECK(body["matched"] == 1);
  CHECK(body["entries"][0]["action"] == "CreateCdbDataSyncTask");

  auto res =
      control(emu, "GET", "/_emulator/requests/wait?action=CheckCdbDataSyncTask&count=1&timeoutMs=100");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"entries":[],"matched":0,"dropped":0,"nextSeq":2,"satisfied":false})");

  // Fewer than count: what is there, not satisfied.
  body =
      control_json(emu, "GET", "/_emulator/requests/wait?action=CreateCdbDataSyncTask&count=2&timeoutMs=100");
  CHECK(body["satisfied"] == false);
  CHECK(body["matched"] == 1);
  CHECK(body["entries"].size() == 1);

  // count=0 is met by nothing at all; count defaults to 1.
  CHECK(control_json(
            emu, "GET",
            "/_emulator/requests/wait?action=DelCdbDataSyncTask&count=0&timeoutMs=20000")["satisfied"] ==
        true);
  start = Clock::now();
  CHECK(control_json(emu, "GET", "/_emulator/requests/wait?timeoutMs=20000")["satisfied"] == true);
  CHECK(elapsed_ms(start) < 5000);
  // since and jobId filter the wait too.
  CHECK(control_json(emu, "GET", "/_emulator/requests/wait?since=1&timeoutMs=50")["satisfied"] == false);
  CHECK(control_json(emu, "GET", "/_emulator/requests/wait?jobId=1&timeoutMs=50")["satisfied"] == true);
  CHECK(control_json(emu, "GET", "/_emulator/requests/wait?jobId=2&timeoutMs=50")["satisfied"] == false);
}

TEST_CASE("control the journal wait returns as soon as the awaited request lands and never before") {
  LiveEmulator emu;
  // Before the awaited request is sent, a wait ends unsatisfied at its timeout.
  CHECK(control_json(
            emu, "GET",
            "/_emulator/requests/wait?action=CheckCdbDataSyncTask&count=1&timeoutMs=100")["satisfied"] ==
        false);

  const auto start = Clock::now();
  Waiter waiter(emu, "/_emulator/requests/wait?action=CheckCdbDataSyncTask&count=1&timeoutMs=20000");
  // Other requests land: the waiter keeps waiting.
  const auto id = create(emu);
  list(emu);
  auto other =
      control_json(emu, "GET", "/_emulator/requests/wait?action=CreateCdbDataSyncTask&count=2&timeoutMs=300");
  CHECK(other["satisfied"] == false);
  CHECK(!waiter.done);

  REQUIRE(act(emu, "CheckCdbDataSyncTask", id) == kOk);
  waiter.join();
  CHECK(elapsed_ms(start) < 5000);  // well before its 20-second timeout
  REQUIRE(waiter.status == 200);
  const auto body = Json::parse(waiter.body);
  CHECK(body["satisfied"] == true);
  CHECK(body["matched"] == 1);
  REQUIRE(body["entries"].size() == 1);
  CHECK(body["entries"][0]["action"] == "CheckCdbDataSyncTask");
  CHECK(body["entries"][0]["seq"] == 3);
  CHECK(body["entries"][0]["code"] == 0);
}

TEST_CASE("control a journal wait for a count returns when the last one lands") {
  LiveEmulator emu;
  const auto start = Clock::now();
  Waiter waiter(emu, "/_emulator/requests/wait?action=GetCdbDataSyncTaskList&count=3&timeoutMs=20000");
  list(emu);
  list(emu);
  CHECK(control_json(
            emu, "GET",
            "/_emulator/requests/wait?action=GetCdbDataSyncTaskList&count=3&timeoutMs=200")["satisfied"] ==
        false);
  CHECK(!waiter.done);
  list(emu);
  waiter.join();
  CHECK(elapsed_ms(start) < 5000);
  REQUIRE(waiter.status == 200);
  const auto body = Json::parse(waiter.body);
  CHECK(body["satisfied"] == true);
  CHECK(seqs(body) == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE("control the journal wait timeout is capped by max_wait_ms") {
  Config cfg = LiveEmulator::default_config();
  cfg.max_wait_ms = 200;
  LiveEmulator emu(cfg);
  const auto start = Clock::now();
  const auto body =
      control_json(emu, "GET", "/_emulator/requests/wait?action=CheckCdbDataSyncTask&timeoutMs=600000");
  CHECK(elapsed_ms(start) < 5000);
  CHECK(body["satisfied"] == false);
}

TEST_CASE("control waits occupy at most half the workers and the others get 429") {
  Config cfg = LiveEmulator::default_config();
  cfg.threads = 4;  // two sleep slots
  LiveEmulator emu(cfg);
  Waiter first(emu, "/_emulator/requests/wait?action=CheckCdbDataSyncTask&timeoutMs=20000");
  Waiter second(emu, "/_emulator/requests/wait?action=CheckCdbDataSyncTask&timeoutMs=20000");
  REQUIRE(until_slots_full(emu));
  // The API is still served, and the awaited request releases both.
  const auto start = Clock::now();
  const auto id = create(emu);
  REQUIRE(act(emu, "CheckCdbDataSyncTask", id) == kOk);
  first.join();
  second.join();
  CHECK(elapsed_ms(start) < 5000);
  CHECK(Json::parse(first.body)["satisfied"] == true);
  CHECK(Json::parse(second.body)["satisfied"] == true);
  // The slots are free again.
  CHECK(control_json(emu, "GET",
                     "/_emulator/requests/wait?action=CheckCdbDataSyncTask&timeoutMs=0")["satisfied"] ==
        true);
}

TEST_CASE("control journal waiters wake on shutdown") {
  Config cfg = LiveEmulator::default_config();
  cfg.threads = 2;  // one sleep slot: a 429 proves the waiter is waiting
  auto emu = std::make_unique<LiveEmulator>(cfg);
  Waiter waiter(*emu, "/_emulator/requests/wait?action=CheckCdbDataSyncTask&timeoutMs=25000");
  REQUIRE(until_slots_full(*emu));
  const auto start = Clock::now();
  emu.reset();
  CHECK(elapsed_ms(start) < 5000);
  waiter.join();
  CHECK(elapsed_ms(start) < 5000);
  if (waiter.status != 0) {
    CHECK(waiter.status == 200);
    CHECK(Json::parse(waiter.body)["satisfied"] == false);
  }
}

// --- the control token -----------------------------------------------------------------------

TEST_CASE("control the token guards every control endpoint and a refused call changes nothing") {
  Config cfg = LiveEmulator::default_config();
  cfg.control_token = "s3cret";
  LiveEmulator emu(cfg);
  // The API itself needs no token.
  const auto id = create(emu);
  const std::vector<std::tuple<std::string, std::string, std::string>> calls = {
      {"GET", "/_emulator/health", ""},
      {"POST", "/_emulator/reset", R"({"resetIds":true})"},
      {"GET", "/_emulator/errors", ""},
      {"GET", "/_emulator/clock", ""},
      {"POST", "/_emulator/clock", R"({"advanceSeconds":5})"},
      {"POST", "/_emulator/faults", R"({"code":9572})"},
      {"GET", "/_emulator/faults", ""},
      {"DELETE", "/_emulator/faults", ""},
      {"DELETE", "/_emulator/faults/f1", ""},
      {"GET", "/_emulator/requests", ""},
      {"GET", "/_emulator/requests/wait?count=1&timeoutMs=20000", ""},
      {"DELETE", "/_emulator/requests", ""},
      {"GET", "/_emulator/nothing", ""},
      {"PUT", "/_emulator/faults", "{}"}};
  for (const auto &[method, path, body] : calls) {
    for (const std::string token : {"", "wrong", "S3CRET"}) {
      CAPTURE(method);
      CAPTURE(path);
      CAPTURE(token);
      auto res = control(emu, method, path, body, token);
      REQUIRE(res);
      CHECK(res->status == 401);
      CHECK(res->body == kTokenRequired);
      CHECK(res->get_header_value("Content-Type") == "application/json");
    }
  }
  {
    // Another scheme with the right secret is not enough either.
    auto cli = emu.client();
    auto res = cli.Get("/_emulator/health", {{"Authorization", "Basic s3cret"}});
    REQUIRE(res);
    CHECK(res->status == 401);
  }
  // Nothing changed: the task, no rule, the journal.
  const auto state = control_json(emu, "GET", "/_emulator/health", "", 200, "s3cret");
  CHECK(state["tasks"] == 1);
  CHECK(state["faults"] == 0);
  CHECK(state["journalEntries"] == 1);
  CHECK(control_json(emu, "GET", "/_emulator/faults", "", 200, "s3cret")["faults"] == Json::array());
  // With the token everything works.
  CHECK(add_fault(emu, R"({"action":"DelCdbDataSyncTask","code":9591,"times":1})", "s3cret") == "f1");
  CHECK(act(emu, "DelCdbDataSyncTask", id) == catalogue_envelope(9591));
  CHECK(control_json(emu, "GET", "/_emulator/requests?action=DelCdbDataSyncTask", "", 200,
                     "s3cret")["matched"] == 1);
  CHECK(control_json(emu, "GET", "/_emulator/requests/wait?action=DelCdbDataSyncTask&timeoutMs=20000", "",
                     200, "s3cret")["satisfied"] == true);
  CHECK(control_json(emu, "GET", "/_emulator/errors", "", 200, "s3cret")["errors"].size() ==
        domain::error_catalogue().size());
  CHECK(control_json(emu, "POST", "/_emulator/reset", "", 200, "s3cret")["reset"] == true);
  CHECK(control_json(emu, "GET", "/_emulator/health", "", 200, "s3cret")["tasks"] == 0);
}

TEST_CASE("control the token guards X-Emulator-* headers on API requests") {
  Config cfg = LiveEmulator::default_config();
  cfg.control_token = "s3cret";
  LiveEmulator emu(cfg);
  const Params params = create_params();
  CHECK(api_answer(emu, params, {{"X-Emulator-Fault", "9572"}}) == "401 " + kHeaderTokenRequired);
  CHECK(api_answer(emu, params, {{"X-Emulator-Delay-Ms", "10"}}) == "401 " + kHeaderTokenRequired);
  CHECK(api_answer(emu, params, {{"X-Emulator-Fault", "9572"}, {"Authorization", "Bearer wrong"}}) ==
        "401 " + kHeaderTokenRequired);
  {
    auto res = api_get(emu, params, {{"X-Emulator-Fault", "9572"}});
    REQUIRE(res);
    CHECK(res->get_header_value("Content-Type") == "application/json");
  }
  CHECK(control_json(emu, "GET", "/_emulator/health", "", 200, "s3cret")["tasks"] == 0);
  // With the token the header applies.
  CHECK(api_answer(emu, params, {{"X-Emulator-Fault", "9572"}, {"Authorization", "Bearer s3cret"}}) ==
        "200 " + catalogue_envelope(9572));
  // None of these used up the nonce or created anything: the plain request works.
  CHECK(emu.get_text(params) == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  CHECK(control_json(emu, "GET", "/_emulator/health", "", 200, "s3cret")["tasks"] == 1);
}

// --- --no-control ----------------------------------------------------------------------------

TEST_CASE("control no-control answers 404 on every control path and ignores X-Emulator-* headers") {
  Config cfg = LiveEmulator::default_config();
  cfg.no_control = true;
  LiveEmulator emu(cfg);
  const std::vector<std::tuple<std::string, std::string, std::string>> calls = {
      {"GET", "/_emulator/health", ""},
      {"GET", "/_emulator/errors", ""},
      {"GET", "/_emulator/clock", ""},
      {"GET", "/_emulator/faults", ""},
      {"GET", "/_emulator/requests", ""},
      {"GET", "/_emulator/requests/wait?count=1&timeoutMs=100", ""},
      {"POST", "/_emulator/reset", ""},
      {"POST", "/_emulator/reset", R"({"resetIds":true})"},
      {"POST", "/_emulator/clock", R"({"advanceSeconds":5})"},
      {"POST", "/_emulator/faults", R"({"code":9572})"},
      {"DELETE", "/_emulator/faults", ""},
      {"DELETE", "/_emulator/faults/f1", ""},
      {"DELETE", "/_emulator/requests", ""},
      {"PUT", "/_emulator/faults", "{}"}};
  for (const auto &[method, path, body] : calls) {
    CAPTURE(method);
    CAPTURE(path);
    CAPTURE(body);
    auto res = control(emu, method, path, body);
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(res->body == kNoEndpoint);
  }
  // The headers are ignored: no fault, no delay, not even a check of their values.
  const Params params = create_params();
  CHECK(api_answer(emu, params, {{"X-Emulator-Fault", "9572"}}) ==
        R"(200 {"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  CHECK(api_answer(emu, create_params(),
                   {{"X-Emulator-Fault", "not-a-code"}, {"X-Emulator-Delay-Ms", "99999999"}})
            .find(R"(200 {"code":0,)") == 0);
  CHECK(api_answer(emu, create_params(), {{"X-Emulator-Delay-Ms", "soon"}}).find(R"(200 {"code":0,)") == 0);
  // The API still works normally, replay protection included.
  CHECK(emu.get(params)["code"] == 4500);
}

TEST_CASE("control a manual clock with no-control is refused at start") {
  ChildEmulator child({"--port", "0", "--db", ":memory:", "--clock", "manual", "--no-control"});
  CHECK(!child.ready());
  const int status = child.wait_exit(std::chrono::seconds(10));
  CHECK(status > 0);
  CHECK(status != 127);  // the binary ran
  CHECK(child.stderr_text().find(
            "--clock manual: needs the control plane to move the clock; drop --no-control") !=
        std::string::npos);
  // Each alone is fine.
  ChildEmulator manual({"--port", "0", "--db", ":memory:", "--clock", "manual"});
  CHECK_MESSAGE(manual.ready(), manual.stderr_text());
  ChildEmulator off({"--port", "0", "--db", ":memory:", "--no-control"});
  CHECK_MESSAGE(off.ready(), off.stderr_text());
}

TEST_CASE("control JSON nested too deep is a 400 and the emulator lives on") {
  LiveEmulator emu;
  auto cli = emu.client();
  const std::string deep = "{\"x\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  for (const char *path : {"/_emulator/faults", "/_emulator/reset", "/_emulator/state", "/_emulator/instances"}) {
    CAPTURE(path);
    auto res = cli.Post(path, deep, "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(res->body == R"({"error":"the body nests deeper than 64 levels"})");
  }
  auto health = cli.Get("/_emulator/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("control every X-Emulator header needs the token") {
  Config cfg = LiveEmulator::default_config();
  cfg.control_token = "t0k3n";
  LiveEmulator emu(cfg);
  Params params = common_params("GetCdbDataSyncTaskList");
  const std::string answer = api_answer(emu, params, {{"X-Emulator-Anything", "1"}});
  CHECK(answer == R"x(401 {"error":"X-Emulator-* headers require \"Authorization: Bearer <token>\" (--control-token)"})x");
}

TEST_CASE("control a huge parameter name does not push the journal out") {
  Config cfg = LiveEmulator::default_config();
  cfg.journal_bytes = 64 * 1024;
  LiveEmulator emu(cfg);
  for (int i = 0; i < 3; ++i) emu.get(common_params("GetCdbDataSyncTaskList"));
  Params params = common_params("GetCdbDataSyncTaskList");
  params.push_back({std::string(200000, 'n'), "x"});
  auto cli = emu.client();
  cli.Post("/v2/index.php", encode_query(sign(params, "POST", emu.host())), "application/x-www-form-urlencoded");
  auto journal = cli.Get("/_emulator/requests");
  REQUIRE(journal);
  const auto body = nlohmann::json::parse(journal->body);
  CHECK(body["entries"].size() == 4);
  CHECK(body["dropped"] == 0);
  CHECK(body["entries"][3]["params"].contains(std::string(256, 'n') + "..."));
}

TEST_CASE("control SIGTERM does not wait out an injected delay") {
  ChildEmulator child({"--port", "0", "--db", ":memory:", "--shutdown-timeout", "20", "--max-delay-ms", "60000"});
  REQUIRE_MESSAGE(child.ready(), child.stderr_text());
  std::thread slow([&] {
    httplib::Client cli("127.0.0.1", child.port());
    cli.set_read_timeout(60);
    cli.Get("/v2/index.php?" + encode_query(sign(common_params("GetCdbDataSyncTaskList"), "GET",
                                                 "127.0.0.1:" + std::to_string(child.port()))),
            {{"X-Emulator-Delay-Ms", "60000"}});
  });
  // Wait until the delayed request is asleep in the emulator.
  httplib::Client probe("127.0.0.1", child.port());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool sleeping = false;
  while (!sleeping && std::chrono::steady_clock::now() < deadline) {
    auto health = probe.Get("/_emulator/health");
    sleeping = health && nlohmann::json::parse(health->body).value("sleepingRequests", 0) == 1;
  }
  REQUIRE(sleeping);
  // Exiting within the 20 s shutdown timeout (code 0, not 1) means the 60 s delay was cut short.
  CHECK(child.stop(SIGTERM, std::chrono::seconds(40)) == 0);
  slow.join();
}
