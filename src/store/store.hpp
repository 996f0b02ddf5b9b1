#pragma once
// The only code that touches SQLite. Thread-safe: one connection behind one mutex.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.hpp"

namespace cdbemu::store {

class Database;
class Statement;

class Store {
 public:
  /// Opens or creates the database at `path` (`:memory:` allowed) and applies every pending
  /// migration from schema/. Throws StoreError.
  explicit Store(const std::string &path);
  ~Store();
  Store(const Store &) = delete;
  Store &operator=(const Store &) = delete;

  /// The schema version after migrations (the highest applied NNN of schema/NNN_name.sql).
  std::int64_t schema_version();

  /// Replaces every instance and zone, in one transaction.
  void replace_fixtures(const std::vector<InstanceRecord> &instances, const std::vector<ZoneRecord> &zones);
  /// The instance with this id.
  std::optional<InstanceRecord> find_instance(std::string_view instance_id);
  /// The zone with this id, when the fixtures list it.
  std::optional<ZoneRecord> find_zone(std::int64_t zone_id);

  /// Makes the next job id at least `first_job_id`; never lowers it.
  void raise_next_job_id(std::int64_t first_job_id);
  /// Stores a new task (job_id ignored) and returns its id; committed before returning.
  std::int64_t insert_task(const TaskRecord &task);
  /// The task with this id.
  std::optional<TaskRecord> find_task(std::int64_t job_id);
  /// Number of stored tasks.
  std::int64_t count_tasks();

 private:
  struct Statements;
  std::mutex mutex_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Statements> stmts_;
};

}  // namespace cdbemu::store
