#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "domain/text.hpp"

using cdbemu::domain::append_json_string;

namespace {

std::string json_string(std::string_view text, std::size_t max_bytes = std::string_view::npos) {
  std::string out;
  append_json_string(out, text, max_bytes);
  return out;
}

/// What nlohmann::json writes for `text`, replacing invalid UTF-8 as the envelope does.
std::string reference(const std::string &text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

TEST_CASE("JSON strings escape what JSON needs and replace invalid UTF-8") {
  CHECK(json_string("plain") == R"("plain")");
  CHECK(json_string("q\"b\\n\n\t\x01") == R"("q\"b\\n\n\t\u0001")");
  CHECK(json_string("名字") == "\"名字\"");
  CHECK(json_string("\xC3\x28") == "\"\xEF\xBF\xBD(\"");
  CHECK(json_string("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST_CASE("JSON strings are cut at a character boundary with an ellipsis") {
  CHECK(json_string("abcdef", 4) == R"("abcd...")");
  CHECK(json_string("ab名", 4) == R"("ab...")");  // 名 is three bytes: it does not fit
  CHECK(json_string("abcd", 4) == R"("abcd")");
}

TEST_CASE("JSON strings match nlohmann::json's output for valid text and always parse") {
  std::mt19937 random(7);
  // Whole characters: one, two, three and four bytes, and the ones JSON escapes.
  const std::vector<std::string> valid = {"a", "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xC3\xA9", "\xE5\x90\x8D",
                                          "\xF0\x9F\x98\x80"};
  const std::vector<std::string> invalid = {"\xC3", "\xED\xA0\x80", "\xFF", "\x80", "\xE5\x90"};
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    bool broken = false;
    const std::size_t length = random() % 12;
    for (std::size_t i = 0; i < length; ++i) {
      if (random() % 8 == 0) {
        text += invalid[random() % invalid.size()];
        broken = true;
      } else {
        text += valid[random() % valid.size()];
      }
    }
    CAPTURE(text);
    const std::string rendered = json_string(text);
    if (!broken) REQUIRE(rendered == reference(text));
    // Always one JSON string of valid UTF-8.
    REQUIRE(nlohmann::json::parse(rendered).is_string());
  }
}
