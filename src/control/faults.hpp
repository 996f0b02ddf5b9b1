#pragma once
// Fault rules for QA and client-resilience tests: any catalogue error, latency, or a broken
// transport, on chosen requests, a chosen number of times. Faults never change state.

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "domain/errors.hpp"

namespace cdbemu::control {

/// What a firing fault does to the answer.
struct FaultEffect {
  std::optional<domain::ErrorCode> code;  ///< answer this error instead of running the action
  std::string message;                    ///< replaces the catalogue message when not empty
  std::int64_t delay_ms = 0;              ///< wait first (alone: then process normally)
  int http_status = 0;                    ///< transport fault: this HTTP status, empty body
  bool empty_body = false;                ///< transport fault: HTTP 200 with no body
  bool truncated_body = false;            ///< transport fault: half an envelope, then the connection ends
};

/// The request a fault may match.
struct FaultSubject {
  std::string action;
  std::optional<std::int64_t> job_id;
  std::set<std::string> instance_ids;  ///< source and destination
  std::optional<std::string> job_name;
};

/// A fault that fired: the rule's id ("header" for X-Emulator-Fault) and its effect.
struct FiredFault {
  std::string id;
  FaultEffect effect;
};

/// A rule the client sent that cannot be used: the message names the field.
struct FaultRuleError {
  std::string message;
};

class FaultRules {
 public:
  /// Adds a rule from its JSON (README "Faults"); returns its id. Throws FaultRuleError.
  std::string add(const nlohmann::json &rule, std::int64_t max_delay_ms);
  /// Every live rule with its hit count.
  nlohmann::ordered_json list() const;
  /// Removes one rule; false if there is none with this id.
  bool remove(const std::string &id);
  void clear();
  /// The oldest live rule matching `subject` that fires now (counting the firing), if any.
  std::optional<FiredFault> fire(const FaultSubject &subject);
  /// Total firings since start, by rules and headers.
  std::uint64_t fired_total() const;
  /// Counts a firing that came from a request header.
  void count_header_firing();

  /// The effect of the X-Emulator-Fault / X-Emulator-Delay-Ms headers. Throws FaultRuleError.
  static FaultEffect from_headers(const std::string &fault, const std::string &delay, std::int64_t max_delay_ms);

 private:
  struct Rule {
    std::string id;
    nlohmann::ordered_json spec;  ///< as accepted, for listing
    std::optional<std::string> action;
    FaultEffect effect;
    std::optional<std::int64_t> times;
    double probability = 1.0;
    std::mt19937_64 random;
    std::optional<std::int64_t> match_job_id;
    std::optional<std::string> match_instance_id;
    std::optional<std::string> match_job_name;
    std::uint64_t hits = 0;
  };

  mutable std::mutex mutex_;
  std::vector<Rule> rules_;  ///< oldest first
  std::uint64_t next_id_ = 1;
  std::uint64_t fired_ = 0;
};

/// The catalogue code named by `value` (an integer code or an unambiguous codeDesc word).
/// Throws FaultRuleError naming `field`, and the candidates when ambiguous.
domain::ErrorCode error_code_of(const nlohmann::json &value, const std::string &field);

}  // namespace cdbemu::control
