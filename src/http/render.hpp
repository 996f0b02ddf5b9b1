#pragma once
// The wire envelope. Errors are rendered only by render_error.

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace httplib {
struct Response;
}

namespace cdbemu::domain {
class ApiError;
}

namespace cdbemu::http {

/// `{"code":0,"message":"","codeDesc":"Success","data":...}` around `data` (JSON text); code "0"
/// when `string_code`.
std::string success_body(std::string_view data, bool string_code);

/// `{"code":N,"message":"...","codeDesc":"..."}` (no data).
std::string error_body(const domain::ApiError &error);

/// Puts the error envelope in `res` with HTTP status `status` (the API always uses 200).
void render_error(const domain::ApiError &error, httplib::Response &res, int status = 200);

}  // namespace cdbemu::http
