// Authentication end to end: keys, signatures in every client's style, the replay window,
// sub-accounts, --auth off, --credential, TLS.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/signature.hpp"
#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

const std::string kAuthFailure = R"({"code":4100,"message":"身份认证失败，用户身份验证失败","codeDesc":"AuthFailure"})";

Params create_request(const std::string &secret_id = kSecretId) {
  Params params = common_params("CreateCdbDataSyncTask");
  for (auto &p : seed_create_params()) params.push_back(p);
  for (auto &[name, value] : params) {
    if (name == "SecretId") value = secret_id;
  }
  return params;
}

Params with(Params params, const std::string &name, const std::string &value) {
  bool found = false;
  for (auto &p : params) {
    if (p.first == name) {
      p.second = value;
      found = true;
    }
  }
  if (!found) params.push_back({name, value});
  return params;
}

std::string value_of(const Params &params, const std::string &name) {
  for (const auto &[n, v] : params) {
    if (n == name) return v;
  }
  return "";
}

/// GET with `params` exactly as given (no signing by the helper).
httplib::Result raw_get(const LiveEmulator &emu, const Params &params) {
  auto cli = emu.client();
  return cli.Get("/v2/index.php?" + encode_query(params));
}

/// The raw value of response header `name` in `response` (httplib's client would percent-decode it).
std::string raw_header(const std::string &response, const std::string &name) {
  const std::size_t at = response.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const std::size_t start = at + 4 + name.size();
  return response.substr(start, response.find("\r\n", start) - start);
}

/// A fixtures directory with the built-in instances and `credentials` as credentials.json.
std::string fixtures_with_credentials(const std::string &credentials) {
  const std::string dir = temp_path("-fixtures");
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(CDB_EMU_SOURCE_DIR "/fixtures/instances.json", dir + "/instances.json");
  std::ofstream(dir + "/credentials.json") << credentials;
  return dir;
}

}  // namespace

TEST_CASE("the default key signs with SHA-1 and SHA-256 by GET and POST and multipart") {
  LiveEmulator emu;
  CHECK(emu.get(create_request())["code"] == 0);
  CHECK(emu.post_form(create_request())["code"] == 0);
  CHECK(emu.post_multipart(create_request())["code"] == 0);
  CHECK(emu.get(with(create_request(), "SignatureMethod", "HmacSHA256"))["code"] == 0);
  CHECK(emu.post_form(with(create_request(), "SignatureMethod", "HmacSHA256"))["code"] == 0);
  CHECK(emu.get(with(create_request(), "SignatureMethod", "HmacSHA1"))["code"] == 0);
  // A Token and unknown extras are signed like any parameter.
  CHECK(emu.get(with(with(create_request(), "Token", "tmp-token"), "RequestClient", "SDK_NODEJS_0.2.1"))["code"] == 0);
}

TEST_CASE("an unknown or disabled SecretId is 4104 before the signature is looked at") {
  LiveEmulator emu;
  CHECK(emu.get_text(create_request("AKIDNOSUCHKEY")) ==
        R"({"code":4104,"message":"the SecretId does not exist or is disabled: unknown SecretId","codeDesc":"AuthFailure"})");
  CHECK(emu.get_text(create_request("AKIDEMULATORDISABLED01"), false) ==
        R"({"code":4104,"message":"the SecretId does not exist or is disabled: the key is disabled","codeDesc":"AuthFailure"})");
}

TEST_CASE("a bad signature is the exact 4100 body with the expected string in a header") {
  LiveEmulator emu;
  const Params params = sign(create_request(), "GET", emu.host(), "not-the-key");
  auto res = raw_get(emu, params);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == kAuthFailure);
  const std::string header = res->get_header_value("X-Emulator-String-To-Sign");
  CHECK(header.rfind("GET" + emu.host() + "/v2/index.php?Action=CreateCdbDataSyncTask&Nonce=", 0) == 0);
  CHECK(header.find("&SecretId=AKIDEMULATORDEFAULTKEY&Timestamp=") != std::string::npos);
  CHECK(header.find("emulator-default-secret") == std::string::npos);
  CHECK(header.find("Signature=") == std::string::npos);
}

