// CheckCdbDataSyncTask: jobId (9003), then the service's checks and transition.

#include <nlohmann/json.hpp>

#include "api/action.hpp"
#include "domain/task_service.hpp"

namespace cdbemu::api {

std::string check_cdb_data_sync_task(const ActionContext &ctx) {
  ctx.service.check_task(job_id_param(ctx), ctx.region, ctx.caller);
  return "[]";
}

}  // namespace cdbemu::api
