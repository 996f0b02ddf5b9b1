#include "http/auth.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "domain/errors.hpp"
#include "domain/nonce_cache.hpp"
#include "http/signature.hpp"

namespace cdbemu::http {
namespace {

using domain::ApiError;
using domain::ErrorCode;

constexpr std::string_view kCanonicalHost = "cdb.api.qcloud.com";

std::int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool has_underscore_name(const RawParams &params) {
  for (const auto &param : params) {
    if (param.name.find('_') != std::string::npos) return true;
  }
  return false;
}

/// Whether the signature matches with the request's host or the canonical one, in either order.
bool signature_valid(const AuthRequest &request, const std::string &key, bool sha256) {
  const bool post = request.method == "POST";
  const SignOrder orders[] = {SignOrder::SortThenReplace, SignOrder::ReplaceThenSort};
  const std::size_t order_count = has_underscore_name(request.params) ? 2 : 1;
  std::vector<std::string_view> hosts;
  if (!request.host.empty()) hosts.push_back(request.host);
  if (request.host != kCanonicalHost) hosts.push_back(kCanonicalHost);
  for (const std::string_view host : hosts) {
    for (std::size_t i = 0; i < order_count; ++i) {
      const std::string text = string_to_sign(request.method, host, request.path, request.params, orders[i], post);
      if (same_signature(hmac_base64(text, key, sha256), request.common.signature)) return true;
    }
  }
  return false;
}

}  // namespace

const domain::Credential *Authenticator::authenticate(const AuthRequest &request, std::string &expected) const {
  if (!verify_) return nullptr;
  const api::CommonParams &common = request.common;

  const domain::Credential *credential = credentials_.find(common.secret_id);
  if (!credential || !credential->enabled) {
    throw ApiError(ErrorCode::SecretIdNotFound, credential ? "the key is disabled" : "unknown SecretId");
  }

  const std::string &method = common.signature_method;
  // Decision (API.md §3): a SignatureMethod other than HmacSHA1/HmacSHA256 fails the signature.
  const bool known_method = method.empty() || method == "HmacSHA1" || method == "HmacSHA256";
  if (!known_method || !signature_valid(request, credential->secret_key, method == "HmacSHA256")) {
    expected = string_to_sign(request.method, request.host.empty() ? kCanonicalHost : request.host, request.path,
                              request.params, SignOrder::SortThenReplace, request.method == "POST");
    throw ApiError(ErrorCode::AuthFailure);
  }

  const std::int64_t now = wall_seconds();
  const std::int64_t timestamp = std::stoll(common.timestamp);
  if (timestamp < now - window_ || timestamp > now + window_) {
    throw ApiError(ErrorCode::ReplayAttack, "Timestamp " + common.timestamp + " is " +
                                                std::to_string(timestamp < now ? now - timestamp : timestamp - now) +
                                                " s away from the server time, more than " +
                                                std::to_string(window_) + " s");
  }
  if (!nonces_.record(common.secret_id, common.nonce, now)) {
    throw ApiError(ErrorCode::ReplayAttack,
                   "Nonce " + common.nonce + " was already used with this SecretId within " + std::to_string(window_) + " s");
  }
  if (!credential->may_call(common.action)) {
    throw ApiError(ErrorCode::ActionNotAllowed, "operation cdb:" + common.action);
  }
  return credential;
}

void Authenticator::forget_nonce(const api::CommonParams &common) const {
  if (verify_) nonces_.forget(common.secret_id, common.nonce);
}

std::string header_safe(std::string_view text, std::size_t limit) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  constexpr std::string_view kMarker = "...(truncated)";
  std::string out;
  out.reserve(std::min(text.size() * 3, limit + 3));
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7F && c != '%') {
      out += c;
    } else {
      out += {'%', kHex[byte >> 4], kHex[byte & 15]};
    }
    if (out.size() > limit) break;
  }
  if (out.size() > limit) {
    out.resize(limit - kMarker.size());
    // Never leave half an escape before the marker.
    if (const std::size_t pct = out.rfind('%'); pct != std::string::npos && pct + 3 > out.size()) out.resize(pct);
    out += kMarker;
  }
  return out;
}

}  // namespace cdbemu::http
