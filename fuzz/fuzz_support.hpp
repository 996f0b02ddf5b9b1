#pragma once
// Shared by the fuzz targets: the libFuzzer entry point, the check that turns a broken invariant
// into a finding, and the checks every refused input must pass.
//
// A target may throw nothing but domain::ApiError 4000 (malformed input, expected); a crash, any
// other exception, a sanitizer report, a hang or a failed FUZZ_CHECK is a finding.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "domain/errors.hpp"
#include "domain/text.hpp"
#include "http/params.hpp"

/// One input to the target (libFuzzer's entry point; fuzz/replay_main.cpp calls it too).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);

namespace cdbemu::fuzz {

/// Reports a broken invariant and aborts, which libFuzzer and ctest both see as a failure.
[[noreturn]] inline void fail(const char *file, int line, const char *what) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(condition) ((condition) ? void(0) : ::cdbemu::fuzz::fail(__FILE__, __LINE__, #condition))

/// Most bytes of an error message: details quote client text cut at 100 bytes, so no message
/// grows with the input.
constexpr std::size_t kMaxMessageBytes = 2048;

/// Checks a refusal: 4000 InvalidParameter, and a message that can go on the wire as it is
/// (valid UTF-8, no control bytes, bounded).
inline void check_refusal(const domain::ApiError &error) {
  FUZZ_CHECK(error.code() == 4000);
  FUZZ_CHECK(error.code_desc() == "InvalidParameter");
  const std::string &message = error.message();
  FUZZ_CHECK(message.starts_with("invalid parameter: "));
  FUZZ_CHECK(message.size() <= kMaxMessageBytes);
  FUZZ_CHECK(domain::text_fault(message).empty());
  for (const char c : message) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
}

/// The input as text.
inline std::string_view as_text(const std::uint8_t *data, std::size_t size) {
  return {reinterpret_cast<const char *>(data), size};
}

/// Splits `text` like an urlencoded text but accepts anything: `+` is a space, a valid `%XX` a
/// byte, every other byte stays as it is; names may be empty, hold NUL or invalid UTF-8. The
/// parameters a caller could hand to the tree builder or the signer, beyond what the decoders
/// let through.
inline http::RawParams split_leniently(std::string_view text) {
  const auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const auto decode = [&](std::string_view raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        out += ' ';
      } else if (raw[i] == '%' && i + 2 < raw.size() && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
        out += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
        i += 2;
      } else {
        out += raw[i];
      }
    }
    return out;
  };
  http::RawParams out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('&', start), text.size());
    const std::string_view piece = text.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    const std::size_t eq = std::min(piece.find('='), piece.size());
    out.push_back({decode(piece.substr(0, eq)), decode(piece.substr(std::min(eq + 1, piece.size()))), false});
  }
  return out;
}

}  // namespace cdbemu::fuzz
