#include "store/snapshots.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace cdbemu::store {
namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t task_count(Database &db) {
  Statement count(db.handle(), "SELECT count(*) FROM tasks");
  return count.step() ? count.column_int(0) : 0;
}

}  // namespace

Snapshots::Snapshots(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) return;
  std::filesystem::create_directories(dir_);
  for (const auto &file : std::filesystem::directory_iterator(dir_)) {
    if (file.path().extension() != ".json") continue;
    std::ifstream in(file.path());
    const auto meta = nlohmann::json::parse(in, nullptr, false);
    if (!meta.is_object() || !meta.contains("name") || !valid_name(meta.value("name", ""))) continue;
    if (!std::filesystem::exists(path_of(meta["name"]))) continue;
    SnapshotInfo info;
    info.name = meta["name"];
    info.created_ms = meta.value("createdMs", std::int64_t{0});
    info.tasks = meta.value("tasks", std::int64_t{0});
    if (meta.contains("clock") && meta["clock"].is_number_integer()) info.clock = meta["clock"].get<std::int64_t>();
    entries_[info.name] = Entry{info, nullptr};
  }
}

Snapshots::~Snapshots() = default;

bool Snapshots::valid_name(const std::string &name) {
  return !name.empty() && name.size() <= 64 && name != "." && name != ".." &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
}

std::string Snapshots::path_of(const std::string &name) const { return dir_ + "/" + name + ".db"; }

SnapshotInfo Snapshots::save(const std::string &name, Store &store, std::optional<std::int64_t> clock) {
  if (!valid_name(name)) throw std::invalid_argument("a snapshot name is 1 to 64 of A-Z a-z 0-9 . _ -");
  std::lock_guard lock(mutex_);
  SnapshotInfo info{name, wall_ms(), 0, clock};
  Entry entry{info, nullptr};
  if (dir_.empty()) {
    entry.memory = store.copy_to(":memory:");
    entry.info.tasks = task_count(*entry.memory);
  } else {
    // Write beside, then rename: a crash never leaves half a snapshot under the name.
    const std::string tmp = path_of(name) + ".tmp";
    std::filesystem::remove(tmp);
    {
      auto copy = store.copy_to(tmp);
      entry.info.tasks = task_count(*copy);
    }
    std::filesystem::rename(tmp, path_of(name));
    nlohmann::json meta = {{"name", name}, {"createdMs", info.created_ms}, {"tasks", entry.info.tasks}};
    if (clock) meta["clock"] = *clock;
    std::ofstream(dir_ + "/" + name + ".json") << meta.dump();
  }
  entries_[name] = std::move(entry);
  return entries_[name].info;
}

std::optional<SnapshotInfo> Snapshots::restore(const std::string &name, Store &store) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.memory) {
    store.copy_from(*it->second.memory);
  } else {
    // A snapshot file removed behind our back is gone: never copy an empty database over the store.
    if (!std::filesystem::is_regular_file(path_of(name))) {
      entries_.erase(it);
      return std::nullopt;
    }
    Database file(path_of(name), true);
    {
      Statement check(file.handle(), "SELECT count(*) FROM sqlite_master WHERE name = 'tasks'");
      if (!check.step() || check.column_int(0) != 1) throw StoreError("snapshot file " + path_of(name) + " is not a snapshot");
    }
    store.copy_from(file);
  }
  return it->second.info;
}

std::vector<SnapshotInfo> Snapshots::list() const {
  std::lock_guard lock(mutex_);
  std::vector<SnapshotInfo> out;
  for (const auto &[name, entry] : entries_) out.push_back(entry.info);
  return out;
}

bool Snapshots::remove(const std::string &name) {
  std::lock_guard lock(mutex_);
  if (!entries_.erase(name)) return false;
  if (!dir_.empty()) {
    std::filesystem::remove(path_of(name));
    std::filesystem::remove(dir_ + "/" + name + ".json");
  }
  return true;
}

}  // namespace cdbemu::store
