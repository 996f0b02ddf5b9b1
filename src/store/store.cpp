#include "store/store.hpp"

#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "store/resources.hpp"
#include "store/sqlite.hpp"

namespace cdbemu::store {
namespace {

// Every task column but job_id, in the order bind_task() binds and read_task() reads them (after job_id).
#define CDB_EMU_TASK_FIELDS                                                                              \
  "region, job_name, status, src_instance_id, src_region_id, src_db_info, is_override_root, "           \
  "dst_instance_id, dst_region_id, dst_zone_id, submit_time, update_time, owner_uin, run_step, next_at, " \
  "polls, check_at, check_done_at, check_fail_step, start_at, sync_at, step_at, end_at, run_fail_step, "  \
  "verify_seconds, ready_seconds, step_seconds"
#define CDB_EMU_TASK_PLACEHOLDERS "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
#define CDB_EMU_TASK_ASSIGNMENTS                                                                         \
  "region = ?, job_name = ?, status = ?, src_instance_id = ?, src_region_id = ?, src_db_info = ?, "     \
  "is_override_root = ?, dst_instance_id = ?, dst_region_id = ?, dst_zone_id = ?, submit_time = ?, "     \
  "update_time = ?, owner_uin = ?, run_step = ?, next_at = ?, polls = ?, check_at = ?, check_done_at = ?, " \
  "check_fail_step = ?, start_at = ?, sync_at = ?, step_at = ?, end_at = ?, run_fail_step = ?, "         \
  "verify_seconds = ?, ready_seconds = ?, step_seconds = ?"
constexpr int kTaskFieldCount = 27;

#define CDB_EMU_INSTANCE_COLUMNS \
  "instance_id, region, zone_id, role, engine_version, is_empty, app_id, uin, break_at_step"

/// The NNN of `NNN_name.sql`, or -1.
std::int64_t migration_version(std::string_view file_name) {
  std::int64_t version = -1;
  const auto [end, ec] = std::from_chars(file_name.data(), file_name.data() + file_name.size(), version);
  if (ec != std::errc{} || end == file_name.data() || *end != '_') return -1;
  return version;
}

std::string db_info_to_json(const std::vector<DbInfoRecord> &db_info) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto &db : db_info) {
    out.push_back({{"database", db.database}, {"table", db.tables}});
  }
  return out.dump();
}

/// Reads db_info_to_json's text as it streams by (SAX), without building a JSON tree first:
/// every List row goes through here.
class DbInfoReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit DbInfoReader(std::vector<DbInfoRecord> &out) : out_(out) {}

  bool start_object(std::size_t) override {
    out_.emplace_back();
    return true;
  }
  bool key(string_t &name) override {
    in_tables_ = name == "table";
    return true;
  }
  bool string(string_t &value) override {
    if (out_.empty()) return false;
    if (in_tables_) {
      out_.back().tables.push_back(std::move(value));
    } else {
      out_.back().database = std::move(value);
    }
    return true;
  }
  bool null() override { return false; }
  bool boolean(bool) override { return false; }
  bool number_integer(number_integer_t) override { return false; }
  bool number_unsigned(number_unsigned_t) override { return false; }
  bool number_float(number_float_t, const string_t &) override { return false; }
  bool binary(binary_t &) override { return false; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override { return false; }

 private:
  std::vector<DbInfoRecord> &out_;
  bool in_tables_ = false;
};

std::vector<DbInfoRecord> db_info_from_json(const std::string &text) {
  std::vector<DbInfoRecord> out;
  DbInfoReader reader(out);
  if (!nlohmann::json::sax_parse(text, &reader)) throw StoreError("a task's src_db_info is not db_info JSON: " + text);
  return out;
}

