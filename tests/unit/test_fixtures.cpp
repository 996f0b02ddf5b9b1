#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "domain/fixtures.hpp"

using namespace cdbemu::domain;

namespace {

std::string error_of(const std::string &text) {
  try {
    parse_instances(text, "instances.json");
  } catch (const FixtureError &e) {
    return e.what();
  }
  return "";
}

/// A file with one instance whose fields are `fields` (a JSON object body).
std::string one_instance(const std::string &fields) { return "{\"instances\": [\n{" + fields + "}\n]}"; }

const std::string kValid = R"("id": "a", "region": "sh", "zoneId": 200001, "role": "dr")";

}  // namespace

TEST_CASE("the built-in fixtures reach every Create rule") {
  const auto fixtures = parse_instances(read_fixture("", "instances.json"), "built-in");
  auto find = [&](const std::string &id) {
    for (const auto &i : fixtures.instances) {
      if (i.instance_id == id) return i;
    }
    FAIL("missing " << id);
    return fixtures.instances.front();
  };
  CHECK(find("cdb-c1nl9rpv").region == "ap-guangzhou");
  CHECK(find("cdb-c1nl9rpv").role == "master");
  CHECK(find("cdb-d2sagyed").region == "ap-shanghai");
  CHECK(find("cdb-d2sagyed").zone_id == 200001);
  CHECK(find("cdb-d2sagyed").role == "dr");
  CHECK(find("cdb-5u7czxdx").role == "master");
  CHECK(find("cdb-ek0t57qd").role == "dr");
  CHECK(find("cdb-drnodr04").zone_id == 100004);
  CHECK_FALSE(find("cdb-drfull01").is_empty);
  CHECK(find("cdb-drv56001").engine_version == "5.6");
  CHECK(find("cdb-other001").uin == "100000000002");
  REQUIRE(fixtures.zones.size() == 1);
  CHECK(fixtures.zones[0].zone_id == 100004);
  CHECK_FALSE(fixtures.zones[0].disaster_recovery);
}

TEST_CASE("defaults of the optional instance fields") {
  const auto fixtures = parse_instances(one_instance(kValid), "x");
  const auto &i = fixtures.instances.at(0);
  CHECK(i.region == "ap-shanghai");
  CHECK(i.engine_version == "5.7");
  CHECK(i.is_empty);
  CHECK(i.app_id == 1250000000);
  CHECK(i.uin == "100000000001");
}

TEST_CASE("a broken instances file names the file and line and field") {
  CHECK(error_of("{\"instances\": [\n  {" + kValid + "},\n  {\"id\": \"b\", \"region\": \"sh1\", \"zoneId\": 200001, \"role\": \"dr\"}\n]}") ==
        "instances.json:3: instances[1].region: unknown region \"sh1\"");
  CHECK(error_of(one_instance(R"("id": "a", "region": "sh", "zoneId": 100001, "role": "dr")")) ==
        "instances.json:2: instances[0].zoneId: zone 100001 is not in region ap-shanghai");
  CHECK(error_of(one_instance(R"("id": "a", "region": "sh", "zoneId": "200001", "role": "dr")")) ==
        "instances.json:2: instances[0].zoneId: must be an integer zone id such as 200001");
  CHECK(error_of(one_instance(R"("id": "a", "region": "sh", "zoneId": 200001, "role": "slave")")) ==
        "instances.json:2: instances[0].role: must be \"master\" or \"dr\"");
  CHECK(error_of(one_instance(R"("id": "", "region": "sh", "zoneId": 200001, "role": "dr")")) ==
        "instances.json:2: instances[0].id: must not be empty");
  CHECK(error_of(one_instance(R"("region": "sh", "zoneId": 200001, "role": "dr")")) ==
        "instances.json:2: instances[0].id: must be a string");
  CHECK(error_of(one_instance(kValid + R"(, "x": 1)")) == "instances.json:2: instances[0].x: unknown field");
  CHECK(error_of(one_instance(kValid + R"(, "engineVersion": "9.1")")) ==
        "instances.json:2: instances[0].engineVersion: must be one of 5.5, 5.6, 5.7, 8.0");
  CHECK(error_of(one_instance(kValid + R"(, "empty": "no")")) == "instances.json:2: instances[0].empty: must be true or false");
  CHECK(error_of(one_instance(kValid + R"(, "appId": -3)")) == "instances.json:2: instances[0].appId: must be a positive integer AppId");
  CHECK(error_of(one_instance(kValid + R"(, "uin": "12a")")) == "instances.json:2: instances[0].uin: must be a string of digits");
  CHECK(error_of("{\"instances\": [\n{" + kValid + "},\n{" + kValid + "}]}") ==
        "instances.json:3: instances[1].id: duplicate instance id \"a\"");
  CHECK(error_of("{\"instances\": [\n1]}") == "instances.json:2: instances[0]: must be an object");
  CHECK(error_of("{\"instances\": [}").rfind("instances.json:1: not valid JSON", 0) == 0);
  CHECK(error_of("{\n\n\"instances\": [1,}").rfind("instances.json:3: not valid JSON", 0) == 0);
  CHECK(error_of("[]") == "instances.json:1: the file must be an object with an \"instances\" array");
  CHECK(error_of(R"({"instances": [], "zone": []})") == "instances.json:1: unknown top-level field \"zone\"");
}

TEST_CASE("a broken zone entry names its line and field") {
  CHECK(error_of("{\"zones\": [\n{\"zoneId\": 999999, \"disasterRecovery\": false}], \"instances\": []}") ==
        "instances.json:2: zones[0].zoneId: zone 999999 is in no known region");
  CHECK(error_of("{\"zones\": [\n{\"zoneId\": 100004}], \"instances\": []}") ==
        "instances.json:2: zones[0].disasterRecovery: must be true or false");
  CHECK(error_of("{\"zones\": [{\"zoneId\": 100004, \"disasterRecovery\": false},\n"
                 "{\"zoneId\": 100004, \"disasterRecovery\": true}], \"instances\": []}") ==
        "instances.json:2: zones[1].zoneId: duplicate zone 100004");
}

TEST_CASE("a fixture file that is missing or not a file says which") {
  const auto error_reading = [](const std::string &dir) {
    try {
      read_fixture(dir, "instances.json");
    } catch (const FixtureError &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_reading("/nonexistent-dir") == "/nonexistent-dir/instances.json: does not exist");
  const auto dir = std::filesystem::temp_directory_path() / ("cdbemu-fixture-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "instances.json");
  CHECK(error_reading(dir.string()) == dir.string() + "/instances.json: cannot be read (not a regular file)");
  std::filesystem::remove_all(dir);
}
