#pragma once
// API 2.0 ("v1") request signatures: HMAC over METHOD + host + path + '?' + sorted raw params.

#include <string>
#include <string_view>

#include "http/params.hpp"

namespace cdbemu::http {

/// How names are ordered. Node, PHP and Java sort the names as sent and then turn `_` into `.`
/// (Node and PHP leave a name starting with `_` as it is); Python turns `_` into `.` and then sorts.
enum class SignOrder { SortThenReplace, ReplaceThenSort };

/// The string to sign: every parameter except Signature, names with `_` → `.`, sorted in byte
/// order, `name=value` joined by `&`, raw values. With `skip_uploads`, values starting with `@` are
/// left out (POST file uploads).
std::string string_to_sign(std::string_view method, std::string_view host, std::string_view path,
                           const RawParams &params, SignOrder order, bool skip_uploads);

/// Base64 of HMAC-SHA1 (or HMAC-SHA256) of `text` with `key`.
std::string hmac_base64(std::string_view text, std::string_view key, bool sha256);

/// Constant-time comparison of two signatures.
bool same_signature(std::string_view a, std::string_view b);

}  // namespace cdbemu::http
