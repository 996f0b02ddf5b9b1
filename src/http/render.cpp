#include "http/render.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "domain/errors.hpp"

namespace cdbemu::http {
namespace {

std::string dump(const nlohmann::ordered_json &body) {
  // Input can be echoed in messages: never throw on invalid UTF-8, replace it.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string success_body(std::string_view data, bool string_code) {
  std::string body = string_code ? R"({"code":"0","message":"","codeDesc":"Success","data":)"
                                 : R"({"code":0,"message":"","codeDesc":"Success","data":)";
  body += data;
  body += '}';
  return body;
}

std::string error_body(const domain::ApiError &error) {
  nlohmann::ordered_json body;
  body["code"] = error.code();
  body["message"] = error.message();
  body["codeDesc"] = error.code_desc();
  return dump(body);
}

void render_error(const domain::ApiError &error, httplib::Response &res, int status) {
  res.status = status;
  res.set_content(error_body(error), "application/json");
}

}  // namespace cdbemu::http
