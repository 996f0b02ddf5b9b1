#pragma once
// Named copies of the whole database (tasks, instances, zones, the id counter), in memory or as
// files in a directory (--snapshot-dir) so they survive restarts. SQLite's online backup copies
// pages, so saving and restoring 100,000 tasks takes milliseconds.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cdbemu::store {

class Database;
class Store;

/// What is known about a snapshot besides its pages.
struct SnapshotInfo {
  std::string name;
  std::int64_t created_ms = 0;  ///< wall time, Unix milliseconds
  std::int64_t tasks = 0;
  std::optional<std::int64_t> clock;  ///< the manual clock when saved
};

class Snapshots {
 public:
  /// Snapshots in memory (`dir` empty) or in `dir` (created if missing; existing ones are listed).
  explicit Snapshots(std::string dir);
  ~Snapshots();

  /// Saves (or replaces) `name`. Names are 1-64 of [A-Za-z0-9._-] (else std::invalid_argument).
  SnapshotInfo save(const std::string &name, Store &store, std::optional<std::int64_t> clock);
  /// Restores `name` into `store`; nullopt when there is no such snapshot.
  std::optional<SnapshotInfo> restore(const std::string &name, Store &store);
  std::vector<SnapshotInfo> list() const;
  bool remove(const std::string &name);

  /// Whether `name` can name a snapshot.
  static bool valid_name(const std::string &name);

 private:
  struct Entry {
    SnapshotInfo info;
    std::unique_ptr<Database> memory;  ///< in-memory pages (no --snapshot-dir)
  };
  std::string path_of(const std::string &name) const;

  std::string dir_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace cdbemu::store
