#include "domain/task_service.hpp"

#include "domain/errors.hpp"
#include "domain/task_changes.hpp"
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
  task.owner_uin = caller ? caller->uin : src.uin;
  const std::int64_t id = store_.insert_task(task);
  note_task_change(id, std::nullopt, task.status);
  return id;
}

void TaskService::advance_due(std::int64_t now) {
  if (progression_.polls > 0) return;  // reads move tasks, not time
  for (auto &task : store_.due_tasks(now)) {
    const std::int32_t before = task.status;
    catch_up(task, now);
    store_.update_task(task);
    note_task_change(task.job_id, before, task.status);
  }
}

store::TaskRecord TaskService::task_for(TaskAction action, std::string_view action_name, std::int64_t job_id,
                                        const Region &region, const Credential *caller) {
  auto task = store_.find_task(job_id);
  // Another region's or another account's task does not exist for this request.
  if (!task || task->region != region.long_name || (caller && task->owner_uin != caller->uin)) {
    throw ApiError(ErrorCode::TaskNotExist, "jobId " + std::to_string(job_id));
  }
  const auto dst_region = find_region_by_id(task->dst_region_id);
  check_access(caller, action_name, task->region, task->src_instance_id);
  check_access(caller, action_name, dst_region ? dst_region->long_name : task->region, task->dst_instance_id);
  if (!allowed(action, task->status)) {
    throw ApiError(ErrorCode::StatusNotAllowed,
                   "task " + std::to_string(job_id) + " is at status " + std::to_string(task->status) + " (" +
                       std::string(status_name(task->status)) + "); " + std::string(action_name) +
                       " needs status " + std::string(allowed_statuses(action)));
  }
  return *task;
}

void TaskService::check_no_conflict(const store::TaskRecord &task) {
  const std::vector<std::int32_t> busy(kBusyStatuses.begin(), kBusyStatuses.end());
  for (const auto &instance : {task.src_instance_id, task.dst_instance_id}) {
    if (const auto other = store_.task_using(instance, busy, task.job_id)) {
      const auto holder = store_.find_task(*other);
      throw ApiError(ErrorCode::TaskConflict, "instance " + instance + " is used by task " + std::to_string(*other) +
                                                  " at status " + std::to_string(holder ? holder->status : 0));
    }
  }
}

std::pair<store::InstanceRecord, store::InstanceRecord> TaskService::instances_of(const store::TaskRecord &task) {
  return {existing_instance(store_, nullptr, task.src_instance_id, "source"),
          existing_instance(store_, nullptr, task.dst_instance_id, "destination")};
}

void TaskService::move_task(TaskAction action, std::string_view action_name, std::int64_t job_id, const Region &region,
                            const Credential *caller) {
  store_.transaction([&] {
    const std::int64_t now = clock_.now();
    advance_due(now);
    auto task = task_for(action, action_name, job_id, region, caller);
    check_no_conflict(task);
    const std::int32_t before = task.status;
    const auto [src, dst] = instances_of(task);
    if (action == TaskAction::Check) {
      begin_check(task, now, timing_, src, dst);
    } else {
      begin_start(task, now, timing_, src, dst);
    }
    store_.update_task(task);
    note_task_change(task.job_id, before, task.status);
  });
}

void TaskService::check_task(std::int64_t job_id, const Region &region, const Credential *caller) {
  move_task(TaskAction::Check, "CheckCdbDataSyncTask", job_id, region, caller);
}

void TaskService::start_task(std::int64_t job_id, const Region &region, const Credential *caller) {
  move_task(TaskAction::Start, "StartCdbDataSyncTask", job_id, region, caller);
}

void TaskService::delete_task(std::int64_t job_id, const Region &region, const Credential *caller) {
  store_.transaction([&] {
    advance_due(clock_.now());
    const auto task = task_for(TaskAction::Delete, "DelCdbDataSyncTask", job_id, region, caller);
    check_no_conflict(task);
    store_.delete_task(job_id);
    note_task_change(job_id, task.status, std::nullopt);
  });
}

TaskList TaskService::all_tasks() {
  TaskList out;
  store_.transaction([&] {
    out.now = clock_.now();
    advance_due(out.now);
    out.tasks = store_.all_tasks();
    out.total = static_cast<std::int64_t>(out.tasks.size());
  });
  return out;
}

TaskList TaskService::list_tasks(store::TaskQuery query, const Credential *caller) {
  if (caller) {
    query.owner_uin = caller->uin;
    // A sub-account sees only the tasks whose both instances it may access.
    if (caller->allowed_instances) query.instances = *caller->allowed_instances;
  }
  TaskList out;
  store_.transaction([&] {
    out.now = clock_.now();
    advance_due(out.now);
    auto page = store_.list_tasks(query);
    out.total = page.total;
    out.tasks = std::move(page.tasks);
    if (progression_.polls > 0) {
      // The page shows each task as read; the read may then move it one phase.
      for (auto task : out.tasks) {
        const std::int32_t before = task.status;
        if (++task.polls >= progression_.polls) {
          task.polls = 0;
          advance(task, out.now);
        }
        store_.update_task(task);
        note_task_change(task.job_id, before, task.status);
      }
    }
  });
  return out;
}

}  // namespace cdbemu::domain
