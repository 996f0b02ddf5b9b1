#pragma once
// Wire times: `yyyy-mm-dd hh:mm:ss` in the service's zone (UTC+8 by default, --timezone).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdbemu::domain {

/// `+08:00`, `-05:30`, `+8`, `UTC`, `Z` → seconds east of UTC.
std::optional<std::int32_t> parse_utc_offset(std::string_view text);

/// `yyyy-mm-dd hh:mm:ss` at `offset` seconds east of UTC; 0 (unset) is `0000-00-00 00:00:00`.
std::string format_time(std::int64_t unix_seconds, std::int32_t offset);

/// The Unix seconds of `yyyy-mm-dd hh:mm:ss` read at `offset`; nullopt unless exactly that shape
/// and a real calendar time.
std::optional<std::int64_t> parse_time(std::string_view text, std::int32_t offset);

}  // namespace cdbemu::domain
