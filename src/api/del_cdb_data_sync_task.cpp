// DelCdbDataSyncTask: jobId (9003), then the service's checks; the task is gone, its id never reused.

#include <nlohmann/json.hpp>

#include "api/action.hpp"
#include "domain/task_service.hpp"

namespace cdbemu::api {

std::string del_cdb_data_sync_task(const ActionContext &ctx) {
  ctx.service.delete_task(job_id_param(ctx), ctx.region, ctx.caller);
  return "[]";
}

}  // namespace cdbemu::api
