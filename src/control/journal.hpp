#pragma once
// The request journal: every API request with what it asked and what it got, for CI assertions.
// Bounded by entries and bytes (oldest dropped first, counted); waiters can block until entries land.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/task_changes.hpp"

namespace cdbemu::control {

using domain::TaskChange;

/// One journal entry as recorded.
struct JournalEntry {
  std::uint64_t seq = 0;        ///< set by the journal
  std::int64_t time_ms = 0;     ///< wall time, Unix milliseconds
  std::string request_id;
  std::string method;
  std::string action;
  std::string params;  ///< a JSON object: decoded, secrets redacted, large sets truncated
  std::string job_id;  ///< the jobId parameter as sent (filters look at it)
  int code = 0;
  double latency_ms = 0;
  std::string fault_id;
  std::string transport;  ///< a transport fault's kind (http502, emptyBody, truncatedBody)
  std::vector<TaskChange> changes;
};

/// Which entries a query or a wait wants (all set fields must match).
struct JournalFilter {
  std::optional<std::string> action;
  std::optional<int> code;
  std::optional<std::int64_t> job_id;  ///< the jobId parameter, or a task the request changed
  std::uint64_t since = 0;             ///< entries with seq > since
  std::size_t limit = 1000;
};

class Journal {
 public:
  Journal(std::size_t max_entries, std::size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

  void record(JournalEntry entry);
  /// Matching entries (oldest first) with the totals: {"entries": [...], "dropped": N, ...}.
  nlohmann::ordered_json query(const JournalFilter &filter) const;
  /// Waits until `count` entries match (or `timeout`, or shutdown) and returns query(filter).
  nlohmann::ordered_json wait(const JournalFilter &filter, std::size_t count, std::chrono::milliseconds timeout);
  void clear();
  /// Wakes every waiter and makes later waits return at once.
  void shutdown();

  /// Entries dropped since start (metrics; clear() does not reset it).
  std::uint64_t dropped_entries() const;
  std::uint64_t dropped_bytes() const;
  std::size_t size() const;
  std::size_t bytes() const;

 private:
  /// What filters look at, and the rendered entry; the entry itself is not kept (its JSON tree
  /// would take several times the bytes the cap counts).
  struct Stored {
    std::uint64_t seq;
    std::string action;
    int code;
    std::string job_id;                ///< the jobId parameter as sent
    std::vector<std::int64_t> tasks;  ///< the tasks the request changed
    std::string json;                  ///< the rendered entry; its size is what the byte cap counts
  };
  static bool matches(const Stored &stored, const JournalFilter &filter);
  std::size_t count_matching(const JournalFilter &filter) const;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Stored> entries_;
  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t dropped_ = 0;        ///< since the last clear (the `dropped` of answers)
  std::uint64_t dropped_total_ = 0;  ///< since start (metrics)
  std::uint64_t dropped_bytes_ = 0;
  bool shut_down_ = false;
};

}  // namespace cdbemu::control
