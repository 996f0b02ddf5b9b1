// CreateCdbDataSyncTask's rules, in the order of the issue (first match answers), each branch
// with its exact code, codeDesc and message; then requests breaking two rules at once.

#include <doctest/doctest.h>

#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

/// A request edit: set (or add) a parameter, or remove every parameter with a prefix.
struct Edit {
  std::string name;
  std::optional<std::string> value;  ///< nullopt: remove `name` and everything under it
};

Params create_request(const std::vector<Edit> &edits) {
  Params params = common_params("CreateCdbDataSyncTask");
  for (auto &p : seed_create_params()) params.push_back(p);
  for (const auto &edit : edits) {
    if (!edit.value) {
      std::erase_if(params, [&](const auto &p) {
        return p.first == edit.name || p.first.rfind(edit.name + ".", 0) == 0;
      });
      continue;
    }
    bool found = false;
    for (auto &p : params) {
      if (p.first == edit.name) {
        p.second = *edit.value;
        found = true;
      }
    }
    if (!found) params.push_back({edit.name, *edit.value});
  }
  return params;
}

std::string error(int code, const std::string &desc, const std::string &message) {
  nlohmann::ordered_json body;
  body["code"] = code;
  body["message"] = message;
  body["codeDesc"] = desc;
  return body.dump();
}

std::string e9003(const std::string &detail) { return error(9003, "InvalidParameter", "parameter error: " + detail); }
std::string e30004(const std::string &detail) { return error(30004, "InvalidParameter", "bad source information: " + detail); }
std::string e30005(const std::string &detail) {
  return error(30005, "InvalidParameter", "bad destination information: " + detail);
}
std::string e9572(const std::string &detail) { return error(9572, "InstanceNotExists", "instance does not exist: " + detail); }
std::string e30013(const std::string &detail) {
  return error(30013, "InvalidParameter", "bad instance region information: " + detail);
}

const std::optional<std::string> kRemove = std::nullopt;

}  // namespace

TEST_CASE("rule 1: jobName missing or empty is 9003") {
  LiveEmulator emu;
  CHECK(emu.get_text(create_request({{"jobName", kRemove}})) == e9003("jobName is required"));
  CHECK(emu.get_text(create_request({{"jobName", ""}})) == e9003("jobName is required"));
  CHECK(emu.get_text(create_request({{"jobName", kRemove}, {"jobName.0", "x"}})) ==
        e9003("jobName must be a single value, not a list or object"));
}

