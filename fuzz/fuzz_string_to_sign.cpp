// Fuzz target: the signature canonicaliser (string_to_sign) and hmac_base64.
// Input: `name=value&...`, split without the decoder's checks (fuzz_support.hpp's
// split_leniently), signed as a GET and as a POST (uploads skipped) in both name orders.
// Invariants: the text equals a plain reference model (drop Signature and, for a POST, values
// starting with '@'; `_` → `.`; stable byte-order sort; `name=value` joined by '&'); it is
// deterministic, does not change with the Signature's value, nor with the order of parameters
// whose sort keys differ; the HMAC is Base64 of 20 or 32 bytes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fuzz_support.hpp"
#include "http/params.hpp"
#include "http/signature.hpp"

namespace {

using cdbemu::http::RawParams;
using cdbemu::http::SignOrder;

constexpr std::string_view kHost = "127.0.0.1:8080";
constexpr std::string_view kPath = "/v2/index.php";

/// The string to sign, written out plainly from the README's description.
std::string reference(std::string_view method, const RawParams &params, SignOrder order, bool skip_uploads) {
  struct Item {
    std::string key;
    std::size_t wire;
    std::string name;
    std::string value;
  };
  std::vector<Item> items;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto &param = params[i];
    if (param.name == "Signature") continue;
    if (skip_uploads && param.value.starts_with('@')) continue;
    std::string name = param.name;
    const bool keep = order == SignOrder::SortThenReplace && name.starts_with('_');
    if (!keep) std::replace(name.begin(), name.end(), '_', '.');
    items.push_back({order == SignOrder::SortThenReplace ? param.name : name, i, name, param.value});
  }
  std::sort(items.begin(), items.end(),
            [](const Item &a, const Item &b) { return std::tie(a.key, a.wire) < std::tie(b.key, b.wire); });
  std::string out = std::string(method) + std::string(kHost) + std::string(kPath) + "?";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += '&';
    out += items[i].name + "=" + items[i].value;
  }
  return out;
}

/// The sort key of `param` in `order`: the name as sent, or with `_` → `.`.
std::string sort_key(const cdbemu::http::RawParam &param, SignOrder order) {
  return order == SignOrder::SortThenReplace ? param.name : cdbemu::http::canonical_name(param.name);
}

/// Whether `text` is Base64 of `bytes` bytes.
bool base64_of(std::string_view text, std::size_t bytes) {
  if (text.size() != 4 * ((bytes + 2) / 3)) return false;
  const std::size_t padding = (3 - bytes % 3) % 3;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool letter =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (i >= text.size() - padding ? c != '=' : !letter) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const RawParams params = cdbemu::fuzz::split_leniently(cdbemu::fuzz::as_text(data, size));
  const RawParams reversed(params.rbegin(), params.rend());
  RawParams resigned = params;
  for (auto &param : resigned) {
    if (param.name == "Signature") param.value = "changed/" + param.value;
  }

  for (const std::string_view method : {"GET", "POST"}) {
    const bool skip_uploads = method == "POST";
    for (const SignOrder order : {SignOrder::SortThenReplace, SignOrder::ReplaceThenSort}) {
      const auto sign = [&](const RawParams &list) {
        return cdbemu::http::string_to_sign(method, kHost, kPath, list, order, skip_uploads);
      };
      const std::string text = sign(params);
      FUZZ_CHECK(text == reference(method, params, order, skip_uploads));
      FUZZ_CHECK(text == sign(params));
      FUZZ_CHECK(text == sign(resigned));
      std::set<std::string> keys;
      for (const auto &param : params) keys.insert(sort_key(param, order));
      if (keys.size() == params.size()) FUZZ_CHECK(text == sign(reversed));
    }
  }

  const std::string text =
      cdbemu::http::string_to_sign("GET", kHost, kPath, params, SignOrder::SortThenReplace, false);
  const std::string sha1 = cdbemu::http::hmac_base64(text, "emulator-default-secret", false);
  const std::string sha256 = cdbemu::http::hmac_base64(text, "emulator-default-secret", true);
  FUZZ_CHECK(base64_of(sha1, 20));
  FUZZ_CHECK(base64_of(sha256, 32));
  FUZZ_CHECK(sha1 == cdbemu::http::hmac_base64(text, "emulator-default-secret", false));
  FUZZ_CHECK(cdbemu::http::same_signature(sha256, sha256));
  FUZZ_CHECK(!cdbemu::http::same_signature(sha1, sha256));
  return 0;
}