TEST_CASE("the string-to-sign header is percent-encoded and capped at 4 KB") {
  LiveEmulator emu;
  Params params = with(create_request(), "jobName", "名字 " + std::string(6000, 'x'));
  const std::string body = encode_query(sign(params, "POST", emu.host(), "wrong"));
  const std::string response = raw_exchange(
      emu.port(), "POST /v2/index.php HTTP/1.1\r\nHost: " + emu.host() +
                      "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body);
  CHECK(response.find(kAuthFailure) != std::string::npos);
  const std::string header = raw_header(response, "X-Emulator-String-To-Sign");
  CHECK(header.size() <= 4096);
  CHECK(header.size() > 4000);
  CHECK(header.find("jobName=%E5%90%8D%E5%AD%97%20xxx") != std::string::npos);
  CHECK(header.substr(header.size() - 14) == "...(truncated)");
}

TEST_CASE("a signature is valid with the Host header or the canonical host and not another") {
  LiveEmulator emu;
  CHECK(raw_get(emu, sign(create_request(), "GET", emu.host()))->body.find(R"("code":0)") != std::string::npos);
  CHECK(raw_get(emu, sign(create_request(), "GET", "cdb.api.qcloud.com"))->body.find(R"("code":0)") != std::string::npos);
  CHECK(raw_get(emu, sign(create_request(), "GET", "127.0.0.1"))->body == kAuthFailure);  // port left out
  CHECK(raw_get(emu, sign(create_request(), "GET", "cvm.api.qcloud.com"))->body == kAuthFailure);
  // The method is part of the string: a GET signed as POST fails.
  CHECK(raw_get(emu, sign(create_request(), "POST", emu.host()))->body == kAuthFailure);
}

TEST_CASE("Python ordering and underscore names verify") {
  LiveEmulator emu;
  // Python replaces `_` by `.` and then sorts; Node sorts and then replaces. With names mixing `_`
  // and digits the two orders differ; both must verify.
  Params params = create_request();
  for (auto &[name, value] : params) {
    if (name.rfind("srcInfo.", 0) == 0) std::replace(name.begin(), name.end(), '.', '_');
  }
  params.push_back({"srcInfo_0_dbInfo_0_table_10", "t10"});
  // '_' sorts after capitals and '.' before them: these two extras change places between orders.
  params.push_back({"RequestClient", "SDK_PYTHON_2.0.0"});
  params.push_back({"Request_Source", "qcloudcli"});
  http::RawParams raw;
  for (const auto &[n, v] : params) raw.push_back({n, v, false});
  const std::string python = http::string_to_sign("GET", emu.host(), "/v2/index.php", raw,
                                                  http::SignOrder::ReplaceThenSort, false);
  const std::string node = http::string_to_sign("GET", emu.host(), "/v2/index.php", raw,
                                                http::SignOrder::SortThenReplace, false);
  REQUIRE(python != node);
  for (const auto &text : {python, node}) {
    Params signed_params = params;
    for (auto &[name, value] : signed_params) {
      if (name == "Nonce") value = next_nonce();
    }
    raw.clear();
    for (const auto &[n, v] : signed_params) raw.push_back({n, v, false});
    const bool python_order = &text == &python;
    const std::string string = http::string_to_sign(
        "GET", emu.host(), "/v2/index.php", raw,
        python_order ? http::SignOrder::ReplaceThenSort : http::SignOrder::SortThenReplace, false);
    for (auto &[name, value] : signed_params) {
      if (name == "Signature") value = http::hmac_base64(string, kSecretKey, false);
    }
    CAPTURE(python_order);
    CHECK(raw_get(emu, signed_params)->body.find(R"("code":0)") != std::string::npos);
  }
}

TEST_CASE("a literal plus that travelled unencoded becomes a space and fails the signature") {
  LiveEmulator emu;
  const Params params = sign(with(create_request(), "jobName", "a+b"), "GET", emu.host());
  std::string query = encode_query(params);
  const std::string encoded_plus = "jobName=a%2Bb";
  REQUIRE(query.find(encoded_plus) != std::string::npos);
  query.replace(query.find(encoded_plus), encoded_plus.size(), "jobName=a+b");
  const std::string response = raw_exchange(
      emu.port(), "GET /v2/index.php?" + query + " HTTP/1.1\r\nHost: " + emu.host() + "\r\n\r\n");
  CHECK(response.find(kAuthFailure) != std::string::npos);
  CHECK(raw_header(response, "X-Emulator-String-To-Sign").find("&jobName=a%20b&") != std::string::npos);
}

TEST_CASE("an unknown SignatureMethod and SHA-256 without SignatureMethod fail with 4100") {
  LiveEmulator emu;
  CHECK(emu.get_text(with(create_request(), "SignatureMethod", "TC2-HmacSHA256")) == kAuthFailure);
  // Signed with SHA-256 but without saying so: the emulator checks SHA-1 (the Go SDK's mistake).
  Params params = with(create_request(), "SignatureMethod", "HmacSHA256");
  params = sign(params, "GET", emu.host());
  std::erase_if(params, [](const auto &p) { return p.first == "SignatureMethod"; });
  CHECK(raw_get(emu, params)->body == kAuthFailure);
}

TEST_CASE("POST values starting with @ are left out of the signature") {
  LiveEmulator emu;
  // post_form signs like the SDKs: without the upload value.
  CHECK(emu.post_form(with(create_request(), "upload", "@/tmp/file"))["code"] == 0);
}

TEST_CASE("a Timestamp outside the window is 4500") {
  LiveEmulator emu;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string old = std::to_string(now - 3 * 3600);
  const std::string body = emu.get_text(with(create_request(), "Timestamp", old));
  const auto json = nlohmann::json::parse(body);
  CHECK(json["code"] == 4500);
  CHECK(json["codeDesc"] == "InvalidRequest.ReplayAttack");
  CHECK(json["message"] == "replay attack suspected: Timestamp " + old + " is " +
                               std::to_string(now - std::stoll(old)) + " s away from the server time, more than 7200 s");
  CHECK(emu.get(with(create_request(), "Timestamp", std::to_string(now + 3 * 3600)))["code"] == 4500);
  CHECK(emu.get(with(create_request(), "Timestamp", std::to_string(now - 7000)))["code"] == 0);
}

TEST_CASE("a reused nonce is 4500 and only a valid signature records one") {
  LiveEmulator emu;
  const Params first = create_request();
  const std::string nonce = value_of(first, "Nonce");
  // A bad signature does not consume the nonce ...
  CHECK(raw_get(emu, sign(first, "GET", emu.host(), "wrong"))->body == kAuthFailure);
  CHECK(emu.get(first)["code"] == 0);
  // ... a success does, and so does a business error.
  CHECK(emu.get_text(with(first, "Timestamp", value_of(first, "Timestamp"))) ==
        R"({"code":4500,"message":"replay attack suspected: Nonce )" + nonce +
            R"( was already used with this SecretId within 7200 s","codeDesc":"InvalidRequest.ReplayAttack"})");
  const Params failing = with(create_request(), "jobName", "");
  CHECK(emu.get(failing)["code"] == 9003);
  CHECK(emu.get(failing)["code"] == 4500);
  // The same nonce under another key is a different pair.
  Config cfg = LiveEmulator::default_config();
  cfg.credentials = {"AKIDSECOND:second-secret"};
  LiveEmulator two(cfg);
  CHECK(two.get(first)["code"] == 0);
  CHECK(two.get_text(sign(with(first, "SecretId", "AKIDSECOND"), "GET", two.host(), "second-secret"), false)
            .find(R"("code":0)") != std::string::npos);
}