TEST_CASE("rule 2: every way srcInfo can be wrong is 30004") {
  LiveEmulator emu;
  CHECK(emu.get_text(create_request({{"srcInfo", kRemove}})) == e30004("srcInfo is required"));
  CHECK(emu.get_text(create_request({{"srcInfo", kRemove}, {"srcInfo.cdbUInstanceId", "cdb-c1nl9rpv"}})) ==
        e30004("srcInfo must be an indexed list (srcInfo.0.cdbUInstanceId=...), not a plain object "
               "(srcInfo.cdbUInstanceId=...): pass an array of one object, not an object"));
  CHECK(emu.get_text(create_request({{"srcInfo", kRemove}, {"srcInfo", "cdb-c1nl9rpv"}})) ==
        e30004("srcInfo must be a list of one object (srcInfo.0.cdbUInstanceId=...)"));
  CHECK(emu.get_text(create_request({{"srcInfo.1.cdbUInstanceId", "cdb-5u7czxdx"}})) ==
        e30004("srcInfo must have exactly one element, got 2"));
  CHECK(emu.get_text(create_request({{"srcInfo", kRemove}, {"srcInfo.0", "cdb-c1nl9rpv"}})) ==
        e30004("srcInfo.0 must be an object with cdbUInstanceId"));
  CHECK(emu.get_text(create_request({{"srcInfo.0.cdbUInstanceId", kRemove}})) ==
        e30004("srcInfo.0.cdbUInstanceId is required"));
  CHECK(emu.get_text(create_request({{"srcInfo.0.cdbUInstanceId", ""}})) ==
        e30004("srcInfo.0.cdbUInstanceId is required"));
  for (const std::string bad : {"2", "01", "-1", "true", ""}) {
    CAPTURE(bad);
    CHECK(emu.get_text(create_request({{"srcInfo.0.isOverrideRoot", bad}})) ==
          e30004("srcInfo.0.isOverrideRoot must be 0 or 1"));
  }
  CHECK(emu.get_text(create_request({{"srcInfo.0.dbInfo.1.table.0", "t"}})) ==
        e30004("srcInfo.0.dbInfo.1.database is required"));
  CHECK(emu.get_text(create_request({{"srcInfo.0.dbInfo.0.database", ""}})) ==
        e30004("srcInfo.0.dbInfo.0.database is required"));
  CHECK(emu.get_text(create_request({{"srcInfo.0.dbInfo.0.table.1", ""}})) ==
        e30004("srcInfo.0.dbInfo.0.table.1 is an empty table name"));
  CHECK(emu.get_text(create_request({{"srcInfo.0.dbInfo", kRemove}, {"srcInfo.0.dbInfo.database", "db"}})) ==
        e30004("srcInfo.0.dbInfo must be an indexed list (srcInfo.0.dbInfo.0.database=...)"));
  CHECK(emu.get_text(create_request({{"srcInfo.0.dbInfo.0.table", kRemove}, {"srcInfo.0.dbInfo.0.table", "t"}})) ==
        e30004("srcInfo.0.dbInfo.0.table must be an indexed list (srcInfo.0.dbInfo.0.table.0=...)"));
}

TEST_CASE("rule 2 accepts the documented optional parts") {
  LiveEmulator emu;
  // isOverrideRoot absent means 0; dbInfo absent means the whole instance; table absent means all tables.
  CHECK(emu.get(create_request({{"srcInfo.0.isOverrideRoot", kRemove}}))["code"] == 0);
  CHECK(emu.get(create_request({{"srcInfo.0.dbInfo", kRemove}}))["code"] == 0);
  CHECK(emu.get(create_request({{"srcInfo.0.dbInfo.0.table", kRemove}}))["code"] == 0);
  CHECK(emu.get(create_request({{"srcInfo.0.isOverrideRoot", "1"}}))["code"] == 0);
  // PHP-style names: `_` for `.`.
  CHECK(emu.get(create_request({{"srcInfo.0.cdbUInstanceId", kRemove}, {"srcInfo_0_cdbUInstanceId", "cdb-c1nl9rpv"}}))["code"] == 0);
}

