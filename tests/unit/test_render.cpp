#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "domain/errors.hpp"
#include "http/render.hpp"

using namespace cdbemu;

TEST_CASE("the success envelope's exact bytes") {
  CHECK(http::success_body(R"({"jobId":1})", false) ==
        R"({"code":0,"message":"","codeDesc":"Success","data":{"jobId":1}})");
  CHECK(http::success_body(R"({"jobId":206})", true) ==
        R"({"code":"0","message":"","codeDesc":"Success","data":{"jobId":206}})");
  CHECK(http::success_body("[]", false) ==
        R"({"code":0,"message":"","codeDesc":"Success","data":[]})");
}

TEST_CASE("the error envelope's exact bytes: raw UTF-8 and no data") {
  CHECK(http::error_body(domain::ApiError(domain::ErrorCode::AuthFailure)) ==
        R"({"code":4100,"message":"身份认证失败，用户身份验证失败","codeDesc":"AuthFailure"})");
  CHECK(http::error_body(domain::ApiError(domain::ErrorCode::InstanceNotExists, "cdb-1")) ==
        R"({"code":9572,"message":"instance does not exist: cdb-1","codeDesc":"InstanceNotExists"})");
}

TEST_CASE("invalid UTF-8 in a message is replaced, never thrown") {
  const std::string bad = "\xff\xfe";
  CHECK(http::error_body(domain::ApiError(domain::ErrorCode::InvalidParameter, bad)) ==
        "{\"code\":4000,\"message\":\"invalid parameter: \xEF\xBF\xBD\xEF\xBF\xBD\",\"codeDesc\":\"InvalidParameter\"}");
}
