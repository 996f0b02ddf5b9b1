#include "sign_command.hpp"

#include <chrono>
#include <ostream>
#include <random>

#include "domain/errors.hpp"
#include "http/params.hpp"
#include "http/signature.hpp"

namespace cdbemu {
namespace {


/// Single-quotes `text` for a POSIX shell.
std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

int run_sign_command(const SignOptions &options, std::ostream &out, std::ostream &err) {
  const std::string &url = options.url;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    err << "sign: --url must look like http://127.0.0.1:8080/v2/index.php?Action=...\n";
    return 2;
  }
  const std::size_t path_start = url.find('/', scheme_end + 3);
  const std::string host = url.substr(scheme_end + 3, path_start == std::string::npos ? std::string::npos
                                                                                      : path_start - scheme_end - 3);
  std::string path = path_start == std::string::npos ? "/v2/index.php" : url.substr(path_start);
  std::string query;
  if (const std::size_t q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  if (path.empty()) path = "/v2/index.php";

  http::RawParams params;
  try {
    http::decode_urlencoded(query, http::DecodeLimits{}, params);
  } catch (const domain::ApiError &e) {
    err << "sign: the query string cannot be decoded: " << e.message() << "\n";
    return 2;
  }
  // The signer supplies what a client adds: key id, time, a random nonce, the method.
  std::erase_if(params, [](const http::RawParam &p) { return p.name == "Signature"; });
  auto set_default = [&](const std::string &name, const std::string &value, bool replace) {
    for (auto &p : params) {
      if (p.name == name) {
        if (replace) p.value = value;
        return;
      }
    }
    params.push_back({name, value, false});
  };
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::random_device seed;
  set_default("SecretId", options.secret_id, true);
  set_default("Timestamp", std::to_string(now), false);
  set_default("Nonce", std::to_string(std::uniform_int_distribution<std::uint64_t>(1, (1ULL << 53))(seed)), false);
  if (!options.signature_method.empty()) set_default("SignatureMethod", options.signature_method, true);
  bool sha256 = false;
  for (const auto &p : params) {
    if (p.name == "SignatureMethod") sha256 = p.value == "HmacSHA256";
  }

  const std::string sign_host = options.sign_host.empty() ? host : options.sign_host;
  const bool post = options.method == "POST";
  const std::string text =
      http::string_to_sign(options.method, sign_host, path, params, http::SignOrder::SortThenReplace, post);
  params.push_back({"Signature", http::hmac_base64(text, options.secret_key, sha256), false});

  std::string encoded;
  for (const auto &p : params) {
    if (!encoded.empty()) encoded += '&';
    encoded += http::percent_encode(p.name) + "=" + http::percent_encode(p.value);
  }
  const std::string base = url.substr(0, path_start == std::string::npos ? url.size() : path_start) + path;
  out << "# string to sign: " << text << "\n";
  if (post) {
    out << "# body: " << encoded << "\n";
    out << "curl -s -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary " << shell_quote(encoded)
        << " " << shell_quote(base) << "\n";
  } else {
    out << base << "?" << encoded << "\n";
    out << "curl -s " << shell_quote(base + "?" + encoded) << "\n";
  }
  return 0;
}

}  // namespace cdbemu