/// Binds every field but job_id from index `first`; returns the next free index.
int bind_task(Statement &stmt, const TaskRecord &task, int first) {
  int i = first;
  const auto put = [&](auto value) { stmt.bind(i++, value); };
  const auto put_int = [&](std::int64_t value) { stmt.bind(i++, value); };
  put(std::string_view(task.region));
  put(std::string_view(task.job_name));
  put_int(task.status);
  put(std::string_view(task.src_instance_id));
  put_int(task.src_region_id);
  put(std::string_view(db_info_to_json(task.src_db_info)));
  put_int(task.is_override_root);
  put(std::string_view(task.dst_instance_id));
  put_int(task.dst_region_id);
  put_int(task.dst_zone_id);
  put_int(task.submit_time);
  put_int(task.update_time);
  put(std::string_view(task.owner_uin));
  put_int(task.run_step);
  if (task.next_at) {
    put_int(*task.next_at);
  } else {
    stmt.bind_null(i++);
  }
  for (const std::int64_t value :
       {std::int64_t{task.polls}, task.check_at, task.check_done_at, std::int64_t{task.check_fail_step}, task.start_at,
        task.sync_at, task.step_at, task.end_at, std::int64_t{task.run_fail_step}, task.verify_seconds,
        task.ready_seconds, task.step_seconds}) {
    put_int(value);
  }
  return i;
}

/// A task from a row of "SELECT job_id, " CDB_EMU_TASK_FIELDS.
TaskRecord read_task(const Statement &stmt) {
  const auto i32 = [&](int column) { return static_cast<std::int32_t>(stmt.column_int(column)); };
  TaskRecord task;
  int c = 0;
  task.job_id = stmt.column_int(c++);
  task.region = stmt.column_text(c++);
  task.job_name = stmt.column_text(c++);
  task.status = i32(c++);
  task.src_instance_id = stmt.column_text(c++);
  task.src_region_id = i32(c++);
  task.src_db_info = db_info_from_json(stmt.column_text(c++));
  task.is_override_root = i32(c++);
  task.dst_instance_id = stmt.column_text(c++);
  task.dst_region_id = i32(c++);
  task.dst_zone_id = stmt.column_int(c++);
  task.submit_time = stmt.column_int(c++);
  task.update_time = stmt.column_int(c++);
  task.owner_uin = stmt.column_text(c++);
  task.run_step = i32(c++);
  if (!stmt.column_is_null(c)) task.next_at = stmt.column_int(c);
  ++c;
  task.polls = i32(c++);
  task.check_at = stmt.column_int(c++);
  task.check_done_at = stmt.column_int(c++);
  task.check_fail_step = i32(c++);
  task.start_at = stmt.column_int(c++);
  task.sync_at = stmt.column_int(c++);
  task.step_at = stmt.column_int(c++);
  task.end_at = stmt.column_int(c++);
  task.run_fail_step = i32(c++);
  task.verify_seconds = stmt.column_int(c++);
  task.ready_seconds = stmt.column_int(c++);
  task.step_seconds = stmt.column_int(c++);
  return task;
}

/// Runs the prepared instance INSERT for `instance`.
void insert_instance(Statement &insert, const InstanceRecord &instance) {
  StatementScope scope(insert);
  insert.bind(1, instance.instance_id)
      .bind(2, instance.region)
      .bind(3, instance.zone_id)
      .bind(4, instance.role)
      .bind(5, instance.engine_version)
      .bind(6, std::int64_t{instance.is_empty})
      .bind(7, instance.app_id)
      .bind(8, instance.uin)
      .bind(9, std::int64_t{instance.break_at_step})
      .run();
}

InstanceRecord read_instance(const Statement &stmt) {
  InstanceRecord out;
  out.instance_id = stmt.column_text(0);
  out.region = stmt.column_text(1);
  out.zone_id = stmt.column_int(2);
  out.role = stmt.column_text(3);
  out.engine_version = stmt.column_text(4);
  out.is_empty = stmt.column_int(5) != 0;
  out.app_id = stmt.column_int(6);
  out.uin = stmt.column_text(7);
  out.break_at_step = static_cast<std::int32_t>(stmt.column_int(8));
  return out;
}

void migrate(Database &db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL,"
      " applied_at INTEGER NOT NULL DEFAULT (unixepoch()))");
  std::int64_t current = 0;
  {
    Statement max(db.handle(), "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (max.step()) current = max.column_int(0);
  }
  std::int64_t known = 0;
  for (const auto &file : resources::schema_files()) {
    known = std::max(known, migration_version(file.name));
  }
  if (current > known) {
    throw StoreError("the database has schema version " + std::to_string(current) +
                     " but this emulator knows only up to " + std::to_string(known) +
                     ": it was written by a newer version");
  }
  for (const auto &file : resources::schema_files()) {
    const std::int64_t version = migration_version(file.name);
    if (version <= 0) throw StoreError("embedded schema file " + std::string(file.name) + " has no NNN_ prefix");
    if (version <= current) continue;
    Transaction tx(db);
    db.exec(file.bytes);
    Statement record(db.handle(), "INSERT INTO schema_migrations (version, name) VALUES (?, ?)");
    record.bind(1, version).bind(2, file.name).run();
    tx.commit();
  }
}

