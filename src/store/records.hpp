#pragma once
// Plain rows the store reads and writes; the domain gives them meaning.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cdbemu::store {

/// A CDB instance from the fixtures.
struct InstanceRecord {
  std::string instance_id;
  std::string region;  ///< long region name
  std::int64_t zone_id = 0;
  std::string role;  ///< "master" or "dr"
  std::string engine_version = "5.7";
  bool is_empty = true;  ///< holds no user data (a destination must)
  std::int64_t app_id = 1250000000;
  std::string uin = "100000000001";
  std::int32_t break_at_step = 0;  ///< 1..6: replication breaks at that run step (status 8)
};

/// A zone from the fixtures.
struct ZoneRecord {
  std::int64_t zone_id = 0;
  bool disaster_recovery = true;
};

/// One database to sync and its tables (none: every table).
struct DbInfoRecord {
  std::string database;
  std::vector<std::string> tables;
};

/// A data-sync task as stored.
struct TaskRecord {
  std::int64_t job_id = 0;
  std::string region;  ///< long name of the region the task belongs to
  std::string job_name;
  std::int32_t status = 0;
  std::string src_instance_id;
  std::int32_t src_region_id = 0;
  std::vector<DbInfoRecord> src_db_info;
  std::int32_t is_override_root = 0;
  std::string dst_instance_id;
  std::int32_t dst_region_id = 0;
  std::int64_t dst_zone_id = 0;
  std::int64_t submit_time = 0;  ///< Unix seconds
  std::int64_t update_time = 0;  ///< Unix seconds
  std::string owner_uin;         ///< the account that created it

  // The lifecycle (domain/task_lifecycle.hpp). Times are Unix seconds of the emulator's clock, 0 = unset.
  std::int32_t run_step = 0;               ///< 1..6 while syncing
  std::optional<std::int64_t> next_at;     ///< next automatic transition
  std::int32_t polls = 0;                  ///< List reads since the last move (--progression polls:N)
  std::int64_t check_at = 0;               ///< Check called
  std::int64_t check_done_at = 0;          ///< verification finished
  std::int32_t check_fail_step = 0;        ///< 0: passes; else the verification step that fails
  std::int64_t start_at = 0;               ///< Start called
  std::int64_t sync_at = 0;                ///< entered status 6
  std::int64_t step_at = 0;                ///< current run step began
  std::int64_t end_at = 0;                 ///< reached 8 or 9
  std::int32_t run_fail_step = 0;          ///< 0: succeeds; else the run step that fails
  std::int64_t verify_seconds = 0;         ///< durations captured when the phase began
  std::int64_t ready_seconds = 0;
  std::int64_t step_seconds = 0;
};

}  // namespace cdbemu::store
