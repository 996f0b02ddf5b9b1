// CreateCdbDataSyncTask end to end: the seed request, every transport, ids, restarts.

#include <doctest/doctest.h>

#include "store/store.hpp"
#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

Params create_request(const std::string &region = "gz") {
  Params params = common_params("CreateCdbDataSyncTask", region);
  for (auto &p : seed_create_params()) params.push_back(p);
  return params;
}

Config file_config(const std::string &db) {
  Config cfg = LiveEmulator::default_config();
  cfg.db = db;
  return cfg;
}

void remove_db(const std::string &db) {
  for (const char *suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}

}  // namespace

TEST_CASE("the seed request verbatim creates task 1 with the exact envelope") {
  Config cfg = LiveEmulator::default_config();
  cfg.auth = "off";  // the seed's request carries placeholder credentials and an old Timestamp
  LiveEmulator emu(cfg);
  auto cli = emu.client();
  const std::string target =
      "/v2/index.php?Action=CreateCdbDataSyncTask&Region=gz&Timestamp=1700000000&Nonce=1&SecretId=x&Signature=x"
      "&jobName=myJobName&srcInfo.0.cdbUInstanceId=cdb-c1nl9rpv&srcInfo.0.dbInfo.0.database=myDB"
      "&srcInfo.0.dbInfo.0.table.0=myTable0&srcInfo.0.dbInfo.0.table.1=myTable1&srcInfo.0.isOverrideRoot=0"
      "&dstInfo.0.cdbUInstanceId=cdb-d2sagyed&dstInfo.0.regionId=sh&dstInfo.0.zoneId=200001";
  auto res = cli.Get(target);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  CHECK(res->get_header_value("Content-Type") == "application/json");
  CHECK(res->get_header_value("X-Emulator-Request-Id").size() == 16);
  auto second = cli.Get(target);
  REQUIRE(second);
  CHECK(second->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":2}})");
}

TEST_CASE("GET and urlencoded and multipart POST store the same task") {
  const std::string db = temp_path(".db");
  {
    LiveEmulator emu(file_config(db));
    CHECK(emu.get(create_request())["data"]["jobId"] == 1);
    CHECK(emu.post_form(create_request())["data"]["jobId"] == 2);
    CHECK(emu.post_multipart(create_request())["data"]["jobId"] == 3);
  }
  store::Store store(db);
  const auto first = store.find_task(1);
  REQUIRE(first);
  CHECK(first->job_name == "myJobName");
  CHECK(first->region == "ap-guangzhou");
  CHECK(first->status == 1);
  CHECK(first->src_instance_id == "cdb-c1nl9rpv");
  CHECK(first->src_region_id == 1);
  REQUIRE(first->src_db_info.size() == 1);
  CHECK(first->src_db_info[0].database == "myDB");
  CHECK(first->src_db_info[0].tables == std::vector<std::string>{"myTable0", "myTable1"});
  CHECK(first->is_override_root == 0);
  CHECK(first->dst_instance_id == "cdb-d2sagyed");
  CHECK(first->dst_region_id == 4);
  CHECK(first->dst_zone_id == 200001);
  CHECK(first->submit_time > 1700000000);
  for (std::int64_t id : {2, 3}) {
    auto other = store.find_task(id);
    REQUIRE(other);
    other->job_id = first->job_id;
    other->submit_time = first->submit_time;
    other->update_time = first->update_time;
    CHECK(other->job_name == first->job_name);
    CHECK(other->src_db_info[0].tables == first->src_db_info[0].tables);
    CHECK(other->dst_zone_id == first->dst_zone_id);
    CHECK(other->dst_region_id == first->dst_region_id);
  }
  remove_db(db);
}

