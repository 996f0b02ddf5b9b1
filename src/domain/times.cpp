#include "domain/times.hpp"

#include <charconv>
#include <cstdio>

namespace cdbemu::domain {
namespace {

// Howard Hinnant's civil-calendar algorithms (public domain).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t &y, unsigned &m, unsigned &d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

bool read_number(std::string_view text, std::size_t at, std::size_t digits, int &out) {
  if (at + digits > text.size()) return false;
  for (std::size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return std::from_chars(text.data() + at, text.data() + at + digits, out).ec == std::errc{};
}

}  // namespace

std::optional<std::int32_t> parse_utc_offset(std::string_view text) {
  if (text == "UTC" || text == "Z" || text == "utc") return 0;
  if (text.size() < 2 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  const int sign = text[0] == '-' ? -1 : 1;
  int hours = 0;
  int minutes = 0;
  const std::string_view rest = text.substr(1);
  if (rest.size() == 5 && rest[2] == ':') {
    if (!read_number(rest, 0, 2, hours) || !read_number(rest, 3, 2, minutes)) return std::nullopt;
  } else if (rest.size() <= 2) {
    if (!read_number(rest, 0, rest.size(), hours)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (hours > 14 || minutes > 59) return std::nullopt;
  return sign * (hours * 3600 + minutes * 60);
}

std::string format_time(std::int64_t unix_seconds, std::int32_t offset) {
  if (unix_seconds == 0) return "0000-00-00 00:00:00";
  const std::int64_t local = unix_seconds + offset;
  std::int64_t days = local / 86400;
  std::int64_t secs = local % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999) {
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u %02d:%02d:%02d", static_cast<long long>(y), m, d,
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
    return buf;
  }
  // "YYYY-MM-DD hh:mm:ss", written digit by digit (snprintf was a visible share of a List).
  std::string out = "0000-00-00 00:00:00";
  const auto put = [&out](std::size_t at, std::int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(0, y, 4);
  put(5, m, 2);
  put(8, d, 2);
  put(11, secs / 3600, 2);
  put(14, secs / 60 % 60, 2);
  put(17, secs % 60, 2);
  return out;
}

std::optional<std::int64_t> parse_time(std::string_view text, std::int32_t offset) {
  if (text.size() != 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!read_number(text, 0, 4, y) || !read_number(text, 5, 2, mo) || !read_number(text, 8, 2, d) ||
      !read_number(text, 11, 2, h) || !read_number(text, 14, 2, mi) || !read_number(text, 17, 2, s)) {
    return std::nullopt;
  }
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  // Reject 2017-02-30 and the like: the day must survive the round trip.
  std::int64_t ry = 0;
  unsigned rm = 0;
  unsigned rd = 0;
  civil_from_days(days, ry, rm, rd);
  if (ry != y || static_cast<int>(rm) != mo || static_cast<int>(rd) != d) return std::nullopt;
  return days * 86400 + h * 3600 + mi * 60 + s - offset;
}

}  // namespace cdbemu::domain
