#include <doctest/doctest.h>

#include "http/signature.hpp"

using namespace cdbemu::http;

namespace {

RawParams params_of(std::initializer_list<std::pair<const char *, const char *>> list) {
  RawParams out;
  for (const auto &[name, value] : list) out.push_back({name, value, false});
  return out;
}

}  // namespace

TEST_CASE("the official HmacSHA256 and HmacSHA1 vectors") {
  const std::string key = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA";
  const std::string sha256_text =
      "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Nonce=11886"
      "&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&SignatureMethod=HmacSHA256&Timestamp=1465185768";
  CHECK(hmac_base64(sha256_text, key, true) == "0EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s=");
  std::string sha1_text = sha256_text;
  sha1_text.replace(sha1_text.find("HmacSHA256"), 10, "HmacSHA1");
  CHECK(hmac_base64(sha1_text, key, false) == "nPVnY6njQmwQ8ciqbPl5Qe+Oru4=");
  const std::string short_region =
      "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz"
      "&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0";
  CHECK(hmac_base64(short_region, key, false) == "NSI3UqqD99b/UJb4tbG/xZpRW64=");
}

TEST_CASE("the string to sign is built like the SDKs build it") {
  // Unsorted, with an underscore name, as a client might send it.
  const RawParams params = params_of({{"Timestamp", "1465185768"},
                                      {"InstanceIds_0", "ins-09dx96dg"},
                                      {"Signature", "ignored"},
                                      {"Action", "DescribeInstances"},
                                      {"Nonce", "11886"},
                                      {"Region", "ap-guangzhou"},
                                      {"SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"},
                                      {"SignatureMethod", "HmacSHA256"}});
  const std::string text =
      string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", params, SignOrder::SortThenReplace, false);
  CHECK(hmac_base64(text, "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA", true) == "0EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s=");
}

TEST_CASE("the third vector by POST and GET with SHA-1 and SHA-256") {
  RawParams params = params_of({{"Action", "DescribeInstances"},
                                {"Nonce", "1290303896666895346"},
                                {"Region", "ap-guangzhou"},
                                {"SecretId", "secretIdFoo"},
                                {"SignatureMethod", "HmacSHA1"},
                                {"Timestamp", "1512393162"},
                                {"Version", "2017-03-12"}});
  auto sign = [&](const char *method, bool sha256) {
    return hmac_base64(string_to_sign(method, "cvm.api.qcloud.com", "/v2/index.php", params,
                                      SignOrder::SortThenReplace, false),
                       "secretKeyBar", sha256);
  };
  CHECK(sign("POST", false) == "p3n+pxBqF5JGZtDSxoVn5tGngf0=");
  CHECK(sign("GET", false) == "5HAq1BOKNLEE2/uauWnp6Zv9Z3c=");
  params[4].value = "HmacSHA256";
  CHECK(sign("POST", true) == "B2T37FRSP6Fk0/q/cdfrTE0p3zX5ooB/2BPWZUFpsj4=");
}

TEST_CASE("a one-character change changes every vector's signature") {
  const std::string key = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA";
  const std::string text = "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886";
  const std::string good = hmac_base64(text, key, false);
  CHECK(hmac_base64(text + "7", key, false) != good);
  CHECK(hmac_base64("P" + text.substr(1), key, false) != good);
  CHECK(hmac_base64(text, key + "x", false) != good);
  CHECK(hmac_base64(text, key, true) != good);
  CHECK(same_signature(good, good));
  CHECK_FALSE(same_signature(good, good.substr(1)));
  std::string flipped = good;
  flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
  CHECK_FALSE(same_signature(good, flipped));
}

TEST_CASE("the two sort orders differ when underscores meet characters between them and dot") {
  // '_' (0x5F) sorts after 'Z'-ish capitals but '.' (0x2E) sorts before digits and letters.
  const RawParams params = params_of({{"a_b", "1"}, {"a0", "2"}, {"_x", "3"}});
  CHECK(string_to_sign("GET", "h", "/p", params, SignOrder::SortThenReplace, false) == "GETh/p?_x=3&a0=2&a.b=1");
  CHECK(string_to_sign("GET", "h", "/p", params, SignOrder::ReplaceThenSort, false) == "GETh/p?.x=3&a.b=1&a0=2");
}

TEST_CASE("upload values starting with @ are left out when asked") {
  const RawParams params = params_of({{"file", "@/etc/hosts"}, {"name", "x"}});
  CHECK(string_to_sign("POST", "h", "/p", params, SignOrder::SortThenReplace, true) == "POSTh/p?name=x");
  CHECK(string_to_sign("GET", "h", "/p", params, SignOrder::SortThenReplace, false) == "GETh/p?file=@/etc/hosts&name=x");
}