TEST_CASE("nonce memory is bounded and the oldest entries go first") {
  Config cfg = LiveEmulator::default_config();
  cfg.nonce_capacity = 2;
  LiveEmulator emu(cfg);
  const Params a = create_request();
  CHECK(emu.get(a)["code"] == 0);
  CHECK(emu.get(create_request())["code"] == 0);
  CHECK(emu.get(a)["code"] == 4500);
  CHECK(emu.get(create_request())["code"] == 0);  // evicts a
  CHECK(emu.get(a)["code"] == 0);
}

TEST_CASE("a sub-account gets 4101 for actions and 4102 for instances it may not use") {
  const std::string dir = fixtures_with_credentials(R"({"credentials": [
    {"secretId": "AKIDLISTONLY", "secretKey": "k1", "subAccount": true, "allowedActions": ["GetCdbDataSyncTaskList"]},
    {"secretId": "AKIDSUB", "secretKey": "k2", "subAccount": true, "allowedInstances": ["cdb-c1nl9rpv", "cdb-d2sagyed"]},
    {"secretId": "AKIDOTHER", "secretKey": "k3", "uin": "100000000002"}
  ]})");
  Config cfg = LiveEmulator::default_config();
  cfg.fixtures = dir;
  LiveEmulator emu(cfg);
  auto call = [&](Params params, const std::string &key) {
    return emu.get_text(sign(params, "GET", emu.host(), key), false);
  };
  CHECK(call(create_request("AKIDLISTONLY"), "k1") ==
        R"({"code":4101,"message":"this key is not authorized to call this action: operation cdb:CreateCdbDataSyncTask","codeDesc":"AuthFailure"})");
  CHECK(nlohmann::json::parse(call(create_request("AKIDSUB"), "k2"))["code"] == 0);
  CHECK(call(with(create_request("AKIDSUB"), "dstInfo.0.cdbUInstanceId", "cdb-ek0t57qd"), "k2") ==
        R"({"code":4102,"message":"this key is not authorized to access the resource: operation cdb:CreateCdbDataSyncTask, resource qcs::cdb:ap-shanghai:uin/100000000001:instanceId/cdb-ek0t57qd","codeDesc":"SecretidNotAuthAccessResource"})");
  // 4102 comes before existence: an instance that does not exist is still not allowed.
  CHECK(nlohmann::json::parse(call(with(create_request("AKIDSUB"), "srcInfo.0.cdbUInstanceId", "cdb-nothere1"), "k2"))["code"] == 4102);
  // Another account's key does not see this account's instances.
  CHECK(call(create_request("AKIDOTHER"), "k3") ==
        R"({"code":9572,"message":"instance does not exist: srcInfo.0.cdbUInstanceId \"cdb-c1nl9rpv\"","codeDesc":"InstanceNotExists"})");
  // The built-in keys are replaced by the directory's credentials.json.
  CHECK(nlohmann::json::parse(emu.get_text(create_request()))["code"] == 4104);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a broken credentials file stops the start with file and line and field") {
  const std::string dir = fixtures_with_credentials("{\"credentials\": [\n{\"secretId\": \"A\"}]}");
  Config cfg = LiveEmulator::default_config();
  cfg.fixtures = dir;
  CHECK_THROWS_WITH(LiveEmulator{cfg}, (dir + "/credentials.json:2: credentials[0].secretKey: must be a string").c_str());
  std::filesystem::remove_all(dir);
}

