#include "domain/text.hpp"

#include <algorithm>

namespace cdbemu::domain {
namespace {

/// Most bytes of client text shown in an error detail.
constexpr std::size_t kMaxShownBytes = 100;

/// Appends `byte` as `\xNN`.
void append_hex_escape(std::string &out, unsigned char byte) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  out += "\\x";
  out += kDigits[byte >> 4];
  out += kDigits[byte & 0xF];
}

/// Length of the valid UTF-8 sequence at text[i], or 0 with `why` naming the fault.
std::size_t utf8_length(std::string_view text, std::size_t i, std::string_view &why) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const auto fail = [&](std::string_view fault) {
    why = fault;
    return std::size_t{0};
  };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  if (lead < 0xC0) return fail("unexpected continuation byte");
  if (lead < 0xC2) return fail("overlong encoding");
  if (lead >= 0xF8) return fail("invalid byte");
  if (lead >= 0xF5) return fail("code point above U+10FFFF");
  const std::size_t length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size() || (byte(i + k) & 0xC0) != 0x80) return fail("truncated sequence");
  }
  // These lead bytes also start a few sequences that only the second byte shows to be invalid.
  const unsigned char second = byte(i + 1);
  if ((lead == 0xE0 && second < 0xA0) || (lead == 0xF0 && second < 0x90)) {
    return fail("overlong encoding");
  }
  if (lead == 0xED && second >= 0xA0) return fail("UTF-16 surrogate");
  if (lead == 0xF4 && second >= 0x90) return fail("code point above U+10FFFF");
  return length;
}

}  // namespace

void append_json_string(std::string &out, std::string_view text, std::size_t max_bytes) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  const std::size_t limit = std::min(text.size(), max_bytes);
  while (i < text.size()) {
    // Runs of plain ASCII go in whole.
    std::size_t plain = i;
    while (plain < limit) {
      const auto b = static_cast<unsigned char>(text[plain]);
      if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
      ++plain;
    }
    out.append(text.data() + i, plain - i);
    i = plain;
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    std::string_view why;
    const std::size_t length = utf8_length(text, i, why);
    if (i + std::max<std::size_t>(length, 1) > max_bytes) {
      out += "...";
      break;
    }
    if (length == 0) {
      out += "\ufffd";
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u00";
          out += kDigits[c >> 4];
          out += kDigits[c & 0xF];
      }
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  out += '"';
}

/// `text` in double quotes for an error detail: quotes, backslashes, control bytes and invalid
/// UTF-8 escaped, so no raw bad byte reaches a response; long text is cut.
std::string escape_text(std::string_view text, std::size_t max_bytes, bool escape_quotes) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::string_view why;
    if (escape_quotes && (c == '"' || c == '\\')) {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t length = c >= 0x80 ? utf8_length(text, i, why) : 0;
               length > 0 && !(c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0)) {
      // Valid UTF-8 other than the C1 controls U+0080..U+009F is shown as is.
      out.append(text.substr(i, length));
      i += length;
    } else {
      append_hex_escape(out, c);
      ++i;
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

std::string quote_for_message(std::string_view text) {
  std::string out = "\"" + escape_text(text.substr(0, std::min(text.size(), kMaxShownBytes + 4)), kMaxShownBytes);
  // escape_text puts "..." after a cut text; the quote closes before it.
  if (out.size() >= 3 && out.compare(out.size() - 3, 3, "...") == 0 && text.size() > kMaxShownBytes) {
    out.resize(out.size() - 3);
    return out + "\"...";
  }
  return out + "\"";
}

/// Why `text` cannot be a name or value (a NUL byte or invalid UTF-8), or empty if it can.
std::string text_fault(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0') return "contains a NUL byte at offset " + std::to_string(i);
    std::string_view why;
    const std::size_t length = utf8_length(text, i, why);
    if (length == 0) {
      return "is not valid UTF-8 (" + std::string(why) + " at offset " + std::to_string(i) + ")";
    }
    i += length;
  }
  return {};
}

std::string shown_id(std::string_view text) {
  const bool plain = !text.empty() && text.size() <= kMaxShownBytes &&
                     text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
                         std::string_view::npos;
  return plain ? std::string(text) : quote_for_message(text);
}

}  // namespace cdbemu::domain
