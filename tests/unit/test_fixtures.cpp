#include <doctest/doctest.h>

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

}  // namespace

TEST_CASE("the built-in instances hold the seed's and the list example's instances") {
  const auto instances = parse_instances(read_fixture("", "instances.json"), "built-in");
  auto find = [&](const std::string &id) {
    for (const auto &i : instances) {
      if (i.instance_id == id) return i;
    }
    FAIL("missing " << id);
    return instances.front();
  };
  CHECK(find("cdb-c1nl9rpv").region == "ap-guangzhou");
  CHECK(find("cdb-c1nl9rpv").role == "master");
  CHECK(find("cdb-d2sagyed").region == "ap-shanghai");
  CHECK(find("cdb-d2sagyed").zone_id == 200001);
  CHECK(find("cdb-d2sagyed").role == "dr");
  CHECK(find("cdb-5u7czxdx").role == "master");
  CHECK(find("cdb-ek0t57qd").role == "dr");
}

TEST_CASE("a broken instances file names the file and line and field") {
  CHECK(error_of("{\"instances\": [\n  {\"id\": \"a\", \"region\": \"sh\", \"zoneId\": 200001, \"role\": \"dr\"},\n"
                 "  {\"id\": \"b\", \"region\": \"sh1\", \"zoneId\": 200001, \"role\": \"dr\"}\n]}") ==
        "instances.json:3: instances[1].region: unknown region \"sh1\"");
  CHECK(error_of("{\"instances\": [\n{\"id\": \"a\", \"region\": \"sh\", \"zoneId\": 100001, \"role\": \"dr\"}]}") ==
        "instances.json:2: instances[0].zoneId: zone 100001 is not in region ap-shanghai");
  CHECK(error_of("{\"instances\": [{\"id\": \"a\", \"region\": \"sh\", \"zoneId\": 200001, \"role\": \"slave\"}]}") ==
        "instances.json:1: instances[0].role: must be \"master\" or \"dr\"");
  CHECK(error_of("{\"instances\": [{\"id\": \"a\", \"region\": \"sh\", \"zoneId\": 200001, \"role\": \"dr\", \"x\": 1}]}") ==
        "instances.json:1: instances[0].x: unknown field");
  CHECK(error_of("{\"instances\": [\n{\"id\": \"a\", \"region\": \"sh\", \"zoneId\": 200001, \"role\": \"dr\"},\n"
                 "{\"id\": \"a\", \"region\": \"sh\", \"zoneId\": 200001, \"role\": \"dr\"}]}") ==
        "instances.json:3: instances[1].id: duplicate instance id \"a\"");
  CHECK(error_of("{\"instances\": [}").rfind("instances.json:1: not valid JSON", 0) == 0);
  CHECK(error_of("[]") == "instances.json:1: the file must be an object with an \"instances\" array");
}
