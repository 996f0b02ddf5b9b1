#include "control/journal.hpp"

namespace cdbemu::control {

nlohmann::ordered_json to_json(const JournalEntry &entry) {
  nlohmann::ordered_json out;
  out["seq"] = entry.seq;
  out["timeMs"] = entry.time_ms;
  out["requestId"] = entry.request_id;
  out["method"] = entry.method;
  out["action"] = entry.action;
  out["params"] = entry.params;
  out["code"] = entry.code;
  out["latencyMs"] = entry.latency_ms;
  if (!entry.fault_id.empty()) out["faultId"] = entry.fault_id;
  if (!entry.transport.empty()) out["transport"] = entry.transport;
  if (!entry.changes.empty()) {
    nlohmann::ordered_json changes = nlohmann::ordered_json::array();
    for (const auto &change : entry.changes) {
      nlohmann::ordered_json item;
      item["jobId"] = change.job_id;
      item["statusBefore"] = change.before ? nlohmann::ordered_json(*change.before) : nlohmann::ordered_json();
      item["statusAfter"] = change.after ? nlohmann::ordered_json(*change.after) : nlohmann::ordered_json();
      changes.push_back(std::move(item));
    }
    out["tasks"] = std::move(changes);
  }
  return out;
}

bool Journal::matches(const JournalEntry &entry, const JournalFilter &filter) {
  if (entry.seq <= filter.since) return false;
  if (filter.action && entry.action != *filter.action) return false;
  if (filter.code && entry.code != *filter.code) return false;
  if (filter.job_id) {
    bool found = false;
    for (const auto &change : entry.changes) found = found || change.job_id == *filter.job_id;
    const auto param = entry.params.find("jobId");
    if (!found && param != entry.params.end() && param->is_string()) {
      found = param->get<std::string>() == std::to_string(*filter.job_id);
    }
    if (!found) return false;
  }
  return true;
}

void Journal::record(JournalEntry entry) {
  {
    std::lock_guard lock(mutex_);
    entry.seq = next_seq_++;
    std::string json = to_json(entry).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    bytes_ += json.size();
    entries_.push_back({std::move(entry), std::move(json)});
    while (!entries_.empty() && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
      bytes_ -= entries_.front().json.size();
      dropped_bytes_ += entries_.front().json.size();
      ++dropped_;
      ++dropped_total_;
      entries_.pop_front();
    }
  }
  changed_.notify_all();
}

std::size_t Journal::count_matching(const JournalFilter &filter) const {
  std::size_t count = 0;
  for (const auto &stored : entries_) count += matches(stored.entry, filter) ? 1 : 0;
  return count;
}

nlohmann::ordered_json Journal::query(const JournalFilter &filter) const {
  std::lock_guard lock(mutex_);
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  std::size_t matched = 0;
  for (const auto &stored : entries_) {
    if (!matches(stored.entry, filter)) continue;
    ++matched;
    if (entries.size() < filter.limit) entries.push_back(nlohmann::ordered_json::parse(stored.json));
  }
  nlohmann::ordered_json out;
  out["entries"] = std::move(entries);
  out["matched"] = matched;
  out["dropped"] = dropped_;
  out["nextSeq"] = next_seq_;
  return out;
}

nlohmann::ordered_json Journal::wait(const JournalFilter &filter, std::size_t count, std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return shut_down_ || count_matching(filter) >= count; });
  }
  return query(filter);
}

void Journal::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  bytes_ = 0;
  dropped_ = 0;
}

void Journal::shutdown() {
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
  }
  changed_.notify_all();
}

std::uint64_t Journal::dropped_entries() const {
  std::lock_guard lock(mutex_);
  return dropped_total_;
}

std::uint64_t Journal::dropped_bytes() const {
  std::lock_guard lock(mutex_);
  return dropped_bytes_;
}

std::size_t Journal::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t Journal::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace cdbemu::control
