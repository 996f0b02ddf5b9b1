#include "domain/regions.hpp"

#include <array>
#include <charconv>

namespace cdbemu::domain {
namespace {

// API.md §7, with Tencent's zone prefixes. ap-guangzhou-open's id 12 follows the same numbering;
// ap-beijing-bls has no published numeric id, short name or zones.
constexpr std::array kRegions = {
    Region{"ap-guangzhou", "gz", 1, 100000},          Region{"ap-shanghai", "sh", 4, 200000},
    Region{"ap-hongkong", "hk", 5, 300000},           Region{"na-toronto", "ca", 6, 400000},
    Region{"ap-shanghai-fsi", "shjr", 7, 700000},     Region{"ap-beijing", "bj", 8, 800000},
    Region{"ap-singapore", "sg", 9, 900000},          Region{"ap-shenzhen-fsi", "szjr", 11, 110000},
    Region{"ap-guangzhou-open", "gzopen", 12, 120000}, Region{"na-siliconvalley", "usw", 15, 150000},
    Region{"ap-chengdu", "cd", 16, 160000},           Region{"eu-frankfurt", "de", 17, 170000},
    Region{"ap-seoul", "kr", 18, 180000},             Region{"ap-chongqing", "cq", 19, 190000},
    Region{"ap-mumbai", "in", 21, 210000},            Region{"na-ashburn", "use", 22, 220000},
    Region{"ap-bangkok", "th", 23, 230000},           Region{"eu-moscow", "ru", 24, 240000},
    Region{"ap-tokyo", "", 25, 250000},               Region{"ap-beijing-bls", "", 0, 0},
};

}  // namespace

std::span<const Region> regions() { return kRegions; }

std::optional<Region> find_region(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (const auto &region : kRegions) {
    if (region.long_name == name || region.short_name == name) return region;
  }
  return std::nullopt;
}

std::optional<Region> find_region_by_id(std::int32_t id) {
  if (id == 0) return std::nullopt;
  for (const auto &region : kRegions) {
    if (region.id == id) return region;
  }
  return std::nullopt;
}

std::optional<Region> parse_region(std::string_view text) {
  if (auto region = find_region(text)) return region;
  if (text.empty() || text.size() > 4 || text.front() == '0') return std::nullopt;
  std::int32_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return find_region_by_id(id);
}

std::optional<Region> region_of_zone(std::int64_t zone_id) {
  for (const auto &region : kRegions) {
    if (region.zone_base > 0 && zone_id > region.zone_base && zone_id < region.zone_base + 10000) return region;
  }
  return std::nullopt;
}

}  // namespace cdbemu::domain
