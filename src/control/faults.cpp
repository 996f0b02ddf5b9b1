#include "control/faults.hpp"

#include <algorithm>

#include "domain/text.hpp"

namespace cdbemu::control {
namespace {

constexpr std::string_view kActions[] = {"CreateCdbDataSyncTask", "CheckCdbDataSyncTask", "StartCdbDataSyncTask",
                                         "DelCdbDataSyncTask", "GetCdbDataSyncTaskList"};

[[noreturn]] void refuse(const std::string &message) { throw FaultRuleError{message}; }

std::int64_t delay_of(const nlohmann::json &value, const std::string &field, std::int64_t max_delay_ms) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > max_delay_ms) {
    refuse(field + " must be an integer from 0 to " + std::to_string(max_delay_ms) + " (--max-delay-ms)");
  }
  return value.get<std::int64_t>();
}

}  // namespace

domain::ErrorCode error_code_of(const nlohmann::json &value, const std::string &field) {
  if (value.is_number_integer()) {
    const auto code = value.get<std::int64_t>();
    for (const auto &row : domain::error_catalogue()) {
      if (row.code == code) return row.id;
    }
    refuse(field + " " + std::to_string(code) + " is not in the error catalogue (GET /_emulator/errors)" +
           (code == 0 ? "; 0 is success, not a fault" : ""));
  }
  if (value.is_string()) {
    const auto word = value.get<std::string>();
    std::vector<const domain::ErrorInfo *> candidates;
    for (const auto &row : domain::error_catalogue()) {
      if (row.code_desc == word) candidates.push_back(&row);
    }
    if (candidates.size() == 1) return candidates.front()->id;
    // The word may come from a request header: quoted with its bad bytes escaped.
    if (candidates.empty()) refuse(field + " " + domain::quote_for_message(word) + " is no codeDesc of the error catalogue");
    std::string codes;
    for (const auto *row : candidates) codes += (codes.empty() ? "" : ", ") + std::to_string(row->code);
    refuse(field + " " + domain::quote_for_message(word) + " is ambiguous: give code, one of " + codes);
  }
  refuse(field + " must be an error code (integer) or a codeDesc (string)");
}

std::string FaultRules::add(const nlohmann::json &rule, std::int64_t max_delay_ms) {
  if (!rule.is_object()) refuse("the body must be a JSON object");
  static const std::set<std::string> known = {"action", "code", "codeDesc", "message", "times", "probability", "seed",
                                              "delayMs", "match", "http", "emptyBody", "truncatedBody"};
  for (const auto &[key, value] : rule.items()) {
    if (!known.count(key)) refuse("unknown field \"" + key + "\"");
  }
  Rule out;
  if (rule.contains("action")) {
    const auto &action = rule["action"];
    if (!action.is_string() || std::find(std::begin(kActions), std::end(kActions), action.get<std::string>()) == std::end(kActions)) {
      refuse("action must be one of the supported actions (CreateCdbDataSyncTask, CheckCdbDataSyncTask, "
             "StartCdbDataSyncTask, DelCdbDataSyncTask, GetCdbDataSyncTaskList)");
    }
    out.action = action.get<std::string>();
  }
  if (rule.contains("code") && rule.contains("codeDesc")) refuse("give code or codeDesc, not both");
  if (rule.contains("code")) out.effect.code = error_code_of(rule["code"], "code");
  if (rule.contains("codeDesc")) out.effect.code = error_code_of(rule["codeDesc"], "codeDesc");
  if (rule.contains("message")) {
    if (!rule["message"].is_string()) refuse("message must be a string");
    if (!out.effect.code) refuse("message needs code or codeDesc");
    out.effect.message = rule["message"].get<std::string>();
  }
  if (rule.contains("delayMs")) out.effect.delay_ms = delay_of(rule["delayMs"], "delayMs", max_delay_ms);
  if (rule.contains("http")) {
    const auto &http = rule["http"];
    if (!http.is_number_integer() || http.get<std::int64_t>() < 400 || http.get<std::int64_t>() > 599) {
      refuse("http must be an HTTP error status from 400 to 599");
    }
    out.effect.http_status = http.get<int>();
  }
  for (const char *flag : {"emptyBody", "truncatedBody"}) {
    if (!rule.contains(flag)) continue;
    if (!rule[flag].is_boolean()) refuse(std::string(flag) + " must be true or false");
    (std::string_view(flag) == "emptyBody" ? out.effect.empty_body : out.effect.truncated_body) = rule[flag].get<bool>();
  }
  const int kinds = (out.effect.code ? 1 : 0) + (out.effect.http_status ? 1 : 0) + (out.effect.empty_body ? 1 : 0) +
                    (out.effect.truncated_body ? 1 : 0);
  if (kinds > 1) refuse("give one of code/codeDesc, http, emptyBody and truncatedBody");
  if (kinds == 0 && !rule.contains("delayMs")) refuse("give code, codeDesc, http, emptyBody, truncatedBody or delayMs");
  if (rule.contains("times")) {
    const auto &times = rule["times"];
    if (!times.is_number_integer() || times.get<std::int64_t>() < 1) refuse("times must be a positive integer");
    out.times = times.get<std::int64_t>();
  }
  if (rule.contains("probability")) {
    const auto &p = rule["probability"];
    if (!p.is_number() || p.get<double>() <= 0.0 || p.get<double>() > 1.0) {
      refuse("probability must be a number above 0 and at most 1");
    }
    out.probability = p.get<double>();
  }
  std::uint64_t seed = 0;
  if (rule.contains("seed")) {
    if (!rule["seed"].is_number_unsigned()) refuse("seed must be a non-negative integer");
    seed = rule["seed"].get<std::uint64_t>();
  }
  out.random.seed(seed);
  if (rule.contains("match")) {
    const auto &match = rule["match"];
    if (!match.is_object()) refuse("match must be an object");
    for (const auto &[key, value] : match.items()) {
      if (key == "jobId" && value.is_number_integer()) {
        out.match_job_id = value.get<std::int64_t>();
      } else if (key == "instanceId" && value.is_string()) {
        out.match_instance_id = value.get<std::string>();
      } else if (key == "jobName" && value.is_string()) {
        out.match_job_name = value.get<std::string>();
      } else {
        refuse("match." + key + ": match takes jobId (integer), instanceId (string) and jobName (string)");
      }
    }
  }

  std::lock_guard lock(mutex_);
  out.id = "f" + std::to_string(next_id_++);
  out.spec = rule;
  std::string id = out.id;
  rules_.push_back(std::move(out));
  return id;
}

