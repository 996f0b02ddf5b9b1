#pragma once
// Prometheus metrics of the emulator (GET /_emulator/metrics, text format 0.0.4).

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace cdbemu::control {

/// Gauges and counters other parts own, read when metrics are rendered.
struct MetricsReadings {
  std::map<std::int32_t, std::int64_t> tasks_by_status;
  std::uint64_t faults_fired = 0;
  std::size_t journal_entries = 0;
  std::size_t journal_bytes = 0;
  std::uint64_t journal_dropped_entries = 0;
  std::uint64_t journal_dropped_bytes = 0;
  std::size_t nonces = 0;
  std::uint64_t nonce_evictions = 0;
};

class Metrics {
 public:
  /// Counts one API request. Unknown action names are counted as "unknown" (bounded labels).
  void observe_request(std::string_view action, int code, double latency_ms);
  /// The whole exposition text.
  std::string render(const MetricsReadings &readings) const;

  /// Latency histogram bucket bounds, seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  ///< non-cumulative counts
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

/// This process's resident set size in bytes (0 when unknown).
std::uint64_t resident_bytes();

}  // namespace cdbemu::control