const char *order_column(TaskOrder order) {
  switch (order) {
    case TaskOrder::Status: return "status";
    case TaskOrder::JobName: return "job_name";
    case TaskOrder::SubmitTime: return "submit_time";
    case TaskOrder::JobId: break;
  }
  return "job_id";
}

}  // namespace

struct Store::Statements {
  explicit Statements(sqlite3 *db)
      : insert_instance(db, "INSERT INTO instances (" CDB_EMU_INSTANCE_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        insert_zone(db, "INSERT INTO zones (zone_id, disaster_recovery) VALUES (?, ?)"),
        insert_task(db, "INSERT INTO tasks (" CDB_EMU_TASK_FIELDS ") VALUES (" CDB_EMU_TASK_PLACEHOLDERS ")"),
        update_task(db, "UPDATE tasks SET " CDB_EMU_TASK_ASSIGNMENTS " WHERE job_id = ?"),
        find_task(db, "SELECT job_id, " CDB_EMU_TASK_FIELDS " FROM tasks WHERE job_id = ?"),
        delete_task(db, "DELETE FROM tasks WHERE job_id = ?"),
        due_tasks(db, "SELECT job_id, " CDB_EMU_TASK_FIELDS " FROM tasks WHERE next_at <= ? ORDER BY next_at, job_id"),
        count_tasks(db, "SELECT count(*) FROM tasks"),
        // Deferred: a batch of reads alone never takes the write lock (this is the only writer).
        begin(db, "BEGIN"),
        savepoint(db, "SAVEPOINT work"),
        release(db, "RELEASE work"),
        rollback_to(db, "ROLLBACK TO work"),
        commit(db, "COMMIT") {}

  Statement insert_instance;
  Statement insert_zone;
  Statement insert_task;
  Statement update_task;
  Statement find_task;
  Statement delete_task;
  Statement due_tasks;
  Statement count_tasks;
  Statement begin;
  Statement savepoint;
  Statement release;
  Statement rollback_to;
  Statement commit;
};

/// The store's mutex, counting how deep its holder holds it.
class Store::Lock {
 public:
  explicit Lock(Store &store) : store_(store), lock_(store.mutex_) { ++store_.lock_depth_; }
  ~Lock() {
    if (lock_.owns_lock()) --store_.lock_depth_;
  }
  Lock(const Lock &) = delete;
  Lock &operator=(const Lock &) = delete;

  /// Waits (the mutex released meanwhile) until `done` holds.
  template <class Predicate>
  void wait(std::condition_variable_any &cv, Predicate done) {
    const int depth = std::exchange(store_.lock_depth_, 0);
    cv.wait(lock_, done);
    store_.lock_depth_ = depth;
  }
  /// Lets go of the mutex for good (before this Lock ends).
  void release() {
    --store_.lock_depth_;
    lock_.unlock();
  }
  /// The same, giving up at `deadline`.
  template <class Predicate>
  void wait_until(std::condition_variable_any &cv, std::chrono::steady_clock::time_point deadline, Predicate done) {
    const int depth = std::exchange(store_.lock_depth_, 0);
    cv.wait_until(lock_, deadline, done);
    store_.lock_depth_ = depth;
  }

