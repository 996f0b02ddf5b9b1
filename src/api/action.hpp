#pragma once
// What every action handler gets and returns. A handler parses its parameters, calls the domain
// service and returns the `data` of the success envelope; errors are thrown as domain::ApiError.

#include <cstdint>
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

/// How the API presents what it returns.
struct ApiOptions {
  std::int32_t utc_offset = 8 * 3600;  ///< times on the wire are in this zone (--timezone)
};

/// The context of one API request after the common parameters have been checked.
struct ActionContext {
  domain::TaskService &service;
  const ApiOptions &options;
  const http::ParamNode &params;
  domain::Region region;              ///< the common Region parameter, resolved
  const domain::Credential *caller;  ///< the authenticated key; nullptr with --auth off
};

/// An action: returns the success envelope's `data`, as JSON text.
using ActionHandler = std::string (*)(const ActionContext &);

/// The value parameter `name` under `node`, or nullptr when absent. A list or object where a
/// value belongs throws `code`, naming the parameter by `path` (default: `name`).
const std::string *value_of(const http::ParamNode &node, std::string_view name,
                            domain::ErrorCode code = domain::ErrorCode::InvalidParameter,
                            std::string_view path = {});

/// The `jobId` parameter of Check, Start and Delete: 9003 unless a canonical positive integer.
std::int64_t job_id_param(const ActionContext &ctx);

// The actions, one file each under src/api/, registered in dispatch.cpp's table.

/// CreateCdbDataSyncTask → {"jobId": N}.
std::string create_cdb_data_sync_task(const ActionContext &ctx);
/// CheckCdbDataSyncTask → [].
std::string check_cdb_data_sync_task(const ActionContext &ctx);
/// StartCdbDataSyncTask → [].
std::string start_cdb_data_sync_task(const ActionContext &ctx);
/// DelCdbDataSyncTask → [].
std::string del_cdb_data_sync_task(const ActionContext &ctx);
/// GetCdbDataSyncTaskList → {"totalCount": N, "jobList": [...]}.
std::string get_cdb_data_sync_task_list(const ActionContext &ctx);

}  // namespace cdbemu::api
