// The common parameters and the HTTP surface: every refusal is the JSON envelope.

#include <doctest/doctest.h>

#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

Params without(Params params, const std::string &name) {
  std::erase_if(params, [&](const auto &p) { return p.first == name; });
  return params;
}

Params with(Params params, const std::string &name, const std::string &value) {
  for (auto &p : params) {
    if (p.first == name) p.second = value;
  }
  return params;
}

Params create_request() {
  Params params = common_params("CreateCdbDataSyncTask");
  for (auto &p : seed_create_params()) params.push_back(p);
  return params;
}

std::string error(int code, const std::string &message, const std::string &desc = "InvalidParameter") {
  return R"({"code":)" + std::to_string(code) + R"(,"message":")" + message + R"(","codeDesc":")" + desc + R"("})";
}

std::string get_body(const LiveEmulator &emu, const Params &params) { return emu.get_text(params); }

}  // namespace

TEST_CASE("missing Action is 4000 and an unknown Action is 6100 with the real message") {
  LiveEmulator emu;
  CHECK(get_body(emu, without(create_request(), "Action")) ==
        error(4000, "invalid parameter: missing required parameter Action"));
  CHECK(get_body(emu, with(create_request(), "Action", "DescribeNothing")) ==
        error(6100, "本版本内不支持的接口或者接口已经被废弃，请参考该接口的文档。", "ActionNotFound"));
  // Action is checked before the other common parameters.
  CHECK(get_body(emu, {{"Action", "DescribeNothing"}}) ==
        error(6100, "本版本内不支持的接口或者接口已经被废弃，请参考该接口的文档。", "ActionNotFound"));
}

TEST_CASE("each missing common parameter is named") {
  LiveEmulator emu;
  for (const std::string name : {"Region", "Timestamp", "Nonce", "SecretId", "Signature"}) {
    CAPTURE(name);
    CHECK(get_body(emu, without(create_request(), name)) ==
          error(4000, "invalid parameter: missing required parameter " + name));
    CHECK(emu.get_text(with(create_request(), name, ""), false) ==
          error(4000, "invalid parameter: parameter " + name + " is empty"));
  }
}

TEST_CASE("malformed Timestamp Nonce and Region are 4000") {
  LiveEmulator emu;
  const std::string timestamp = error(4000, "invalid parameter: parameter Timestamp must be Unix seconds (1 to 10 digits)");
  CHECK(get_body(emu, with(create_request(), "Timestamp", "17000000000")) == timestamp);
  CHECK(get_body(emu, with(create_request(), "Timestamp", "-1")) == timestamp);
  CHECK(get_body(emu, with(create_request(), "Timestamp", "1.5")) == timestamp);
  const std::string nonce = error(4000, "invalid parameter: parameter Nonce must be a non-negative integer (1 to 20 digits)");
  CHECK(get_body(emu, with(create_request(), "Nonce", "abc")) == nonce);
  CHECK(get_body(emu, with(create_request(), "Nonce", "123456789012345678901")) == nonce);
  // Leading zeros and 19-digit nonces are what real clients send.
  CHECK(emu.get(with(create_request(), "Nonce", "000123"))["code"] == 0);
  CHECK(emu.get(with(create_request(), "Nonce", "9223372036854775807"))["code"] == 0);
  const std::string region = error(4000, "invalid parameter: parameter Region is not a known region name (use e.g. ap-guangzhou or gz)");
  CHECK(get_body(emu, with(create_request(), "Region", "sh1")) == region);
  CHECK(get_body(emu, with(create_request(), "Region", "1")) == region);
  CHECK(emu.get(with(create_request(), "Region", "ap-guangzhou"))["code"] == 0);
  Params branch = without(create_request(), "Action");
  branch.push_back({"Action.0", "CreateCdbDataSyncTask"});
  CHECK(get_body(emu, branch) ==
        error(4000, "invalid parameter: Action must be a single value, not a list or object"));
  Params both = create_request();
  both.push_back({"Action.0", "x"});
  CHECK(get_body(emu, both) ==
        error(4000, R"(invalid parameter: parameter \"Action.0\": \"Action\" is both a value and a branch)"));
}

TEST_CASE("a GET longer than the request-line limit gets 4000 with a hint to use POST") {
  LiveEmulator emu;
  auto cli = emu.client();
  auto res = cli.Get("/v2/index.php?" + encode_query(create_request()) + "&pad=" + std::string(9000, 'a'));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  CHECK(res->body == error(4000, "invalid parameter: the request line exceeds 8192 bytes; send the parameters in a POST body instead of the query string"));
}

TEST_CASE("a body over the limit is 4000 whether declared or chunked or compressed") {
  Config cfg = LiveEmulator::default_config();
  cfg.limits.max_body_bytes = 4096;
  LiveEmulator emu(cfg);
  const std::string expected = error(4000, "invalid parameter: the request body exceeds 4096 bytes (--max-body-bytes)");
  auto cli = emu.client();
  auto declared = cli.Post("/v2/index.php", encode_query(create_request()) + "&pad=" + std::string(5000, 'a'),
                           "application/x-www-form-urlencoded");
  REQUIRE(declared);
  CHECK(declared->status == 200);
  CHECK(declared->body == expected);

  // 1 MB of zeros compresses to about 1 KB: only the decoded size can catch it.
  auto compressing = emu.client();
  compressing.set_compress(true);
  auto bomb = compressing.Post("/v2/index.php", std::string(1 << 20, '0'), "application/x-www-form-urlencoded");
  REQUIRE(bomb);
  CHECK(bomb->body == expected);

  const std::string chunk(3000, 'a');
  const std::string reply = raw_exchange(emu.port(),
                                         "POST /v2/index.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                         "bb8\r\n" + chunk + "\r\nbb8\r\n" + chunk + "\r\n0\r\n\r\n");
  CHECK(reply.find(expected) != std::string::npos);

  // The server still serves normally afterwards.
  CHECK(emu.get(create_request())["code"] == 0);
}

TEST_CASE("HEAD never executes an action") {
  LiveEmulator emu;
  auto cli = emu.client();
  auto head = cli.Head("/v2/index.php?" + encode_query(create_request()));
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());
  // Had HEAD created a task, this one would be task 2.
  CHECK(emu.get(create_request())["data"]["jobId"] == 1);
}

TEST_CASE("other paths and methods get JSON and never HTML") {
  LiveEmulator emu;
  auto cli = emu.client();
  auto other = cli.Get("/index.html");
  REQUIRE(other);
  CHECK(other->status == 404);
  CHECK(other->get_header_value("Content-Type") == "application/json");
  CHECK(other->body == error(4000, "invalid parameter: no endpoint at this path; the API is served at /v2/index.php"));
  auto put = cli.Put("/v2/index.php", encode_query(create_request()), "application/x-www-form-urlencoded");
  REQUIRE(put);
  CHECK(put->status == 200);
  CHECK(put->body == error(4000, "invalid parameter: method PUT is not supported; use GET or POST"));
  const std::string garbage = raw_exchange(emu.port(), "GARBAGE\r\n\r\n");
  CHECK(garbage.find("HTTP/1.1 200") == 0);
  CHECK(garbage.find(error(4000, "invalid parameter: malformed HTTP request")) != std::string::npos);
}