 private:
  Store &store_;
  std::unique_lock<std::recursive_mutex> lock_;
};

namespace {
/// Runs a prepared statement once.
void run(Statement &stmt) {
  StatementScope scope(stmt);
  scope->run();
}
}  // namespace

Store::Store(const std::string &path) : db_(std::make_unique<Database>(path)) {
  try {
    db_->exec("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000");
    if (path != ":memory:" && !path.empty()) {
      // WAL + synchronous=NORMAL keeps every committed transaction through a process crash.
      db_->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    }
    migrate(*db_);
    stmts_ = std::make_unique<Statements>(db_->handle());
    load_catalog();
  } catch (const StoreError &e) {
    throw StoreError("database " + path + ": " + e.what());
  }
}

Store::~Store() = default;

Store::Pending::Pending(Store &store) : store_(store) { ++store_.pending_; }

Store::Pending::~Pending() {
  --store_.pending_;
  if (store_.leader_waiting_ && store_.batch_complete()) store_.batch_grew_.notify_one();
}

bool Store::batch_complete() const {
  constexpr std::size_t kMaxBatch = 64;
  return batch_size_ >= kMaxBatch || pending_ <= static_cast<int>(batch_size_);
}

void Store::transaction(const std::function<void()> &body) {
  // A batch stops growing at 64 transactions (batch_complete) or after this wait, so no request
  // waits long for others.
  constexpr auto kMaxWait = std::chrono::milliseconds(1);
  Lock lock(*this);
  if (transaction_depth_ > 0) {
    body();
    return;
  }
  if (!batch_open_) {
    run(stmts_->begin);
    batch_open_ = true;
    batch_size_ = 0;
  }
  const std::uint64_t batch = batch_;
  ++batch_size_;
  run(stmts_->savepoint);
  std::exception_ptr failure;
  ++transaction_depth_;
  try {
    body();
  } catch (...) {
    failure = std::current_exception();
  }
  --transaction_depth_;
  if (failure) run(stmts_->rollback_to);
  run(stmts_->release);
  if (failure && catalog_dirty_) load_catalog();
  // The leader waits while requests are being served that have not joined; a holder of the
  // mutex from outside (lock_depth_ > 1) cannot release it to wait, so it commits at once.
  if (lock_depth_ > 1 || batch_complete()) {
    commit_batch();
  } else if (batch_size_ == 1) {
    leader_waiting_ = true;
    lock.wait_until(batch_grew_, std::chrono::steady_clock::now() + kMaxWait,
                    [&] { return finished_batch_ >= batch || batch_complete(); });
    leader_waiting_ = false;
    if (finished_batch_ < batch) commit_batch();
  } else {
    // A follower: the leader commits for it; the leader wakes when its wait can end.
    if (leader_waiting_ && batch_complete()) batch_grew_.notify_one();
    if (failure) std::rethrow_exception(failure);
    // It waits for the commit without the store's mutex.
    lock.release();
    std::unique_lock done(done_mutex_);
    batch_done_.wait(done, [&] { return finished_batch_ >= batch; });
    if (failed_batch_ == batch) throw StoreError(failure_);
    return;
  }
  if (failure) std::rethrow_exception(failure);
  std::lock_guard done(done_mutex_);
  if (failed_batch_ == batch) throw StoreError(failure_);
}

Statement &Store::prepared(const std::string &sql) {
  constexpr std::size_t kMaxPrepared = 256;
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    if (prepared_.size() >= kMaxPrepared) prepared_.clear();
    it = prepared_.emplace(sql, std::make_unique<Statement>(db_->handle(), sql)).first;
  }
  return *it->second;
}

void Store::commit_batch() {
  if (!batch_open_ || transaction_depth_ > 0) return;
  std::string failure;
  try {
    run(stmts_->commit);
  } catch (const StoreError &e) {
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    failure = e.what();
  }
  batch_open_ = false;
  if (catalog_dirty_) load_catalog();  // after a failed commit: what is stored; else: clears the flag
  {
    std::lock_guard done(done_mutex_);
    if (!failure.empty()) {
      failed_batch_ = batch_;
      failure_ = std::move(failure);
    }
    finished_batch_ = batch_++;
  }
  batch_done_.notify_all();
  // A follower that completed the batch committed it: its leader need not wait out its timeout.
  if (leader_waiting_) batch_grew_.notify_one();
}

std::int64_t Store::schema_version() {
  Lock lock(*this);
  Statement max(db_->handle(), "SELECT coalesce(max(version), 0) FROM schema_migrations");
  return max.step() ? max.column_int(0) : 0;
}

void Store::replace_fixtures(const std::vector<InstanceRecord> &instances, const std::vector<ZoneRecord> &zones) {
  transaction([&] {
    db_->exec("DELETE FROM instances; DELETE FROM zones");
    for (const auto &instance : instances) insert_instance(stmts_->insert_instance, instance);
    for (const auto &zone : zones) {
      StatementScope insert(stmts_->insert_zone);
      insert->bind(1, zone.zone_id).bind(2, std::int64_t{zone.disaster_recovery}).run();
    }
    load_catalog();
  });
}

std::optional<InstanceRecord> Store::find_instance(std::string_view instance_id) {
  const auto catalog = std::atomic_load(&catalog_);
  const auto it = catalog->instances.find(instance_id);
  if (it == catalog->instances.end()) return std::nullopt;
  return it->second;
}

