#include "domain/nonce_cache.hpp"

#include <functional>
#include <string>

namespace cdbemu::domain {

std::uint64_t NonceCache::hash_of(std::string_view secret_id, std::string_view nonce) {
  std::string key;
  key.reserve(secret_id.size() + nonce.size() + 1);
  key.append(secret_id).push_back('\0');
  key.append(nonce);
  return std::hash<std::string>{}(key);
}

void NonceCache::drop_front() {
  const Entry &oldest = order_.front();
  // A pair forgotten and recorded again has a newer live entry: leave that one.
  if (const auto it = seen_.find(oldest.hash); it != seen_.end() && it->second == oldest.time) seen_.erase(it);
  order_.pop_front();
}

void NonceCache::expire(std::int64_t now) {
  while (!order_.empty() && order_.front().time + window_ < now) drop_front();
}

bool NonceCache::record(std::string_view secret_id, std::string_view nonce, std::int64_t now) {
  const std::uint64_t hash = hash_of(secret_id, nonce);
  std::lock_guard lock(mutex_);
  expire(now);
  if (!seen_.emplace(hash, now).second) return false;
  order_.push_back({hash, now});
  while (seen_.size() > capacity_) {
    drop_front();
    ++evictions_;
  }
  return true;
}

void NonceCache::forget(std::string_view secret_id, std::string_view nonce) {
  const std::uint64_t hash = hash_of(secret_id, nonce);
  std::lock_guard lock(mutex_);
  // The entry stays in order_ until it expires; erasing it from seen_ is what frees the pair.
  seen_.erase(hash);
}

void NonceCache::clear() {
  std::lock_guard lock(mutex_);
  order_.clear();
  seen_.clear();
}

std::size_t NonceCache::size() const {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

std::uint64_t NonceCache::evictions() const {
  std::lock_guard lock(mutex_);
  return evictions_;
}

}  // namespace cdbemu::domain
