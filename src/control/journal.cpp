#include "control/journal.hpp"

#include <algorithm>

namespace cdbemu::control {
namespace {

/// Dumps `object` for splicing: without its closing brace (`head`) or its opening one.
std::string dump_json(const nlohmann::ordered_json &object) {
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// The entry as JSON, but for its leading "seq" (given only once the journal holds its lock):
/// `,"timeMs":...}` with the rendered params spliced in.
std::string render_without_seq(const JournalEntry &entry) {
  nlohmann::ordered_json head;
  head["timeMs"] = entry.time_ms;
  head["requestId"] = entry.request_id;
  head["method"] = entry.method;
  head["action"] = entry.action;
  nlohmann::ordered_json tail;
  tail["code"] = entry.code;
  tail["latencyMs"] = entry.latency_ms;
  if (!entry.fault_id.empty()) tail["faultId"] = entry.fault_id;
  if (!entry.transport.empty()) tail["transport"] = entry.transport;
  if (!entry.changes.empty()) {
    nlohmann::ordered_json changes = nlohmann::ordered_json::array();
    for (const auto &change : entry.changes) {
      nlohmann::ordered_json item;
      item["jobId"] = change.job_id;
      item["statusBefore"] = change.before ? nlohmann::ordered_json(*change.before) : nlohmann::ordered_json();
      item["statusAfter"] = change.after ? nlohmann::ordered_json(*change.after) : nlohmann::ordered_json();
      changes.push_back(std::move(item));
    }
    tail["tasks"] = std::move(changes);
  }
  std::string out = dump_json(head);
  out.front() = ',';
  out.back() = ',';
  out += "\"params\":";
  out += entry.params.empty() ? "{}" : entry.params;
  std::string rest = dump_json(tail);
  rest.front() = ',';
  out += rest;
  return out;
}

}  // namespace

bool Journal::matches(const Stored &stored, const JournalFilter &filter) {
  if (stored.seq <= filter.since) return false;
  if (filter.action && stored.action != *filter.action) return false;
  if (filter.code && stored.code != *filter.code) return false;
  if (filter.job_id && std::find(stored.tasks.begin(), stored.tasks.end(), *filter.job_id) == stored.tasks.end() &&
      stored.job_id != std::to_string(*filter.job_id)) {
    return false;
  }
  return true;
}

void Journal::record(JournalEntry entry) {
  Stored stored;
  stored.action = entry.action;
  stored.code = entry.code;
  stored.job_id = std::move(entry.job_id);
  for (const auto &change : entry.changes) stored.tasks.push_back(change.job_id);
  const std::string rest = render_without_seq(entry);
  {
    std::lock_guard lock(mutex_);
    stored.seq = next_seq_++;
    stored.json = "{\"seq\":" + std::to_string(stored.seq) + rest;
    bytes_ += stored.json.size();
    entries_.push_back(std::move(stored));
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
  for (const auto &stored : entries_) count += matches(stored, filter) ? 1 : 0;
  return count;
}

nlohmann::ordered_json Journal::query(const JournalFilter &filter) const {
  std::lock_guard lock(mutex_);
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  std::size_t matched = 0;
  for (const auto &stored : entries_) {
    if (!matches(stored, filter)) continue;
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
