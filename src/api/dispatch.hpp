#pragma once
// The dispatch table {Action name → handler} and the checks of the common parameters.

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "http/params.hpp"

namespace cdbemu::domain {
class TaskService;
struct Credential;
}

namespace cdbemu::api {

/// The common parameters of a request, checked in the order of API.md §4.
struct CommonParams {
  std::string action;
  std::string region;
  std::string timestamp;
  std::string nonce;
  std::string secret_id;
  std::string signature;
  std::string signature_method;  ///< SignatureMethod, "" when absent
};

/// Checks Action (4000 missing, 6100 unknown), then Region, Timestamp, Nonce, SecretId and
/// Signature (4000 missing or malformed, unknown Region). Throws domain::ApiError.
CommonParams check_common_params(const http::ParamNode &params);

/// The Action parameter when it is present as a value, for logging.
std::string action_name(const http::ParamNode &params);

/// Runs the request's action for `caller` (nullptr with --auth off) and returns the success
/// envelope's `data`.
struct ApiOptions;
std::string dispatch(domain::TaskService &service, const ApiOptions &options, const http::ParamNode &params,
                     const CommonParams &common, const domain::Credential *caller);

}  // namespace cdbemu::api
