#pragma once
// Text from clients as it may appear in messages and logs.

#include <string>
#include <string_view>

namespace cdbemu::domain {

/// `text` in double quotes for an error detail: quotes, backslashes, control bytes and invalid
/// UTF-8 escaped as \xNN, so no raw bad byte reaches a response; cut after 100 bytes with "...".
std::string quote_for_message(std::string_view text);

/// `text` with quotes, backslashes, control bytes (C0 and C1) and invalid UTF-8 escaped (\xNN);
/// cut after `max_bytes` input bytes with "...". For messages and text logs.
std::string escape_text(std::string_view text, std::size_t max_bytes, bool escape_quotes = true);

/// An identifier as it appears inside a larger token (a resource name): as is when it is made of
/// letters, digits, `-`, `_` and `.` only (at most 100 bytes), else quote_for_message(text).
std::string shown_id(std::string_view text);

/// Appends `text` as a JSON string (quoted and escaped); each invalid UTF-8 byte becomes U+FFFD,
/// as nlohmann::json's dump with error_handler_t::replace does. At most `max_bytes` bytes of
/// `text` are taken, cut at a character boundary, and then "..." is added.
void append_json_string(std::string &out, std::string_view text, std::size_t max_bytes = std::string_view::npos);

/// Why `text` cannot be a parameter name or value (a NUL byte or invalid UTF-8), or "" if it can.
std::string text_fault(std::string_view text);

}  // namespace cdbemu::domain
