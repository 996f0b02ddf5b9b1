#include "control/metrics.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace cdbemu::control {
namespace {

constexpr std::string_view kActions[] = {"CreateCdbDataSyncTask", "CheckCdbDataSyncTask", "StartCdbDataSyncTask",
                                         "DelCdbDataSyncTask", "GetCdbDataSyncTaskList"};

std::string label_action(std::string_view action) {
  if (action.empty()) return "none";
  for (const auto known : kActions) {
    if (known == action) return std::string(action);
  }
  return "unknown";
}

std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", value);
  return buf;
}

}  // namespace

void Metrics::observe_request(std::string_view action, int code, double latency_ms) {
  const std::string label = label_action(action);
  const double seconds = latency_ms / 1000.0;
  std::lock_guard lock(mutex_);
  ++requests_[{label, code}];
  Histogram &histogram = latency_[label];
  ++histogram.count;
  histogram.sum += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++histogram.buckets[i];
      break;
    }
  }
}

std::string Metrics::render(const MetricsReadings &readings) const {
  std::ostringstream out;
  {
    std::lock_guard lock(mutex_);
    out << "# HELP cdb_emu_requests_total API requests answered, by action and answer code.\n"
           "# TYPE cdb_emu_requests_total counter\n";
    for (const auto &[key, count] : requests_) {
      out << "cdb_emu_requests_total{action=\"" << key.first << "\",code=\"" << key.second << "\"} " << count << "\n";
    }
    out << "# HELP cdb_emu_request_duration_seconds Time from reading a request's headers to its answer.\n"
           "# TYPE cdb_emu_request_duration_seconds histogram\n";
    for (const auto &[action, histogram] : latency_) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += histogram.buckets[i];
        out << "cdb_emu_request_duration_seconds_bucket{action=\"" << action << "\",le=\"" << number(kBuckets[i])
            << "\"} " << cumulative << "\n";
      }
      out << "cdb_emu_request_duration_seconds_bucket{action=\"" << action << "\",le=\"+Inf\"} " << histogram.count
          << "\n";
      out << "cdb_emu_request_duration_seconds_sum{action=\"" << action << "\"} " << number(histogram.sum) << "\n";
      out << "cdb_emu_request_duration_seconds_count{action=\"" << action << "\"} " << histogram.count << "\n";
    }
  }
  out << "# HELP cdb_emu_tasks Stored tasks by status.\n# TYPE cdb_emu_tasks gauge\n";
  for (std::int32_t status = 0; status <= 9; ++status) {
    const auto it = readings.tasks_by_status.find(status);
    out << "cdb_emu_tasks{status=\"" << status << "\"} " << (it == readings.tasks_by_status.end() ? 0 : it->second)
        << "\n";
  }
  const auto counter = [&](const char *name, const char *help, std::uint64_t value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n" << name << " " << value << "\n";
  };
  const auto gauge = [&](const char *name, const char *help, std::uint64_t value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n" << name << " " << value << "\n";
  };
  counter("cdb_emu_faults_fired_total", "Injected faults that fired (rules and headers).", readings.faults_fired);
  gauge("cdb_emu_journal_entries", "Requests the journal holds.", readings.journal_entries);
  gauge("cdb_emu_journal_bytes", "Bytes of JSON the journal holds.", readings.journal_bytes);
  counter("cdb_emu_journal_dropped_entries_total", "Journal entries dropped to stay within its caps.",
          readings.journal_dropped_entries);
  counter("cdb_emu_journal_dropped_bytes_total", "Bytes of journal entries dropped to stay within its caps.",
          readings.journal_dropped_bytes);
  gauge("cdb_emu_nonces", "(SecretId, Nonce) pairs remembered.", readings.nonces);
  counter("cdb_emu_nonce_evictions_total", "Nonces forgotten early to stay within --nonce-capacity.",
          readings.nonce_evictions);
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", resident_bytes());
  return out.str();
}

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace cdbemu::control
