#include "store/store.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "store/resources.hpp"
#include "store/sqlite.hpp"

namespace cdbemu::store {
namespace {

// The columns read_task() reads, in its order.
#define CDB_EMU_TASK_COLUMNS                                                                     \
  "job_id, region, job_name, status, src_instance_id, src_region_id, src_db_info, "             \
  "is_override_root, dst_instance_id, dst_region_id, dst_zone_id, submit_time, update_time"

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

std::vector<DbInfoRecord> db_info_from_json(const std::string &text) {
  std::vector<DbInfoRecord> out;
  for (const auto &db : nlohmann::json::parse(text)) {
    out.push_back({db.at("database").get<std::string>(), db.at("table").get<std::vector<std::string>>()});
  }
  return out;
}

TaskRecord read_task(const Statement &stmt) {
  TaskRecord task;
  task.job_id = stmt.column_int(0);
  task.region = stmt.column_text(1);
  task.job_name = stmt.column_text(2);
  task.status = static_cast<std::int32_t>(stmt.column_int(3));
  task.src_instance_id = stmt.column_text(4);
  task.src_region_id = static_cast<std::int32_t>(stmt.column_int(5));
  task.src_db_info = db_info_from_json(stmt.column_text(6));
  task.is_override_root = static_cast<std::int32_t>(stmt.column_int(7));
  task.dst_instance_id = stmt.column_text(8);
  task.dst_region_id = static_cast<std::int32_t>(stmt.column_int(9));
  task.dst_zone_id = stmt.column_int(10);
  task.submit_time = stmt.column_int(11);
  task.update_time = stmt.column_int(12);
  return task;
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
    const std::int64_t version = migration_version(file.name);
    if (version <= 0) throw StoreError("embedded schema file " + std::string(file.name) + " has no NNN_ prefix");
    known = std::max(known, version);
    if (version <= current) continue;
    Transaction tx(db);
    db.exec(file.bytes);
    Statement record(db.handle(), "INSERT INTO schema_migrations (version, name) VALUES (?, ?)");
    record.bind(1, version).bind(2, file.name).run();
    tx.commit();
  }
  if (current > known) {
    throw StoreError("the database has schema version " + std::to_string(current) +
                     " but this emulator knows only up to " + std::to_string(known) +
                     ": it was written by a newer version");
  }
}

}  // namespace

