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

}  // namespace cdbemu::api
