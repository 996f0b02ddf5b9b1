#pragma once
// What every action handler gets and returns. A handler parses its parameters, calls the domain
// service and returns the `data` of the success envelope; errors are thrown as domain::ApiError.

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "domain/errors.hpp"
#include "domain/regions.hpp"
#include "http/params.hpp"

namespace cdbemu::domain {
class TaskService;
struct Credential;
}

namespace cdbemu::api {

/// The context of one API request after the common parameters have been checked.
struct ActionContext {
  domain::TaskService &service;
  const http::ParamNode &params;
  domain::Region region;              ///< the common Region parameter, resolved
  const domain::Credential *caller;  ///< the authenticated key; nullptr with --auth off
};

/// An action: returns the success envelope's `data`.
using ActionHandler = nlohmann::ordered_json (*)(const ActionContext &);

/// The value parameter `name` under `node`, or nullptr when absent. A list or object where a
/// value belongs throws `code`, naming the parameter by `path` (default: `name`).
const std::string *value_of(const http::ParamNode &node, std::string_view name,
                            domain::ErrorCode code = domain::ErrorCode::InvalidParameter,
                            std::string_view path = {});

// The actions, one file each under src/api/, registered in dispatch.cpp's table.

/// CreateCdbDataSyncTask → {"jobId": N}.
nlohmann::ordered_json create_cdb_data_sync_task(const ActionContext &ctx);

}  // namespace cdbemu::api
