#pragma once
// The rules of data-sync tasks: the service owns them, the api layer only parses and renders.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/clock.hpp"
#include "domain/credentials.hpp"
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

class TaskService {
 public:
  TaskService(store::Store &store, const Clock &clock) : store_(store), clock_(clock) {}

  /// Checks the caller's access (4102) and the instances (rules 4-7: 9572, 30013, 30004/30005
  /// roles, 30012) and stores the task at status 1. `caller` is nullptr with --auth off.
  std::int64_t create_task(const CreateTaskRequest &request, const Credential *caller);

 private:
  store::Store &store_;
  const Clock &clock_;
};

}  // namespace cdbemu::domain
