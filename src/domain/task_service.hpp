#pragma once
// The rules of data-sync tasks: the service owns them, the api layer only parses and renders.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/clock.hpp"
#include "domain/credentials.hpp"
#include "domain/task_lifecycle.hpp"
#include "store/store.hpp"
#include "domain/regions.hpp"
#include "store/records.hpp"

namespace cdbemu::store {
class Store;
}

namespace cdbemu::domain {

/// Task status codes (API.md §5).
enum class TaskStatus : std::int32_t {
  NotConfigured = 0,
  Configured = 1,
  Verifying = 2,
  VerifyFailed = 3,
  Verified = 4,
  ReadyToSync = 5,
  Syncing = 6,
  ToBeSwitched = 7,
  SyncFailed = 8,
  SyncSucceeded = 9,
};

/// A CreateCdbDataSyncTask request whose shape the api layer has already checked.
struct CreateTaskRequest {
  Region region;  ///< the common Region parameter
  std::string job_name;
  std::string src_instance_id;
  std::vector<store::DbInfoRecord> src_db_info;
  std::int32_t is_override_root = 0;
  std::string dst_instance_id;
  std::string dst_region;            ///< dstInfo.0.region or regionId as sent
  std::string dst_region_parameter;  ///< which of the two gave it, for messages
  std::optional<std::int64_t> dst_zone_id;
};

/// How automatic transitions are driven: by the clock, or by List reads (--progression polls:N).
struct Progression {
  std::int32_t polls = 0;  ///< 0: by the clock; N: a task moves one phase after N List reads
};

/// A List answer: one page of tasks, how many match, and the time they were read at.
struct TaskList {
  std::int64_t total = 0;
  std::vector<store::TaskRecord> tasks;
  std::int64_t now = 0;
};

class TaskService {
 public:
  TaskService(store::Store &store, const Clock &clock, Timing timing = {}, Progression progression = {})
      : store_(store), clock_(clock), timing_(timing), progression_(progression) {}

  const Clock &clock() const { return clock_; }
  const Progression &progression() const { return progression_; }
  const Timing &timing() const { return timing_; }

  /// CheckCdbDataSyncTask: 9591 → 4102 → 30016 → 9592, then 1 → 2.
  void check_task(std::int64_t job_id, const Region &region, const Credential *caller);
  /// StartCdbDataSyncTask: 9591 → 4102 → 30016 → 9592, then 4 → 5.
  void start_task(std::int64_t job_id, const Region &region, const Credential *caller);
  /// DelCdbDataSyncTask: 9591 → 4102 → 30016 → 9592, then the task is gone (its id is never reused).
  void delete_task(std::int64_t job_id, const Region &region, const Credential *caller);
  /// Every task, after every due transition (export).
  TaskList all_tasks();

  /// Held while an API request is being served: lets concurrent requests share commits.
  store::Store::Pending request_in_progress() { return store::Store::Pending(store_); }

  /// The stored task as it is, without applying due transitions (for matching faults).
  std::optional<store::TaskRecord> peek_task(std::int64_t job_id) { return store_.find_task(job_id); }

  /// GetCdbDataSyncTaskList: the caller's tasks of `query.region` that match, after every due
  /// transition. With --progression polls:N each listed task counts a read (and may move after it).
  TaskList list_tasks(store::TaskQuery query, const Credential *caller);

  /// Checks the caller's access (4102) and the instances (rules 4-7: 9572, 30013, 30004/30005
  /// roles, 30012) and stores the task at status 1. `caller` is nullptr with --auth off.
  std::int64_t create_task(const CreateTaskRequest &request, const Credential *caller);

 private:
  /// Check or Start: every check in order, then the transition, in one transaction.
  void move_task(TaskAction action, std::string_view action_name, std::int64_t job_id, const Region &region,
                 const Credential *caller);
  /// Applies every transition due by `now`. Runs inside a store transaction.
  void advance_due(std::int64_t now);
  /// The task for an action: 9591 unless it exists in `region` for the caller's account, 4102
  /// unless the caller may touch its instances, 30016 unless `action` is allowed at its status.
  store::TaskRecord task_for(TaskAction action, std::string_view action_name, std::int64_t job_id,
                             const Region &region, const Credential *caller);
  /// 9592 when another task in a busy status uses the task's source or destination.
  void check_no_conflict(const store::TaskRecord &task);
  /// The two instances of a task (9572 if the fixtures no longer have one).
  std::pair<store::InstanceRecord, store::InstanceRecord> instances_of(const store::TaskRecord &task);

  store::Store &store_;
  const Clock &clock_;
  Timing timing_;
  Progression progression_;
};

}  // namespace cdbemu::domain