TEST_CASE("auth off skips every auth check but keeps the presence checks") {
  Config cfg = LiveEmulator::default_config();
  cfg.auth = "off";
  LiveEmulator emu(cfg);
  CHECK(emu.get_text(with(create_request("AKIDNOSUCHKEY"), "Timestamp", "1"), false)
            .find(R"("code":0)") != std::string::npos);
  CHECK(emu.get(with(create_request(), "Signature", "x"))["code"] == 0);
  Params missing = create_request();
  std::erase_if(missing, [](const auto &p) { return p.first == "Signature"; });
  CHECK(emu.get_text(missing, false) ==
        R"({"code":4000,"message":"invalid parameter: missing required parameter Signature","codeDesc":"InvalidParameter"})");
}

TEST_CASE("credential flags add keys and replace fixture keys") {
  Config cfg = LiveEmulator::default_config();
  cfg.credentials = {"AKIDEMULATORDEFAULTKEY:rotated", "AKIDNEW:new:secret:with:colons"};
  LiveEmulator emu(cfg);
  CHECK(emu.get_text(create_request()) == kAuthFailure);
  CHECK(emu.get_text(sign(create_request(), "GET", emu.host(), "rotated"), false).find(R"("code":0)") != std::string::npos);
  CHECK(emu.get_text(sign(create_request("AKIDNEW"), "GET", emu.host(), "new:secret:with:colons"), false)
            .find(R"("code":0)") != std::string::npos);
  Config bad = LiveEmulator::default_config();
  bad.credentials = {"no-colon"};
  CHECK_THROWS_WITH(LiveEmulator{bad}, "--credential: a credential must be SECRET_ID:SECRET_KEY");
}