std::optional<ZoneRecord> Store::find_zone(std::int64_t zone_id) {
  const auto catalog = std::atomic_load(&catalog_);
  const auto it = catalog->zones.find(zone_id);
  if (it == catalog->zones.end()) return std::nullopt;
  return it->second;
}

void Store::load_catalog() {
  Lock lock(*this);
  auto catalog = std::make_shared<Catalog>();
  Statement instances(db_->handle(), "SELECT " CDB_EMU_INSTANCE_COLUMNS " FROM instances");
  while (instances.step()) {
    InstanceRecord instance = read_instance(instances);
    std::string id = instance.instance_id;
    catalog->instances.emplace(std::move(id), std::move(instance));
  }
  Statement zones(db_->handle(), "SELECT zone_id, disaster_recovery FROM zones");
  while (zones.step()) catalog->zones.emplace(zones.column_int(0), ZoneRecord{zones.column_int(0), zones.column_int(1) != 0});
  std::atomic_store(&catalog_, std::shared_ptr<const Catalog>(std::move(catalog)));
  catalog_dirty_ = batch_open_;  // it may show writes that are not committed yet
}

void Store::raise_next_job_id(std::int64_t first_job_id) {
  transaction([&] {
    Statement update(db_->handle(), "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'tasks'");
    update.bind(1, first_job_id - 1).run();
    if (db_->changes() == 0) {
      Statement insert(db_->handle(),
                       "INSERT INTO sqlite_sequence (name, seq)"
                       " SELECT 'tasks', max(?, coalesce((SELECT max(job_id) FROM tasks), 0))");
      insert.bind(1, first_job_id - 1).run();
    }
  });
}

std::int64_t Store::insert_task(const TaskRecord &task) {
  std::int64_t job_id = 0;
  transaction([&] {
    StatementScope insert(stmts_->insert_task);
    bind_task(stmts_->insert_task, task, 1);
    insert->run();
    job_id = sqlite3_last_insert_rowid(db_->handle());
  });
  return job_id;
}

std::optional<TaskRecord> Store::find_task(std::int64_t job_id) {
  Lock lock(*this);
  StatementScope find(stmts_->find_task);
  find->bind(1, job_id);
  if (!find->step()) return std::nullopt;
  return read_task(stmts_->find_task);
}

void Store::update_task(const TaskRecord &task) {
  transaction([&] {
    StatementScope update(stmts_->update_task);
    const int next = bind_task(stmts_->update_task, task, 1);
    static_assert(kTaskFieldCount == 27);
    update->bind(next, task.job_id).run();
  });
}

bool Store::delete_task(std::int64_t job_id) {
  bool deleted = false;
  transaction([&] {
    StatementScope remove(stmts_->delete_task);
    remove->bind(1, job_id).run();
    deleted = db_->changes() > 0;
  });
  return deleted;
}

std::vector<TaskRecord> Store::due_tasks(std::int64_t now) {
  Lock lock(*this);
  StatementScope due(stmts_->due_tasks);
  due->bind(1, now);
  std::vector<TaskRecord> out;
  while (due->step()) out.push_back(read_task(stmts_->due_tasks));
  return out;
}

std::optional<std::int64_t> Store::task_using(std::string_view instance_id, const std::vector<std::int32_t> &statuses,
                                              std::int64_t except_job_id) {
  std::string sql = "SELECT job_id FROM tasks WHERE job_id != ? AND (src_instance_id = ? OR dst_instance_id = ?) AND status IN (";
  for (std::size_t i = 0; i < statuses.size(); ++i) sql += i ? ", ?" : "?";
  sql += ") ORDER BY job_id LIMIT 1";
  Lock lock(*this);
  StatementScope find(prepared(sql));
  find->bind(1, except_job_id).bind(2, instance_id).bind(3, instance_id);
  int i = 4;
  for (const auto status : statuses) find->bind(i++, std::int64_t{status});
  if (!find->step()) return std::nullopt;
  return find->column_int(0);
}

