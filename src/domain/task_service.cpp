#include "domain/task_service.hpp"

#include "domain/errors.hpp"
#include "store/store.hpp"

namespace cdbemu::domain {

std::int64_t TaskService::create_task(const CreateTaskRequest &request) {
  const auto src = store_.find_instance(request.src_instance_id);
  if (!src) {
    throw ApiError(ErrorCode::InstanceNotExists,
                   "srcInfo.0.cdbUInstanceId " + request.src_instance_id + " does not exist");
  }
  const auto dst = store_.find_instance(request.dst_instance_id);
  if (!dst) {
    throw ApiError(ErrorCode::InstanceNotExists,
                   "dstInfo.0.cdbUInstanceId " + request.dst_instance_id + " does not exist");
  }

  if (src->region != request.region.long_name) {
    throw ApiError(ErrorCode::RegionInfoError, "Region " + std::string(request.region.long_name) +
                                                   " is not the region of source " + src->instance_id +
                                                   " (" + src->region + ")");
  }
  const auto dst_region = parse_region(request.dst_region);
  if (!dst_region) {
    throw ApiError(ErrorCode::RegionInfoError, "dstInfo.0.region: unknown region name");
  }
  if (dst_region->long_name != dst->region) {
    throw ApiError(ErrorCode::RegionInfoError, "dstInfo.0.region " + std::string(dst_region->long_name) +
                                                   " is not the region of destination " +
                                                   dst->instance_id + " (" + dst->region + ")");
  }
  if (request.dst_zone_id && *request.dst_zone_id != dst->zone_id) {
    throw ApiError(ErrorCode::RegionInfoError, "dstInfo.0.zoneId " + std::to_string(*request.dst_zone_id) +
                                                   " is not the zone of destination " + dst->instance_id +
                                                   " (" + std::to_string(dst->zone_id) + ")");
  }
  if (src->role != "master") {
    throw ApiError(ErrorCode::SourceInfoError, "source " + src->instance_id + " is not a master instance");
  }
  if (dst->role != "dr") {
    throw ApiError(ErrorCode::DestinationInfoError,
                   "destination " + dst->instance_id + " is not a disaster-recovery instance");
  }

  const auto src_region = find_region(src->region);
  store::TaskRecord task;
  task.region = src->region;
  task.job_name = request.job_name;
  task.status = static_cast<std::int32_t>(TaskStatus::Configured);
  task.src_instance_id = src->instance_id;
  task.src_region_id = src_region ? src_region->id : 0;
  task.src_db_info = request.src_db_info;
  task.is_override_root = request.is_override_root;
  task.dst_instance_id = dst->instance_id;
  task.dst_region_id = dst_region->id;
  task.dst_zone_id = request.dst_zone_id.value_or(0);
  task.submit_time = clock_.now();
  task.update_time = task.submit_time;
  return store_.insert_task(task);
}

}  // namespace cdbemu::domain
