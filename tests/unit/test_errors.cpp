#include <doctest/doctest.h>

#include <set>

#include "domain/errors.hpp"

using namespace cdbemu::domain;

TEST_CASE("the catalogue has one row per code with a codeDesc and a message") {
  std::set<int> codes;
  for (const auto &row : error_catalogue()) {
    CAPTURE(row.code);
    CHECK(codes.insert(row.code).second);
    CHECK(!row.code_desc.empty());
    CHECK(!row.message.empty());
    CHECK(&error_info(row.id) == &row);
  }
  CHECK(codes.size() == 36);
}

TEST_CASE("the real messages of 4100 and 6100 are verbatim") {
  CHECK(ApiError(ErrorCode::AuthFailure).message() == "身份认证失败，用户身份验证失败");
  CHECK(ApiError(ErrorCode::AuthFailure).code_desc() == "AuthFailure");
  CHECK(ApiError(ErrorCode::ActionNotFound).message() ==
        "本版本内不支持的接口或者接口已经被废弃，请参考该接口的文档。");
}

TEST_CASE("a detail follows the default message") {
  const ApiError error(ErrorCode::InstanceNotExists, "cdb-xxxxxxxx");
  CHECK(error.code() == 9572);
  CHECK(error.code_desc() == "InstanceNotExists");
  CHECK(error.message() == "instance does not exist: cdb-xxxxxxxx");
}

TEST_CASE("the Create page's error table is in the catalogue with its codeDesc words") {
  const std::pair<int, const char *> documented[] = {
      {9003, "InvalidParameter"},  {9013, "InternalError"},    {9572, "InstanceNotExists"},
      {30000, "InvalidParameter"}, {30001, "InvalidParameter"}, {30002, "InvalidParameter"},
      {30004, "InvalidParameter"}, {30005, "InvalidParameter"}, {30009, "InvalidParameter"},
      {30010, "OperationDenied"},  {30011, "InvalidParameter"}, {30012, "OperationDenied"},
      {30013, "InvalidParameter"}, {30016, "InvalidParameter"}};
  for (const auto &[code, desc] : documented) {
    CAPTURE(code);
    CHECK(error_info(static_cast<ErrorCode>(code)).code_desc == desc);
  }
}
