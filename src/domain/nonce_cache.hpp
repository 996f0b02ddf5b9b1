#pragma once
// Replay protection: which (SecretId, Nonce) pairs were used inside the timestamp window.
// Compact: a 64-bit hash and a time per entry, bounded by a capacity (oldest evicted first).

#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace cdbemu::domain {

class NonceCache {
 public:
  NonceCache(std::size_t capacity, std::int64_t window_seconds) : capacity_(capacity), window_(window_seconds) {}

  /// Records the pair at `now` (Unix seconds); false when it was already recorded inside the window.
  bool record(std::string_view secret_id, std::string_view nonce, std::int64_t now);
  /// Forgets the pair (a request that recorded it turned out not to count).
  void forget(std::string_view secret_id, std::string_view nonce);
  /// Forgets everything.
  void clear();

  std::size_t size() const;
  /// Entries dropped to stay within capacity while still inside the window.
  std::uint64_t evictions() const;

 private:
  struct Entry {
    std::uint64_t hash;
    std::int64_t time;
  };
  static std::uint64_t hash_of(std::string_view secret_id, std::string_view nonce);
  void expire(std::int64_t now);
  void drop_front();

  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::int64_t window_;
  std::deque<Entry> order_;  ///< oldest first
  std::unordered_map<std::uint64_t, std::int64_t> seen_;  ///< hash → time of its live entry
  std::uint64_t evictions_ = 0;
};

}  // namespace cdbemu::domain
