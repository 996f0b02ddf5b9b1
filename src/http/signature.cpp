#include "http/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <vector>

namespace cdbemu::http {
namespace {

struct SignedParam {
  std::string name;           ///< after `_` → `.`
  std::string_view original;  ///< as sent
  std::string_view value;
};

std::string replace_underscores(std::string_view name, SignOrder order) {
  // Node and PHP keep a name whose first character is `_` unchanged.
  if (order == SignOrder::SortThenReplace && !name.empty() && name.front() == '_') return std::string(name);
  return canonical_name(name);
}

}  // namespace

std::string string_to_sign(std::string_view method, std::string_view host, std::string_view path,
                           const RawParams &params, SignOrder order, bool skip_uploads) {
  std::vector<SignedParam> items;
  items.reserve(params.size());
  for (const auto &param : params) {
    if (param.name == "Signature") continue;
    if (skip_uploads && !param.value.empty() && param.value.front() == '@') continue;
    items.push_back({replace_underscores(param.name, order), param.name, param.value});
  }
  // Byte order; ties (the same name twice) keep their order on the wire.
  std::stable_sort(items.begin(), items.end(), [order](const SignedParam &a, const SignedParam &b) {
    return order == SignOrder::SortThenReplace ? a.original < b.original : a.name < b.name;
  });
  std::string out;
  out.reserve(method.size() + host.size() + path.size() + 16 * items.size());
  out.append(method).append(host).append(path).append("?");
  bool first = true;
  for (const auto &item : items) {
    if (!first) out += '&';
    first = false;
    out.append(item.name).append("=").append(item.value);
  }
  return out;
}

std::string hmac_base64(std::string_view text, std::string_view key, bool sha256) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(sha256 ? EVP_sha256() : EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char *>(text.data()), text.size(), digest, &length);
  std::string out(4 * ((length + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), digest, static_cast<int>(length));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

bool same_signature(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cdbemu::http
