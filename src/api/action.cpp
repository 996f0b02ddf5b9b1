#include "api/action.hpp"

namespace cdbemu::api {

const std::string *value_of(const http::ParamNode &node, std::string_view name, domain::ErrorCode code,
                            std::string_view path) {
  const http::ParamNode *child = node.find(name);
  if (!child) return nullptr;
  if (!child->is_value()) {
    throw domain::ApiError(code, std::string(path.empty() ? name : path) +
                                     " must be a single value, not a list or object");
  }
  return &child->value();
}

std::int64_t job_id_param(const ActionContext &ctx) {
  const std::string *text = value_of(ctx.params, "jobId", domain::ErrorCode::ParameterError, "jobId");
  if (!text || text->empty()) throw domain::ApiError(domain::ErrorCode::ParameterError, "jobId is required");
  const bool canonical = text->size() <= 19 && text->front() != '0' &&
                         text->find_first_not_of("0123456789") == std::string::npos &&
                         (text->size() < 19 || *text <= "9223372036854775807");
  if (!canonical) throw domain::ApiError(domain::ErrorCode::ParameterError, "jobId must be a positive integer");
  return std::stoll(*text);
}

}  // namespace cdbemu::api