TEST_CASE("a 2000-table task by POST keeps every table in order") {
  const std::string db = temp_path(".db");
  {
    LiveEmulator emu(file_config(db));
    Params params = common_params("CreateCdbDataSyncTask");
    params.push_back({"jobName", "big"});
    params.push_back({"srcInfo.0.cdbUInstanceId", "cdb-c1nl9rpv"});
    params.push_back({"srcInfo.0.dbInfo.0.database", "db"});
    // Indices arrive in reverse order: the tree must still put them in index order.
    for (int i = 1999; i >= 0; --i) {
      params.push_back({"srcInfo.0.dbInfo.0.table." + std::to_string(i), "table_" + std::to_string(i)});
    }
    params.push_back({"dstInfo.0.cdbUInstanceId", "cdb-d2sagyed"});
    params.push_back({"dstInfo.0.region", "ap-shanghai"});
    CHECK(emu.post_form(params).dump() == R"({"code":0,"codeDesc":"Success","data":{"jobId":1},"message":""})");
    for (auto &[name, value] : params) {
      if (name == "Nonce") value = next_nonce();
    }
    CHECK(emu.post_multipart(params)["data"]["jobId"] == 2);
  }
  store::Store store(db);
  for (std::int64_t id : {1, 2}) {
    const auto task = store.find_task(id);
    REQUIRE(task);
    REQUIRE(task->src_db_info.at(0).tables.size() == 2000);
    CHECK(task->src_db_info[0].tables.front() == "table_0");
    CHECK(task->src_db_info[0].tables[1234] == "table_1234");
    CHECK(task->src_db_info[0].tables.back() == "table_1999");
  }
  remove_db(db);
}

TEST_CASE("ids keep growing across a restart on the same database") {
  const std::string db = temp_path(".db");
  {
    LiveEmulator emu(file_config(db));
    CHECK(emu.get(create_request())["data"]["jobId"] == 1);
    CHECK(emu.get(create_request())["data"]["jobId"] == 2);
  }
  {
    LiveEmulator emu(file_config(db));
    CHECK(emu.get(create_request())["data"]["jobId"] == 3);
  }
  {
    Config cfg = file_config(db);
    cfg.first_job_id = 100;
    LiveEmulator emu(cfg);
    CHECK(emu.get(create_request())["data"]["jobId"] == 100);
  }
  {
    Config cfg = file_config(db);
    cfg.first_job_id = 1;  // never lowers the counter
    LiveEmulator emu(cfg);
    CHECK(emu.get(create_request())["data"]["jobId"] == 101);
  }
  remove_db(db);
}

TEST_CASE("string-code sends the success code as a string") {
  Config cfg = LiveEmulator::default_config();
  cfg.string_code = true;
  LiveEmulator emu(cfg);
  auto cli = emu.client();
  auto res = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", emu.host())));
  REQUIRE(res);
  CHECK(res->body == R"({"code":"0","message":"","codeDesc":"Success","data":{"jobId":1}})");
}

TEST_CASE("a POST merges its query string with its body") {
  LiveEmulator emu;
  auto cli = emu.client();
  // Signed over all parameters; the common ones travel in the query string, the rest in the body.
  const Params all = sign(create_request(), "POST", emu.host());
  const Params query(all.begin(), all.begin() + 6);
  const Params body(all.begin() + 6, all.end());
  auto res = cli.Post("/v2/index.php?" + encode_query(query), encode_query(body), "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
}

TEST_CASE("a body is judged by its content when its Content-Type lies") {
  LiveEmulator emu;
  auto cli = emu.client();
  auto res = cli.Post("/v2/index.php", encode_query(sign(create_request(), "POST", emu.host())), "application/json");
  REQUIRE(res);
  CHECK(res->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  auto json = cli.Post("/v2/index.php", R"({"Action":"CreateCdbDataSyncTask"})", "application/json");
  REQUIRE(json);
  CHECK(json->body ==
        R"({"code":4000,"message":"invalid parameter: the body is JSON; API 2.0 takes application/x-www-form-urlencoded or multipart/form-data","codeDesc":"InvalidParameter"})");
}

TEST_CASE("chunked and gzip-compressed bodies are decoded") {
  LiveEmulator emu;
  const std::string body = encode_query(sign(create_request(), "POST", "x"));
  std::string chunked;
  for (std::size_t i = 0; i < body.size(); i += 100) {
    const std::string piece = body.substr(i, 100);
    char size[16];
    std::snprintf(size, sizeof(size), "%zx", piece.size());
    chunked += std::string(size) + "\r\n" + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  const std::string reply = raw_exchange(emu.port(),
                                         "POST /v2/index.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                         "Content-Type: application/x-www-form-urlencoded\r\n"
                                         "Transfer-Encoding: chunked\r\n\r\n" + chunked);
  CHECK(reply.find(R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})") != std::string::npos);

  auto cli = emu.client();
  cli.set_compress(true);
  auto res = cli.Post("/v2/index.php", encode_query(sign(create_request(), "POST", emu.host())),
                      "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":2}})");
}