struct Store::Statements {
  explicit Statements(sqlite3 *db)
      : find_instance(db,
                      "SELECT instance_id, region, zone_id, role, engine_version, is_empty, app_id, uin"
                      " FROM instances WHERE instance_id = ?"),
        insert_instance(db,
                        "INSERT INTO instances (instance_id, region, zone_id, role, engine_version, is_empty,"
                        " app_id, uin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
        find_zone(db, "SELECT zone_id, disaster_recovery FROM zones WHERE zone_id = ?"),
        insert_zone(db, "INSERT INTO zones (zone_id, disaster_recovery) VALUES (?, ?)"),
        insert_task(db,
                    "INSERT INTO tasks (region, job_name, status, src_instance_id, src_region_id, src_db_info,"
                    " is_override_root, dst_instance_id, dst_region_id, dst_zone_id, submit_time, update_time)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        find_task(db, "SELECT " CDB_EMU_TASK_COLUMNS " FROM tasks WHERE job_id = ?"),
        count_tasks(db, "SELECT count(*) FROM tasks") {}

  Statement find_instance;
  Statement insert_instance;
  Statement find_zone;
  Statement insert_zone;
  Statement insert_task;
  Statement find_task;
  Statement count_tasks;
};

Store::Store(const std::string &path) : db_(std::make_unique<Database>(path)) {
  try {
    db_->exec("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000");
    if (path != ":memory:" && !path.empty()) {
      // WAL + synchronous=NORMAL keeps every committed transaction through a process crash.
      db_->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    }
    migrate(*db_);
    stmts_ = std::make_unique<Statements>(db_->handle());
  } catch (const StoreError &e) {
    throw StoreError("database " + path + ": " + e.what());
  }
}

Store::~Store() = default;

std::int64_t Store::schema_version() {
  std::lock_guard lock(mutex_);
  Statement max(db_->handle(), "SELECT coalesce(max(version), 0) FROM schema_migrations");
  return max.step() ? max.column_int(0) : 0;
}

void Store::replace_fixtures(const std::vector<InstanceRecord> &instances, const std::vector<ZoneRecord> &zones) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  db_->exec("DELETE FROM instances; DELETE FROM zones");
  for (const auto &instance : instances) {
    StatementScope insert(stmts_->insert_instance);
    insert->bind(1, instance.instance_id)
        .bind(2, instance.region)
        .bind(3, instance.zone_id)
        .bind(4, instance.role)
        .bind(5, instance.engine_version)
        .bind(6, std::int64_t{instance.is_empty})
        .bind(7, instance.app_id)
        .bind(8, instance.uin)
        .run();
  }
  for (const auto &zone : zones) {
    StatementScope insert(stmts_->insert_zone);
    insert->bind(1, zone.zone_id).bind(2, std::int64_t{zone.disaster_recovery}).run();
  }
  tx.commit();
}

std::optional<InstanceRecord> Store::find_instance(std::string_view instance_id) {
  std::lock_guard lock(mutex_);
  StatementScope find(stmts_->find_instance);
  find->bind(1, instance_id);
  if (!find->step()) return std::nullopt;
  InstanceRecord out;
  out.instance_id = find->column_text(0);
  out.region = find->column_text(1);
  out.zone_id = find->column_int(2);
  out.role = find->column_text(3);
  out.engine_version = find->column_text(4);
  out.is_empty = find->column_int(5) != 0;
  out.app_id = find->column_int(6);
  out.uin = find->column_text(7);
  return out;
}

std::optional<ZoneRecord> Store::find_zone(std::int64_t zone_id) {
  std::lock_guard lock(mutex_);
  StatementScope find(stmts_->find_zone);
  find->bind(1, zone_id);
  if (!find->step()) return std::nullopt;
  return ZoneRecord{find->column_int(0), find->column_int(1) != 0};
}

void Store::raise_next_job_id(std::int64_t first_job_id) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  Statement update(db_->handle(), "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'tasks'");
  update.bind(1, first_job_id - 1).run();
  if (db_->changes() == 0) {
    Statement insert(db_->handle(),
                     "INSERT INTO sqlite_sequence (name, seq)"
                     " SELECT 'tasks', max(?, coalesce((SELECT max(job_id) FROM tasks), 0))");
    insert.bind(1, first_job_id - 1).run();
  }
  tx.commit();
}

std::int64_t Store::insert_task(const TaskRecord &task) {
  std::lock_guard lock(mutex_);
  StatementScope insert(stmts_->insert_task);
  insert->bind(1, task.region)
      .bind(2, task.job_name)
      .bind(3, task.status)
      .bind(4, task.src_instance_id)
      .bind(5, task.src_region_id)
      .bind(6, db_info_to_json(task.src_db_info))
      .bind(7, task.is_override_root)
      .bind(8, task.dst_instance_id)
      .bind(9, task.dst_region_id)
      .bind(10, task.dst_zone_id)
      .bind(11, task.submit_time)
      .bind(12, task.update_time)
      .run();
  return sqlite3_last_insert_rowid(db_->handle());
}

std::optional<TaskRecord> Store::find_task(std::int64_t job_id) {
  std::lock_guard lock(mutex_);
  StatementScope find(stmts_->find_task);
  find->bind(1, job_id);
  if (!find->step()) return std::nullopt;
  return read_task(stmts_->find_task);
}

std::int64_t Store::count_tasks() {
  std::lock_guard lock(mutex_);
  StatementScope count(stmts_->count_tasks);
  return count->step() ? count->column_int(0) : 0;
}

}  // namespace cdbemu::store