TEST_CASE("TLS serves the same API over HTTPS") {
  Config cfg = LiveEmulator::default_config();
  cfg.tls_cert = CDB_EMU_SOURCE_DIR "/tests/fixtures/tls/cert.pem";
  cfg.tls_key = CDB_EMU_SOURCE_DIR "/tests/fixtures/tls/key.pem";
  LiveEmulator emu(cfg);
  httplib::SSLClient cli("127.0.0.1", emu.port());
  cli.set_ca_cert_path(cfg.tls_cert.c_str());
  cli.enable_server_certificate_verification(true);
  auto res = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", emu.host())));
  REQUIRE(res);
  CHECK(res->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  // Signed for the real host name, as HTTPS-only SDKs do behind a hosts-file entry.
  auto real_host = cli.Get("/v2/index.php?" + encode_query(sign(create_request(), "GET", "cdb.api.qcloud.com")));
  REQUIRE(real_host);
  CHECK(real_host->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":2}})");

  Config bad = LiveEmulator::default_config();
  bad.tls_cert = cfg.tls_key;  // a key is not a certificate
  bad.tls_key = cfg.tls_key;
  CHECK_THROWS_WITH(LiveEmulator{bad}, ("cannot use the TLS certificate " + bad.tls_cert + " with the key " + bad.tls_key).c_str());
}

namespace {

/// Runs the binary's `sign` subcommand and returns its output lines.
std::vector<std::string> run_sign(const std::string &args) {
  const std::string command = std::string(CDB_EMU_BINARY) + " sign " + args;
  FILE *pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::string output;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof(buf), pipe)) output.append(buf, n);
  CHECK(::pclose(pipe) == 0);
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("the sign command produces requests the emulator accepts") {
  LiveEmulator emu;
  const std::string base = "http://" + emu.host() + "/v2/index.php?";
  const std::string query =
      "Action=CreateCdbDataSyncTask&Region=gz&jobName=a%2Bb%20%E6%B5%8B&srcInfo.0.cdbUInstanceId=cdb-c1nl9rpv"
      "&dstInfo.0.cdbUInstanceId=cdb-d2sagyed&dstInfo.0.regionId=sh";
  const auto get = run_sign("--url '" + base + query + "'");
  REQUIRE(get.size() == 3);
  CHECK(get[0].rfind("# string to sign: GET" + emu.host() + "/v2/index.php?Action=CreateCdbDataSyncTask&Nonce=", 0) == 0);
  CHECK(get[0].find("&jobName=a+b 测&") != std::string::npos);
  auto cli = emu.client();
  auto res = cli.Get(get[1].substr(get[1].find("/v2/")));
  REQUIRE(res);
  CHECK(res->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  CHECK(get[2].rfind("curl -s 'http://", 0) == 0);

  const auto post = run_sign("--method POST --signature-method HmacSHA256 --url '" + base + query + "'");
  REQUIRE(post.size() == 3);
  const std::string body = post[1].substr(std::string("# body: ").size());
  auto posted = cli.Post("/v2/index.php", body, "application/x-www-form-urlencoded");
  REQUIRE(posted);
  CHECK(posted->body == R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":2}})");

  // A wrong key signs something the emulator refuses.
  const auto wrong = run_sign("--secret-key nope --url '" + base + query + "'");
  auto refused = cli.Get(wrong[1].substr(wrong[1].find("/v2/")));
  REQUIRE(refused);
  CHECK(refused->body == kAuthFailure);
}
