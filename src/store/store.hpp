#pragma once
// The only code that touches SQLite. Thread-safe: one connection behind one (recursive) mutex;
// transaction() makes a group of calls atomic and durable before it returns.
//
// Group commit: a transaction's work goes into the open batch (a savepoint released into one
// SQLite transaction). The batch's first transaction leads: while other requests are being
// served (Pending) it waits, up to 1 ms, for them to join, then commits for all and wakes them.
// Every transaction still returns only after its COMMIT — or throws if that COMMIT failed — so
// an acknowledged write survives a process crash, while concurrent requests share one WAL
// commit. Plain reads may see a batch a few microseconds before it commits.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/records.hpp"

namespace cdbemu::store {

class Database;
class Statement;
class Statement;

/// The task columns List can order by.
enum class TaskOrder { JobId, Status, JobName, SubmitTime };

/// A List query: every set field filters (AND); the page is `limit` rows from `offset`.
struct TaskQuery {
  std::string region;
  std::optional<std::string> owner_uin;
  std::optional<std::set<std::string, std::less<>>> instances;  ///< only tasks whose source and destination are here
  std::optional<std::int64_t> job_id;
  std::optional<std::string> job_name;
  std::optional<std::vector<std::int32_t>> statuses;
  std::optional<std::string> src_instance_id;
  std::optional<std::string> dst_instance_id;
  std::optional<std::int64_t> submit_from;  ///< inclusive, Unix seconds
  std::optional<std::int64_t> submit_to;    ///< inclusive, Unix seconds
  TaskOrder order = TaskOrder::JobId;
  bool descending = true;
  std::int64_t offset = 0;
  std::int64_t limit = 20;
};

/// One page of tasks and how many match in all.
struct TaskPage {
  std::int64_t total = 0;
  std::vector<TaskRecord> tasks;
};

class Store {
 public:
  /// Opens or creates the database at `path` (`:memory:` allowed) and applies every pending
  /// migration from schema/. Throws StoreError.
  explicit Store(const std::string &path);
  ~Store();
  Store(const Store &) = delete;
  Store &operator=(const Store &) = delete;

  /// Runs `body` in one transaction, committed before this returns (rolled back if it throws;
  /// StoreError if the commit fails). Other threads' store calls wait; calls from `body` itself
  /// join the transaction.
  void transaction(const std::function<void()> &body);

  /// Held while a request that may use the store is being served (see group commit above).
  class Pending {
   public:
    explicit Pending(Store &store);
    ~Pending();
    Pending(const Pending &) = delete;
    Pending &operator=(const Pending &) = delete;

   private:
    Store &store_;
  };

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
  /// Writes every field of an existing task.
  void update_task(const TaskRecord &task);
  /// Deletes the task; false if it did not exist.
  bool delete_task(std::int64_t job_id);
  /// Tasks whose next automatic transition is due at `now`, in job id order.
  std::vector<TaskRecord> due_tasks(std::int64_t now);
  /// A task other than `except_job_id` using `instance_id` (as source or destination) whose
  /// status is one of `statuses`.
  std::optional<std::int64_t> task_using(std::string_view instance_id, const std::vector<std::int32_t> &statuses,
                                         std::int64_t except_job_id);
  /// One page of a List query.
  TaskPage list_tasks(const TaskQuery &query);
  /// Deletes every task; with `restart_ids` the next id becomes `first_job_id` again.
  void delete_all_tasks(bool restart_ids, std::int64_t first_job_id);
  /// Adds or replaces one instance.
  void put_instance(const InstanceRecord &instance);
  /// Removes one instance; false if there is none.
  bool delete_instance(std::string_view instance_id);
  /// Every instance and zone, in id order.
  std::vector<InstanceRecord> instances();
  std::vector<ZoneRecord> zones();
  /// Every task, in id order.
  std::vector<TaskRecord> all_tasks();
  /// Stores `task` with its own job_id (import); false if that id is taken.
  bool insert_task_with_id(const TaskRecord &task);
  /// The latest time any stored task records (0 when there are none).
  std::int64_t latest_task_time();
  /// The id counter: the last id handed out (ids continue above it).
  std::int64_t last_job_id();

  /// Copies the whole database into a new one at `path` (`:memory:` or a file) and returns it.
  std::unique_ptr<Database> copy_to(const std::string &path);
  /// Replaces the whole database with a copy of `source` (a snapshot). The id counter keeps the
  /// larger of its value and the snapshot's, in the same step: no id handed out is ever reused.
  void copy_from(Database &source);

  /// Number of stored tasks by status.
  std::map<std::int32_t, std::int64_t> count_by_status();
  /// Number of stored tasks.
  std::int64_t count_tasks();

 private:
  struct Statements;
  class Lock;
  /// Commits the open batch, if any, and wakes the transactions waiting for it.
  void commit_batch();
  /// Re-reads the instances and zones into the in-memory catalog (call with the lock held).
  void load_catalog();
  /// The prepared statement for `sql`, kept for the next call with the same text (List builds
  /// its SQL from the filters given; preparing it each time cost a sixth of a List request).
  /// Valid until the next call; reset it after use (StatementScope).
  Statement &prepared(const std::string &sql);

  /// Whether a waiting leader could stop waiting: the batch is full, or no request being served
  /// is left to join it.
  bool batch_complete() const;

  std::recursive_mutex mutex_;
  std::condition_variable_any batch_grew_;  ///< wakes a batch's leader
  std::atomic<int> pending_{0};             ///< requests being served (Pending)
  std::atomic<bool> leader_waiting_{false};
  int lock_depth_ = 0;         ///< how many times the holder of mutex_ holds it
  int transaction_depth_ = 0;  ///< transaction bodies running (nested ones join the outer)
  bool batch_open_ = false;
  std::atomic<std::size_t> batch_size_{0};
  std::uint64_t batch_ = 1;             ///< the number of the open (or next) batch
  // Followers wait for their batch's commit on this mutex, not the store's: waking them all must
  // not make them fight over the store's mutex only to return.
  std::mutex done_mutex_;
  std::condition_variable batch_done_;
  std::atomic<std::uint64_t> finished_batch_{0};  ///< the last batch committed or failed
  std::uint64_t failed_batch_ = 0;      ///< the last batch whose COMMIT failed (done_mutex_)
  std::string failure_;                 ///< why it failed (done_mutex_)
  std::unique_ptr<Database> db_;
  std::unique_ptr<Statements> stmts_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> prepared_;

  /// The instances and zones, read without the lock by every Create and Check: they change only
  /// through this class, which swaps in a new catalog each time (std::atomic_load/atomic_store).
  struct Catalog {
    std::map<std::string, InstanceRecord, std::less<>> instances;
    std::map<std::int64_t, ZoneRecord> zones;
  };
  std::shared_ptr<const Catalog> catalog_;
  bool catalog_dirty_ = false;  ///< instances or zones written in the open transaction
};

}  // namespace cdbemu::store