TEST_CASE("rule 3: every way dstInfo can be wrong is 30005") {
  LiveEmulator emu;
  CHECK(emu.get_text(create_request({{"dstInfo", kRemove}})) == e30005("dstInfo is required"));
  CHECK(emu.get_text(create_request({{"dstInfo", kRemove},
                                     {"dstInfo.cdbUInstanceId", "cdb-d2sagyed"},
                                     {"dstInfo.regionId", "sh"}})) ==
        e30005("dstInfo must be an indexed list (dstInfo.0.cdbUInstanceId=...), not a plain object "
               "(dstInfo.cdbUInstanceId=...): pass an array of one object, not an object"));
  CHECK(emu.get_text(create_request({{"dstInfo.1.cdbUInstanceId", "cdb-ek0t57qd"}})) ==
        e30005("dstInfo must have exactly one element, got 2"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.cdbUInstanceId", kRemove}})) ==
        e30005("dstInfo.0.cdbUInstanceId is required"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.regionId", kRemove}})) ==
        e30005("dstInfo.0.region (or dstInfo.0.regionId) is required"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.regionId", ""}})) ==
        e30005("dstInfo.0.region (or dstInfo.0.regionId) is required"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.region", "bj"}})) ==
        e30005("dstInfo.0.region and dstInfo.0.regionId name different regions"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.region", "sh1"}})) ==
        e30005("dstInfo.0.region and dstInfo.0.regionId name different regions"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.cdbUInstanceId", "cdb-c1nl9rpv"}})) ==
        e30005("dstInfo.0.cdbUInstanceId must differ from the source instance"));
  for (const std::string bad : {"abc", "0200001", "-1", "2000011234"}) {
    CAPTURE(bad);
    CHECK(emu.get_text(create_request({{"dstInfo.0.zoneId", bad}})) ==
          e30005("dstInfo.0.zoneId must be a numeric zone id such as 200001"));
  }
}

TEST_CASE("rule 3 accepts region and regionId in every form") {
  LiveEmulator emu;
  for (const std::string region : {"sh", "ap-shanghai", "4"}) {
    CAPTURE(region);
    CHECK(emu.get(create_request({{"dstInfo.0.regionId", kRemove}, {"dstInfo.0.region", region}}))["code"] == 0);
    CHECK(emu.get(create_request({{"dstInfo.0.regionId", region}}))["code"] == 0);
    CHECK(emu.get(create_request({{"dstInfo.0.region", region}}))["code"] == 0);  // both, same region
  }
  CHECK(emu.get(create_request({{"dstInfo.0.zoneId", kRemove}}))["code"] == 0);
}

TEST_CASE("rule 4: an unknown source or destination is 9572 and the source is checked first") {
  LiveEmulator emu;
  CHECK(emu.get_text(create_request({{"srcInfo.0.cdbUInstanceId", "cdb-zzzzzzzz"}})) ==
        e9572("srcInfo.0.cdbUInstanceId \"cdb-zzzzzzzz\""));
  CHECK(emu.get_text(create_request({{"dstInfo.0.cdbUInstanceId", "cdb-yyyyyyyy"}})) ==
        e9572("dstInfo.0.cdbUInstanceId \"cdb-yyyyyyyy\""));
  CHECK(emu.get_text(create_request({{"srcInfo.0.cdbUInstanceId", "cdb-zzzzzzzz"},
                                     {"dstInfo.0.cdbUInstanceId", "cdb-yyyyyyyy"}})) ==
        e9572("srcInfo.0.cdbUInstanceId \"cdb-zzzzzzzz\""));
  // Control bytes are never echoed raw.
  CHECK(emu.get_text(create_request({{"srcInfo.0.cdbUInstanceId", "cdb-\x01\n\""}})) ==
        e9572("srcInfo.0.cdbUInstanceId \"cdb-\\x01\\x0A\\\"\""));
}

TEST_CASE("rule 5: regions and zones that do not match the instances are 30013") {
  LiveEmulator emu;
  CHECK(emu.get_text(create_request({{"Region", "sh"}})) ==
        e30013("Region ap-shanghai is not the region of source cdb-c1nl9rpv (ap-guangzhou)"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.regionId", "sh1"}})) ==
        e30013("dstInfo.0.regionId \"sh1\" is not a known region"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.regionId", kRemove}, {"dstInfo.0.region", "99"}})) ==
        e30013("dstInfo.0.region \"99\" is not a known region"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.regionId", "bj"}})) ==
        e30013("dstInfo.0.regionId ap-beijing is not the region of destination cdb-d2sagyed (ap-shanghai)"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.zoneId", "200002"}})) ==
        e30013("dstInfo.0.zoneId 200002 is not the zone of destination cdb-d2sagyed (200001)"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.zoneId", "999999"}})) ==
        e30013("dstInfo.0.zoneId 999999 is not the zone of destination cdb-d2sagyed (200001)"));
}

TEST_CASE("rule 6: the source must be a master and the destination a DR instance") {
  LiveEmulator emu;
  CHECK(emu.get_text(create_request({{"srcInfo.0.cdbUInstanceId", "cdb-drgz0003"}})) ==
        e30004("source cdb-drgz0003 is not a master instance"));
  CHECK(emu.get_text(create_request({{"dstInfo.0.cdbUInstanceId", "cdb-5u7czxdx"},
                                     {"dstInfo.0.regionId", "gz"},
                                     {"dstInfo.0.zoneId", kRemove}})) ==
        e30005("destination cdb-5u7czxdx is not a disaster-recovery instance"));
}

TEST_CASE("rule 7: a destination in a zone without disaster recovery is 30012") {
  LiveEmulator emu;
  CHECK(emu.get_text(create_request({{"dstInfo.0.cdbUInstanceId", "cdb-drnodr04"},
                                     {"dstInfo.0.regionId", "gz"},
                                     {"dstInfo.0.zoneId", "100004"}})) ==
        error(30012, "OperationDenied",
              "this zone does not support disaster recovery: zone 100004 of destination cdb-drnodr04 does not "
              "support disaster recovery"));
  // The same region's other zone supports it.
  CHECK(emu.get(create_request({{"dstInfo.0.cdbUInstanceId", "cdb-drgz0003"},
                                {"dstInfo.0.regionId", "gz"},
                                {"dstInfo.0.zoneId", "100003"}}))["code"] == 0);
}

TEST_CASE("a request breaking two rules gets the earlier rule's answer") {
  LiveEmulator emu;
  struct Case {
    const char *what;
    std::vector<Edit> edits;
    int code;
  };
  const Case cases[] = {
      {"common Region + rule 1", {{"Region", "xx"}, {"jobName", kRemove}}, 4000},
      {"rule 1 + rule 2", {{"jobName", kRemove}, {"srcInfo", kRemove}}, 9003},
      {"rule 1 + rule 4", {{"jobName", ""}, {"srcInfo.0.cdbUInstanceId", "cdb-zzzzzzzz"}}, 9003},
      {"rule 2 + rule 3", {{"srcInfo.0.isOverrideRoot", "9"}, {"dstInfo", kRemove}}, 30004},
      {"rule 3 + rule 4", {{"dstInfo.0.regionId", kRemove}, {"srcInfo.0.cdbUInstanceId", "cdb-zzzzzzzz"}}, 30005},
      {"rule 4 + rule 5", {{"dstInfo.0.cdbUInstanceId", "cdb-zzzzzzzz"}, {"Region", "sh"}}, 9572},
      {"rule 5 + rule 6", {{"srcInfo.0.cdbUInstanceId", "cdb-drgz0003"}, {"Region", "sh"}}, 30013},
      {"rule 5 + rule 7",
       {{"dstInfo.0.cdbUInstanceId", "cdb-drnodr04"}, {"dstInfo.0.regionId", "gz"}, {"dstInfo.0.zoneId", "100003"}},
       30013},
      {"rule 6 source + rule 6 destination",
       {{"srcInfo.0.cdbUInstanceId", "cdb-drgz0003"}, {"dstInfo.0.cdbUInstanceId", "cdb-5u7czxdx"},
        {"dstInfo.0.regionId", "gz"}, {"dstInfo.0.zoneId", kRemove}},
       30004},
  };
  for (const auto &c : cases) {
    CAPTURE(c.what);
    // Twice: the answer is deterministic.
    const std::string first = emu.get_text(create_request(c.edits));
    CHECK(nlohmann::json::parse(first)["code"] == c.code);
    CHECK(emu.get_text(create_request(c.edits)) == first);
  }
}

TEST_CASE("a rejected Create stores nothing and does not consume an id") {
  LiveEmulator emu;
  CHECK(emu.get(create_request({{"jobName", kRemove}}))["code"] == 9003);
  CHECK(emu.get(create_request({{"dstInfo.0.zoneId", "200002"}}))["code"] == 30013);
  CHECK(emu.get(create_request({}))["data"]["jobId"] == 1);
}
