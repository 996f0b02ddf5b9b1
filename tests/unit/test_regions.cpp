#include <doctest/doctest.h>

#include "domain/regions.hpp"

using namespace cdbemu::domain;

TEST_CASE("long and short region names map both ways") {
  const std::tuple<const char *, const char *, int> table[] = {
      {"ap-guangzhou", "gz", 1},  {"ap-shanghai", "sh", 4},       {"ap-hongkong", "hk", 5},
      {"na-toronto", "ca", 6},    {"ap-shanghai-fsi", "shjr", 7}, {"ap-beijing", "bj", 8},
      {"ap-singapore", "sg", 9},  {"ap-shenzhen-fsi", "szjr", 11}, {"na-siliconvalley", "usw", 15},
      {"ap-chengdu", "cd", 16},   {"eu-frankfurt", "de", 17},     {"ap-seoul", "kr", 18},
      {"ap-chongqing", "cq", 19}, {"ap-mumbai", "in", 21},        {"na-ashburn", "use", 22},
      {"ap-bangkok", "th", 23},   {"eu-moscow", "ru", 24}};
  for (const auto &[long_name, short_name, id] : table) {
    CAPTURE(long_name);
    REQUIRE(find_region(long_name));
    CHECK(find_region(short_name)->long_name == long_name);
    CHECK(find_region(long_name)->id == id);
    CHECK(parse_region(std::to_string(id))->long_name == long_name);
  }
  CHECK(find_region("ap-tokyo")->id == 25);
  CHECK(find_region("ap-beijing-bls"));
  CHECK(find_region("gzopen")->long_name == "ap-guangzhou-open");
}

TEST_CASE("unknown names and ids are refused") {
  CHECK_FALSE(find_region("sh1"));
  CHECK_FALSE(find_region(""));
  CHECK_FALSE(find_region("SH"));
  CHECK_FALSE(find_region("1"));  // the common Region takes names only
  CHECK_FALSE(parse_region("0"));
  CHECK_FALSE(parse_region("04"));
  CHECK_FALSE(parse_region("2"));
  CHECK_FALSE(parse_region("99999"));
}

TEST_CASE("a zone id names its region") {
  CHECK(region_of_zone(200001)->long_name == "ap-shanghai");
  CHECK(region_of_zone(100004)->long_name == "ap-guangzhou");
  CHECK(region_of_zone(800001)->long_name == "ap-beijing");
  CHECK(region_of_zone(110001)->long_name == "ap-shenzhen-fsi");
  CHECK(region_of_zone(160002)->long_name == "ap-chengdu");
  CHECK_FALSE(region_of_zone(200));
  CHECK_FALSE(region_of_zone(200000));
  CHECK_FALSE(region_of_zone(500001));
}