TaskPage Store::list_tasks(const TaskQuery &query) {
  std::string where = " WHERE region = ?";
  std::vector<std::function<void(Statement &, int &)>> binders;
  binders.push_back([&](Statement &s, int &i) { s.bind(i++, query.region); });
  const auto add_text = [&](const char *clause, const std::optional<std::string> &value) {
    if (!value) return;
    where += clause;
    binders.push_back([&value](Statement &s, int &i) { s.bind(i++, *value); });
  };
  const auto add_int = [&](const char *clause, const std::optional<std::int64_t> &value) {
    if (!value) return;
    where += clause;
    binders.push_back([&value](Statement &s, int &i) { s.bind(i++, *value); });
  };
  add_text(" AND owner_uin = ?", query.owner_uin);
  add_int(" AND job_id = ?", query.job_id);
  add_text(" AND job_name = ?", query.job_name);
  add_text(" AND src_instance_id = ?", query.src_instance_id);
  add_text(" AND dst_instance_id = ?", query.dst_instance_id);
  add_int(" AND submit_time >= ?", query.submit_from);
  add_int(" AND submit_time <= ?", query.submit_to);
  if (query.statuses) {
    where += " AND status IN (";
    for (std::size_t i = 0; i < query.statuses->size(); ++i) where += i ? ", ?" : "?";
    where += query.statuses->empty() ? "NULL)" : ")";
    for (const auto status : *query.statuses) {
      binders.push_back([status](Statement &s, int &i) { s.bind(i++, std::int64_t{status}); });
    }
  }
  if (query.instances) {
    for (const char *column : {" AND src_instance_id IN (", " AND dst_instance_id IN ("}) {
      where += column;
      bool first = true;
      for (const auto &instance : *query.instances) {
        where += first ? "?" : ", ?";
        first = false;
        binders.push_back([&instance](Statement &s, int &i) { s.bind(i++, instance); });
      }
      where += query.instances->empty() ? "NULL)" : ")";
    }
  }

  Lock lock(*this);
  TaskPage page;
  // Filtered by region, owner and status only (the usual poll): the trigger-kept counts answer
  // totalCount without scanning tasks. Any other filter narrows through an index first.
  const bool counted = !query.job_id && !query.job_name && !query.src_instance_id && !query.dst_instance_id &&
                       !query.submit_from && !query.submit_to && !query.instances;
  if (counted) {
    std::string sql = "SELECT coalesce(sum(n), 0) FROM task_counts WHERE region = ?";
    if (query.owner_uin) sql += " AND owner_uin = ?";
    if (query.statuses) {
      sql += " AND status IN (";
      for (std::size_t i = 0; i < query.statuses->size(); ++i) sql += i ? ", ?" : "?";
      sql += query.statuses->empty() ? "NULL)" : ")";
    }
    StatementScope count(prepared(sql));
    int i = 1;
    count->bind(i++, query.region);
    if (query.owner_uin) count->bind(i++, *query.owner_uin);
    if (query.statuses) {
      for (const auto status : *query.statuses) count->bind(i++, std::int64_t{status});
    }
    if (count->step()) page.total = count->column_int(0);
  } else {
    Statement &count = prepared("SELECT count(*) FROM tasks" + where);
    StatementScope scope(count);
    int i = 1;
    for (const auto &bind : binders) bind(count, i);
    if (count.step()) page.total = count.column_int(0);
  }
  if (page.total <= query.offset) return page;
  const std::string direction = query.descending ? " DESC" : " ASC";
  // Ties break by job id in the same direction, so pages never overlap or skip.
  std::string sql = "SELECT job_id, " CDB_EMU_TASK_FIELDS " FROM tasks" + where + " ORDER BY " +
                    order_column(query.order) + direction;
  if (query.order != TaskOrder::JobId) sql += ", job_id" + direction;
  sql += " LIMIT ? OFFSET ?";
  Statement &select = prepared(sql);
  StatementScope scope(select);
  int i = 1;
  for (const auto &bind : binders) bind(select, i);
  select.bind(i, query.limit).bind(i + 1, query.offset);
  while (select.step()) page.tasks.push_back(read_task(select));
  return page;
}

void Store::put_instance(const InstanceRecord &instance) {
  transaction([&] {
    Statement remove(db_->handle(), "DELETE FROM instances WHERE instance_id = ?");
    remove.bind(1, instance.instance_id).run();
    insert_instance(stmts_->insert_instance, instance);
    load_catalog();
  });
}

