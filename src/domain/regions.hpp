#pragma once
// Tencent Cloud region names: long (`ap-shanghai`), old short (`sh`) and numeric (4) forms.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace cdbemu::domain {

/// One region of the public catalogue.
struct Region {
  std::string_view long_name;   ///< `ap-shanghai`
  std::string_view short_name;  ///< `sh`, or empty when the region has no old short name
  std::int32_t id;              ///< numeric id used in list output; 0 when none is published
  std::int64_t zone_base;       ///< zone ids of the region are zone_base + 1 .. zone_base + 9999
};

/// Every known region.
std::span<const Region> regions();

/// The region named by a long or short name (case-sensitive, as the service is).
std::optional<Region> find_region(std::string_view name);

/// The region with numeric id `id` (0 never matches).
std::optional<Region> find_region_by_id(std::int32_t id);

/// The region named by a long name, a short name, or a decimal numeric id.
std::optional<Region> parse_region(std::string_view text);

/// The region a zone id belongs to. Zone ids are not region id × 100000 as API.md §7 says (its own
/// example, 200001 in ap-shanghai whose id is 4, contradicts that): each region has a published
/// zone prefix, 100000 for ap-guangzhou, 200000 for ap-shanghai, 110000 for ap-shenzhen-fsi ...
std::optional<Region> region_of_zone(std::int64_t zone_id);

}  // namespace cdbemu::domain
