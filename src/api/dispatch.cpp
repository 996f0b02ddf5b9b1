#include "api/dispatch.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "api/action.hpp"
#include "domain/errors.hpp"

namespace cdbemu::api {

namespace {

using domain::ApiError;
using domain::ErrorCode;

/// The supported actions. A new action is one file under src/api/ and one row here.
constexpr std::array<std::pair<std::string_view, ActionHandler>, 5> kActions = {{
    {"CreateCdbDataSyncTask", &create_cdb_data_sync_task},
    {"CheckCdbDataSyncTask", &check_cdb_data_sync_task},
    {"StartCdbDataSyncTask", &start_cdb_data_sync_task},
    {"DelCdbDataSyncTask", &del_cdb_data_sync_task},
    {"GetCdbDataSyncTaskList", &get_cdb_data_sync_task_list},
}};

ActionHandler find_action(std::string_view name) {
  for (const auto &[action, handler] : kActions) {
    if (action == name) return handler;
  }
  return nullptr;
}

/// The value of a required common parameter.
std::string required(const http::ParamNode &params, std::string_view name) {
  const std::string *value = value_of(params, name);
  if (!value) throw ApiError(ErrorCode::InvalidParameter, "missing required parameter " + std::string(name));
  if (value->empty()) throw ApiError(ErrorCode::InvalidParameter, "parameter " + std::string(name) + " is empty");
  return *value;
}

bool all_digits(std::string_view text, std::size_t max_len) {
  return !text.empty() && text.size() <= max_len &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string action_name(const http::ParamNode &params) {
  const http::ParamNode *action = params.find("Action");
  return action && action->is_value() ? action->value() : std::string();
}

CommonParams check_common_params(const http::ParamNode &params) {
  CommonParams out;
  out.action = required(params, "Action");
  if (!find_action(out.action)) throw ApiError(ErrorCode::ActionNotFound);

  // Every presence first, then the formats, then the Region's value.
  out.region = required(params, "Region");
  out.timestamp = required(params, "Timestamp");
  out.nonce = required(params, "Nonce");
  out.secret_id = required(params, "SecretId");
  out.signature = required(params, "Signature");
  if (!all_digits(out.timestamp, 10)) {
    throw ApiError(ErrorCode::InvalidParameter, "parameter Timestamp must be Unix seconds (1 to 10 digits)");
  }
  if (!all_digits(out.nonce, 20)) {
    throw ApiError(ErrorCode::InvalidParameter,
                   "parameter Nonce must be a non-negative integer (1 to 20 digits)");
  }
  if (const std::string *method = value_of(params, "SignatureMethod")) out.signature_method = *method;
  if (!domain::find_region(out.region)) {
    throw ApiError(ErrorCode::InvalidParameter,
                   "parameter Region is not a known region name (use e.g. ap-guangzhou or gz)");
  }
  return out;
}

std::string dispatch(domain::TaskService &service, const ApiOptions &options, const http::ParamNode &params,
                     const CommonParams &common, const domain::Credential *caller) {
  const ActionContext ctx{service, options, params, *domain::find_region(common.region), caller};
  return find_action(common.action)(ctx);
}

}  // namespace cdbemu::api
