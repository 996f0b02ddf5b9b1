#pragma once
// Plain rows the store reads and writes; the domain gives them meaning.

#include <cstdint>
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
};

}  // namespace cdbemu::store
