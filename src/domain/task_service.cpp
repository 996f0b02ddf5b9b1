#include "domain/task_service.hpp"

#include "domain/errors.hpp"
#include "domain/text.hpp"
#include "store/store.hpp"

namespace cdbemu::domain {
namespace {

/// 4102 unless `caller` may act on the instance; the message names the operation and resource.
void check_access(const Credential *caller, std::string_view action, std::string_view region,
                  const std::string &instance_id) {
  if (!caller || caller->may_access(instance_id)) return;
  throw ApiError(ErrorCode::ResourceNotAllowed, "operation cdb:" + std::string(action) + ", resource qcs::cdb:" +
                                                    std::string(region) + ":uin/" + caller->uin + ":instanceId/" +
                                                    shown_id(instance_id));
}

/// Rule 4: the instance exists for the caller's account (9572), named by the parameter that gave it.
store::InstanceRecord existing_instance(store::Store &store, const Credential *caller, const std::string &id,
                                        std::string_view parameter) {
  auto instance = store.find_instance(id);
  // Another account's instance does not exist for this caller.
  if (!instance || (caller && instance->uin != caller->uin)) {
    throw ApiError(ErrorCode::InstanceNotExists, std::string(parameter) + " " + quote_for_message(id));
  }
  return *instance;
}

/// Rule 5: every region and zone the request names is where the instances are (30013).
Region check_regions(const CreateTaskRequest &request, const store::InstanceRecord &src,
                     const store::InstanceRecord &dst) {
  if (src.region != request.region.long_name) {
    throw ApiError(ErrorCode::RegionInfoError, "Region " + std::string(request.region.long_name) +
                                                   " is not the region of source " + src.instance_id + " (" +
                                                   src.region + ")");
  }
  const auto dst_region = parse_region(request.dst_region);
  if (!dst_region) {
    throw ApiError(ErrorCode::RegionInfoError,
                   request.dst_region_parameter + " " + quote_for_message(request.dst_region) + " is not a known region");
  }
  if (dst_region->long_name != dst.region) {
    throw ApiError(ErrorCode::RegionInfoError, request.dst_region_parameter + " " + std::string(dst_region->long_name) +
                                                   " is not the region of destination " + dst.instance_id + " (" +
                                                   dst.region + ")");
  }
  if (request.dst_zone_id && *request.dst_zone_id != dst.zone_id) {
    throw ApiError(ErrorCode::RegionInfoError, "dstInfo.0.zoneId " + std::to_string(*request.dst_zone_id) +
                                                   " is not the zone of destination " + dst.instance_id + " (" +
                                                   std::to_string(dst.zone_id) + ")");
  }
  return *dst_region;
}

}  // namespace

std::int64_t TaskService::create_task(const CreateTaskRequest &request, const Credential *caller) {
  // 4102 comes before anything that touches an instance.
  constexpr std::string_view kAction = "CreateCdbDataSyncTask";
  check_access(caller, kAction, request.region.long_name, request.src_instance_id);
  const auto dst_named_region = parse_region(request.dst_region);
  check_access(caller, kAction, dst_named_region ? dst_named_region->long_name : request.region.long_name,
               request.dst_instance_id);
  const auto src = existing_instance(store_, caller, request.src_instance_id, "srcInfo.0.cdbUInstanceId");
  const auto dst = existing_instance(store_, caller, request.dst_instance_id, "dstInfo.0.cdbUInstanceId");
  const Region dst_region = check_regions(request, src, dst);

  // Rule 6: the roles.
  if (src.role != "master") {
    throw ApiError(ErrorCode::SourceInfoError, "source " + src.instance_id + " is not a master instance");
  }
  if (dst.role != "dr") {
    throw ApiError(ErrorCode::DestinationInfoError,
                   "destination " + dst.instance_id + " is not a disaster-recovery instance");
  }
  // Rule 7: the destination's zone.
  if (const auto zone = store_.find_zone(dst.zone_id); zone && !zone->disaster_recovery) {
    throw ApiError(ErrorCode::ZoneNotSupportDr, "zone " + std::to_string(dst.zone_id) + " of destination " +
                                                    dst.instance_id + " does not support disaster recovery");
  }

  store::TaskRecord task;
  task.region = src.region;
  task.job_name = request.job_name;
  task.status = static_cast<std::int32_t>(TaskStatus::Configured);
  task.src_instance_id = src.instance_id;
  task.src_region_id = request.region.id;
  task.src_db_info = request.src_db_info;
  task.is_override_root = request.is_override_root;
  task.dst_instance_id = dst.instance_id;
  task.dst_region_id = dst_region.id;
  task.dst_zone_id = dst.zone_id;
  task.submit_time = clock_.now();
  task.update_time = task.submit_time;
  return store_.insert_task(task);
}

}  // namespace cdbemu::domain