bool Store::delete_instance(std::string_view instance_id) {
  bool deleted = false;
  transaction([&] {
    Statement remove(db_->handle(), "DELETE FROM instances WHERE instance_id = ?");
    remove.bind(1, instance_id).run();
    deleted = db_->changes() > 0;
    load_catalog();
  });
  return deleted;
}

std::vector<InstanceRecord> Store::instances() {
  const auto catalog = std::atomic_load(&catalog_);
  std::vector<InstanceRecord> out;
  for (const auto &[id, instance] : catalog->instances) out.push_back(instance);
  return out;
}

std::vector<ZoneRecord> Store::zones() {
  const auto catalog = std::atomic_load(&catalog_);
  std::vector<ZoneRecord> out;
  for (const auto &[id, zone] : catalog->zones) out.push_back(zone);
  return out;
}

std::vector<TaskRecord> Store::all_tasks() {
  Lock lock(*this);
  Statement all(db_->handle(), "SELECT job_id, " CDB_EMU_TASK_FIELDS " FROM tasks ORDER BY job_id");
  std::vector<TaskRecord> out;
  while (all.step()) out.push_back(read_task(all));
  return out;
}

bool Store::insert_task_with_id(const TaskRecord &task) {
  bool inserted = false;
  transaction([&] {
    Statement exists(db_->handle(), "SELECT 1 FROM tasks WHERE job_id = ?");
    exists.bind(1, task.job_id);
    if (exists.step()) return;
    Statement insert(db_->handle(),
                     "INSERT INTO tasks (job_id, " CDB_EMU_TASK_FIELDS ") VALUES (?, " CDB_EMU_TASK_PLACEHOLDERS ")");
    insert.bind(1, task.job_id);
    bind_task(insert, task, 2);
    insert.run();
    inserted = true;
  });
  return inserted;
}

std::int64_t Store::latest_task_time() {
  Lock lock(*this);
  Statement latest(db_->handle(), "SELECT coalesce(max(max(submit_time, update_time, start_at, end_at)), 0) FROM tasks");
  return latest.step() ? latest.column_int(0) : 0;
}

std::int64_t Store::last_job_id() {
  Lock lock(*this);
  Statement seq(db_->handle(),
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0),"
                " coalesce((SELECT max(job_id) FROM tasks), 0))");
  return seq.step() ? seq.column_int(0) : 0;
}

namespace {

/// Copies every page of `from` into `to` (SQLite's online backup).
void backup(sqlite3 *to, sqlite3 *from) {
  sqlite3_backup *copy = sqlite3_backup_init(to, "main", from, "main");
  if (!copy) throw StoreError(std::string("backup failed: ") + sqlite3_errmsg(to));
  const int rc = sqlite3_backup_step(copy, -1);
  sqlite3_backup_finish(copy);
  if (rc != SQLITE_DONE) throw StoreError(std::string("backup failed: ") + sqlite3_errstr(rc));
}

}  // namespace

std::unique_ptr<Database> Store::copy_to(const std::string &path) {
  auto copy = std::make_unique<Database>(path);
  Lock lock(*this);
  commit_batch();  // the copy holds committed data only
  backup(copy->handle(), db_->handle());
  return copy;
}

void Store::copy_from(Database &source) {
  Lock lock(*this);  // recursive: the calls below join this critical section
  commit_batch();
  const std::int64_t last_id = last_job_id();
  backup(db_->handle(), source.handle());
  raise_next_job_id(std::max(last_id, this->last_job_id()) + 1);
  load_catalog();
}

void Store::delete_all_tasks(bool restart_ids, std::int64_t first_job_id) {
  transaction([&] {
    db_->exec("DELETE FROM tasks");
    if (restart_ids) {
      Statement update(db_->handle(), "UPDATE sqlite_sequence SET seq = ? WHERE name = 'tasks'");
      update.bind(1, first_job_id - 1).run();
    }
  });
}

std::map<std::int32_t, std::int64_t> Store::count_by_status() {
  Lock lock(*this);
  Statement count(db_->handle(), "SELECT status, count(*) FROM tasks GROUP BY status");
  std::map<std::int32_t, std::int64_t> out;
  while (count.step()) out[static_cast<std::int32_t>(count.column_int(0))] = count.column_int(1);
  return out;
}

std::int64_t Store::count_tasks() {
  Lock lock(*this);
  StatementScope count(stmts_->count_tasks);
  return count->step() ? count->column_int(0) : 0;
}

}  // namespace cdbemu::store
