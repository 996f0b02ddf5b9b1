#pragma once
// Authentication as the real service does it, in the order of API.md §4:
// 4104 (key) → 4100 (signature) → 4500 (timestamp) → 4500 (nonce) → 4101 (action not allowed).

#include <string>
#include <string_view>

#include "api/dispatch.hpp"
#include "domain/credentials.hpp"
#include "http/params.hpp"

namespace cdbemu::domain {
class NonceCache;
}

namespace cdbemu::http {

/// What authentication reads from a request.
struct AuthRequest {
  std::string_view method;
  std::string_view host;  ///< the Host header, port included
  std::string_view path;
  const RawParams &params;
  const api::CommonParams &common;
};

class Authenticator {
 public:
  /// `verify` false: every check is skipped (--auth off).
  Authenticator(bool verify, domain::Credentials credentials, std::int64_t timestamp_window, domain::NonceCache &nonces)
      : verify_(verify), credentials_(std::move(credentials)), window_(timestamp_window), nonces_(nonces) {}

  /// The caller's key (nullptr with --auth off). Throws domain::ApiError; on 4100 `expected` holds
  /// the string the emulator signed (Node's order, the request's Host) for the developer.
  const domain::Credential *authenticate(const AuthRequest &request, std::string &expected) const;

  const domain::Credentials &credentials() const { return credentials_; }

  /// Forgets the request's nonce: the request is not going to count (an injected fault).
  void forget_nonce(const api::CommonParams &common) const;

 private:
  bool verify_;
  domain::Credentials credentials_;
  std::int64_t window_;
  domain::NonceCache &nonces_;
};

/// `text` percent-encoded for an HTTP header and cut to `limit` bytes with a marker.
std::string header_safe(std::string_view text, std::size_t limit);

}  // namespace cdbemu::http
