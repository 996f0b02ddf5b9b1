// Fuzz target: the query/urlencoded decoder (decode_urlencoded) and percent_encode.
// Input: a query string or an urlencoded body, as sent.
// Invariants: a decoded list re-encoded with percent_encode decodes to the same list; the input,
// when it is valid UTF-8 without NUL, survives percent_encode → decode_urlencoded exactly;
// percent_encode writes only unreserved bytes and %XX; a refusal is a clean 4000.

#include <cstddef>
#include <cstdint>
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

/// Small limits, so inputs of a few KiB reach the limit checks too.
constexpr DecodeLimits kLimits{.max_body_bytes = 1 << 20,
                               .max_params = 64,
                               .max_index = 1000000,
                               .max_depth = 16,
                               .max_value_bytes = 512};

/// Whether `encoded` is made of unreserved bytes and `%XX` escapes with upper-case hex only.
bool plain_encoding(std::string_view encoded) {
  const auto unreserved = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
  };
  const auto upper_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (unreserved(encoded[i])) continue;
    if (encoded[i] != '%' || i + 2 >= encoded.size() || !upper_hex(encoded[i + 1]) ||
        !upper_hex(encoded[i + 2])) {
      return false;
    }
    i += 2;
  }
  return true;
}

/// Appends the pairs of `text` to `out`; false when it is refused (the refusal is checked).
bool decode(std::string_view text, RawParams &out) {
  try {
    cdbemu::http::decode_urlencoded(text, kLimits, out);
    return true;
  } catch (const ApiError &error) {
    cdbemu::fuzz::check_refusal(error);
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string_view text = cdbemu::fuzz::as_text(data, size);

  RawParams params;
  if (decode(text, params)) {
    FUZZ_CHECK(params.size() <= kLimits.max_params);
    std::string again;
    for (const auto &param : params) {
      FUZZ_CHECK(!param.name.empty());
      FUZZ_CHECK(!param.from_file_part);
      FUZZ_CHECK(param.value.size() <= kLimits.max_value_bytes);
      FUZZ_CHECK(cdbemu::domain::text_fault(param.name).empty());
      FUZZ_CHECK(cdbemu::domain::text_fault(param.value).empty());
      if (!again.empty()) again += '&';
      again += cdbemu::http::percent_encode(param.name) + "=" + cdbemu::http::percent_encode(param.value);
    }
    RawParams reread;
    FUZZ_CHECK(decode(again, reread));
    FUZZ_CHECK(reread.size() == params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      FUZZ_CHECK(reread[i].name == params[i].name);
      FUZZ_CHECK(reread[i].value == params[i].value);
    }
    // The server builds the tree next; it may refuse, but only with a clean 4000.
    try {
      (void)cdbemu::http::ParamNode::build(params, kLimits);
    } catch (const ApiError &error) {
      cdbemu::fuzz::check_refusal(error);
    }
  }

  // The whole input as one value: what a client encodes with percent_encode comes back exactly.
  const std::string encoded = cdbemu::http::percent_encode(text);
  FUZZ_CHECK(plain_encoding(encoded));
  if (cdbemu::domain::text_fault(text).empty() && text.size() <= kLimits.max_value_bytes) {
    RawParams one;
    FUZZ_CHECK(decode("v=" + encoded, one));
    FUZZ_CHECK(one.size() == 1);
    FUZZ_CHECK(one[0].name == "v");
    FUZZ_CHECK(one[0].value == text);
  }
  return 0;
}
