#pragma once
// A thin RAII layer over the SQLite C API. Only src/store/ includes this file.

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cdbemu::store {

/// A SQLite failure; the message names the statement or step that failed.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One prepared statement, reset after every use.
class Statement {
 public:
  Statement(sqlite3 *db, std::string_view sql);
  ~Statement();
  Statement(const Statement &) = delete;
  Statement &operator=(const Statement &) = delete;

  Statement &bind(int index, std::int64_t value);
  Statement &bind(int index, std::string_view value);
  Statement &bind_null(int index);

  /// Steps once: true while a row is available.
  bool step();
  /// Steps to completion, discarding rows.
  void run();
  /// Clears bindings and rewinds, ready for the next use.
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  bool column_is_null(int index) const;

 private:
  sqlite3 *db_;
  sqlite3_stmt *stmt_ = nullptr;
};

/// Resets a statement when the scope ends, however it ends.
class StatementScope {
 public:
  explicit StatementScope(Statement &stmt) : stmt_(stmt) {}
  ~StatementScope() { stmt_.reset(); }
  StatementScope(const StatementScope &) = delete;
  StatementScope &operator=(const StatementScope &) = delete;
  Statement *operator->() { return &stmt_; }

 private:
  Statement &stmt_;
};

/// One open connection.
class Database {
 public:
  /// Opens (creating it if needed) the database at `path`; `read_only` never creates or writes.
  explicit Database(const std::string &path, bool read_only = false);
  ~Database();
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;

  /// Runs one or more statements without results.
  void exec(std::string_view sql);
  sqlite3 *handle() const { return db_; }
  std::int64_t changes() const;

 private:
  sqlite3 *db_ = nullptr;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back if the scope ends without commit().
class Transaction {
 public:
  explicit Transaction(Database &db);
  ~Transaction();
  Transaction(const Transaction &) = delete;
  Transaction &operator=(const Transaction &) = delete;
  void commit();

 private:
  Database &db_;
  bool done_ = false;
};

}  // namespace cdbemu::store
