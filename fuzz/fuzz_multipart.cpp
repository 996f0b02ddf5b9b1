// Fuzz target: the multipart decoder (multipart_boundary, sniff_body, decode_multipart).
// Input: a Content-Type header value, a '\n', then the body (no '\n': a header and no body).
// The body is judged and decoded as the server does; it is also decoded directly with the
// header's boundary and with the whole header line taken as a boundary (valid or not).
// Invariants: a boundary from the header is valid; sniff_body's answer agrees with the body;
// n decoded parts need n + 1 delimiter lines; decoded parts re-encoded as a plain multipart body
// (when no value holds the delimiter) decode to the same parts; a refusal is a clean 4000.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/errors.hpp"
#include "domain/text.hpp"
#include "fuzz_support.hpp"
#include "http/params.hpp"

namespace {

using cdbemu::domain::ApiError;
using cdbemu::http::DecodeLimits;
using cdbemu::http::RawParams;

constexpr DecodeLimits kLimits{.max_body_bytes = 1 << 20,
                               .max_params = 64,
                               .max_index = 1000000,
                               .max_depth = 16,
                               .max_value_bytes = 4096};

/// Whether `boundary` is one RFC 2046 allows here: 1..70 printable ASCII bytes, no trailing space.
bool valid_boundary(std::string_view boundary) {
  if (boundary.empty() || boundary.size() > 70 || boundary.back() == ' ') return false;
  for (const char c : boundary) {
    if (c < 0x20 || c >= 0x7F) return false;
  }
  return true;
}

/// How many times `needle` occurs in `text` (occurrences of "\n--boundary" cannot overlap).
std::size_t count(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// `text` as a quoted-string of a header parameter.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

/// Decodes `body` with `boundary` into `out`; false when it is refused (the refusal is checked).
bool decode(std::string_view body, std::string_view boundary, RawParams &out) {
  try {
    cdbemu::http::decode_multipart(body, boundary, kLimits, out);
    return true;
  } catch (const ApiError &error) {
    cdbemu::fuzz::check_refusal(error);
    return false;
  }
}

/// Decodes `body` with `boundary` and checks what comes out.
void decode_and_check(std::string_view body, std::string_view boundary) {
  RawParams parts;
  if (!decode(body, boundary, parts)) return;
  FUZZ_CHECK(valid_boundary(boundary));
  FUZZ_CHECK(parts.size() <= kLimits.max_params);
  const std::string line = "\n--" + std::string(boundary);
  const std::size_t delimiters =
      count(body, line) + (body.starts_with(std::string_view(line).substr(1)) ? 1 : 0);
  FUZZ_CHECK(parts.size() + 1 <= delimiters);

  bool plain = true;
  std::string again;
  for (const auto &part : parts) {
    FUZZ_CHECK(!part.name.empty());
    FUZZ_CHECK(part.value.size() <= kLimits.max_value_bytes);
    FUZZ_CHECK(cdbemu::domain::text_fault(part.name).empty());
    FUZZ_CHECK(cdbemu::domain::text_fault(part.value).empty());
    FUZZ_CHECK(part.name.find('\n') == std::string::npos);
    plain = plain && ("\n" + part.value).find(line) == std::string::npos;
    again += "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=" + quoted(part.name) +
             (part.from_file_part ? "; filename=\"f\"" : "") + "\r\n\r\n" + part.value + "\r\n";
  }
  again += "--" + std::string(boundary) + "--\r\n";
  if (!plain || parts.empty()) return;
  RawParams reread;
  FUZZ_CHECK(decode(again, boundary, reread));
  FUZZ_CHECK(reread.size() == parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    FUZZ_CHECK(reread[i].name == parts[i].name);
    FUZZ_CHECK(reread[i].value == parts[i].value);
    FUZZ_CHECK(reread[i].from_file_part == parts[i].from_file_part);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string_view input = cdbemu::fuzz::as_text(data, size);
  const std::size_t eol = std::min(input.find('\n'), input.size());
  const std::string_view content_type = input.substr(0, eol);
  const std::string_view body = input.substr(std::min(eol + 1, input.size()));

  const std::optional<std::string> declared = cdbemu::http::multipart_boundary(content_type);
  if (declared) FUZZ_CHECK(valid_boundary(*declared));

  // As the server reads a body.
  std::string boundary = "stale";
  const cdbemu::http::BodyKind kind = cdbemu::http::sniff_body(body, content_type, boundary);
  const bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  FUZZ_CHECK(blank == (kind == cdbemu::http::BodyKind::Empty));
  switch (kind) {
    case cdbemu::http::BodyKind::Multipart:
      FUZZ_CHECK(valid_boundary(boundary));
      FUZZ_CHECK(body.find("--" + boundary) != std::string_view::npos);
      decode_and_check(body, boundary);
      break;
    case cdbemu::http::BodyKind::UrlEncoded:
      FUZZ_CHECK(boundary.empty());
      try {
        RawParams params;
        cdbemu::http::decode_urlencoded(body, kLimits, params);
      } catch (const ApiError &error) {
        cdbemu::fuzz::check_refusal(error);
      }
      break;
    case cdbemu::http::BodyKind::Json: {
      FUZZ_CHECK(boundary.empty());
      const char first = body[body.find_first_not_of(" \t\r\n")];
      FUZZ_CHECK(first == '{' || first == '[');
      break;
    }
    case cdbemu::http::BodyKind::Empty:
      FUZZ_CHECK(boundary.empty());
      break;
  }

  // Directly, with boundaries the sniffer did not choose.
  if (declared && !(kind == cdbemu::http::BodyKind::Multipart && boundary == *declared)) {
    decode_and_check(body, *declared);
  }
  if (!(kind == cdbemu::http::BodyKind::Multipart && boundary == content_type) &&
      !(declared && *declared == content_type)) {
    decode_and_check(body, content_type);
  }
  return 0;
}