nlohmann::ordered_json FaultRules::list() const {
  std::lock_guard lock(mutex_);
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto &rule : rules_) {
    nlohmann::ordered_json item;
    item["id"] = rule.id;
    item["hits"] = rule.hits;
    item["rule"] = rule.spec;
    if (rule.times) item["remaining"] = *rule.times - static_cast<std::int64_t>(rule.hits);
    out.push_back(std::move(item));
  }
  return out;
}

bool FaultRules::remove(const std::string &id) {
  std::lock_guard lock(mutex_);
  const auto before = rules_.size();
  std::erase_if(rules_, [&](const Rule &rule) { return rule.id == id; });
  return rules_.size() != before;
}

void FaultRules::clear() {
  std::lock_guard lock(mutex_);
  rules_.clear();
}

std::optional<FiredFault> FaultRules::fire(const FaultSubject &subject) {
  std::lock_guard lock(mutex_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    Rule &rule = *it;
    if (rule.action && *rule.action != subject.action) continue;
    if (rule.match_job_id && subject.job_id != rule.match_job_id) continue;
    if (rule.match_instance_id && !subject.instance_ids.count(*rule.match_instance_id)) continue;
    if (rule.match_job_name && subject.job_name != rule.match_job_name) continue;
    // The draw is made for every matching request, so a seed gives the same sequence each run.
    if (rule.probability < 1.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rule.random) >= rule.probability) {
      continue;
    }
    ++rule.hits;
    ++fired_;
    FiredFault fired{rule.id, rule.effect};
    if (rule.times && static_cast<std::int64_t>(rule.hits) >= *rule.times) rules_.erase(it);
    return fired;
  }
  return std::nullopt;
}

std::uint64_t FaultRules::fired_total() const {
  std::lock_guard lock(mutex_);
  return fired_;
}

void FaultRules::count_header_firing() {
  std::lock_guard lock(mutex_);
  ++fired_;
}

FaultEffect FaultRules::from_headers(const std::string &fault, const std::string &delay, std::int64_t max_delay_ms) {
  FaultEffect effect;
  if (!fault.empty()) {
    const bool numeric = fault.find_first_not_of("0123456789") == std::string::npos && fault.size() <= 9;
    effect.code = error_code_of(numeric ? nlohmann::json(std::stoll(fault)) : nlohmann::json(fault), "X-Emulator-Fault");
  }
  if (!delay.empty()) {
    if (delay.size() > 9 || delay.find_first_not_of("0123456789") != std::string::npos) {
      refuse("X-Emulator-Delay-Ms must be an integer from 0 to " + std::to_string(max_delay_ms));
    }
    effect.delay_ms = delay_of(nlohmann::json(std::stoll(delay)), "X-Emulator-Delay-Ms", max_delay_ms);
  }
  return effect;
}

}  // namespace cdbemu::control
