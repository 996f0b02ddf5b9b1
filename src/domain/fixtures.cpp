#include "domain/fixtures.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "domain/regions.hpp"
#include "domain/text.hpp"
#include "store/resources.hpp"

namespace cdbemu::domain {
namespace {

using nlohmann::json;

/// The longest phase, a year (as the --*-seconds flags).
constexpr std::int64_t kMaxPhaseSeconds = 86400 * 365;

/// 1-based line of byte `offset` in `text`.
std::size_t line_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
  }
  return line;
}

/// Parses one fixture file, remembering where each array element starts for error messages.
class FixtureParser {
  /// An element of a top-level array.
  struct Place {
    std::string_view array;
    std::size_t index;
  };

 public:
  FixtureParser(std::string_view text, std::string_view file) : text_(text), file_(file) {}

  InstanceFixtures parse_instances() {
    const json doc = parse_document("instances", {"instances", "zones", "timing", "comment"});
    InstanceFixtures out;
    if (doc.contains("timing")) out.timing = parse_timing(doc["timing"]);
    if (doc.contains("zones")) {
      if (!doc["zones"].is_array()) throw FixtureError(std::string(file_) + ":1: \"zones\" must be an array");
      std::set<std::int64_t> seen;
      for (std::size_t i = 0; i < doc["zones"].size(); ++i) {
        const Place at{"zones", i};
        store::ZoneRecord zone = parse_zone(doc["zones"][i], at);
        if (!seen.insert(zone.zone_id).second) fail(at, "zoneId", "duplicate zone " + std::to_string(zone.zone_id));
        out.zones.push_back(zone);
      }
    }
    std::set<std::string, std::less<>> seen;
    for (std::size_t i = 0; i < doc["instances"].size(); ++i) {
      const Place at{"instances", i};
      store::InstanceRecord instance = parse_instance(doc["instances"][i], at);
      if (!seen.insert(instance.instance_id).second) {
        fail(at, "id", "duplicate instance id " + quote_for_message(instance.instance_id));
      }
      out.instances.push_back(std::move(instance));
    }
    return out;
  }

  std::vector<Credential> parse_credentials() {
    const json doc = parse_document("credentials", {"credentials", "comment"});
    std::vector<Credential> out;
    std::set<std::string, std::less<>> seen;
    for (std::size_t i = 0; i < doc["credentials"].size(); ++i) {
      const Place at{"credentials", i};
      Credential credential = parse_credential(doc["credentials"][i], at);
      if (!seen.insert(credential.secret_id).second) fail(at, "secretId", "duplicate SecretId");
      out.push_back(std::move(credential));
    }
    return out;
  }

 private:
  /// The document, which must be an object holding the array `main` and only `known` keys.
  json parse_document(const std::string &main, std::initializer_list<std::string_view> known) {
    json doc;
    try {
      doc = json::parse(text_);
    } catch (const json::parse_error &e) {
      throw FixtureError(std::string(file_) + ":" + std::to_string(line_of(text_, e.byte)) +
                         ": not valid JSON (" + e.what() + ")");
    }
    if (!doc.is_object() || !doc.contains(main) || !doc[main].is_array()) {
      throw FixtureError(std::string(file_) + ":1: the file must be an object with an \"" + main + "\" array");
    }
    for (const auto &[key, value] : doc.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        throw FixtureError(std::string(file_) + ":1: unknown top-level field " + quote_for_message(key));
      }
    }
    return doc;
  }

  Credential parse_credential(const json &item, const Place &at) {
    check_fields(item, at,
                 {"secretId", "secretKey", "enabled", "uin", "appId", "subAccount", "allowedActions",
                  "allowedInstances", "comment"});
    Credential out;
    out.secret_id = string_field(item, at, "secretId");
    if (out.secret_id.empty()) fail(at, "secretId", "must not be empty");
    out.secret_key = string_field(item, at, "secretKey");
    if (out.secret_key.empty()) fail(at, "secretKey", "must not be empty");
    if (item.contains("enabled")) out.enabled = bool_field(item, at, "enabled");
    if (item.contains("uin")) out.uin = digits_field(item, at, "uin");
    if (item.contains("appId")) out.app_id = positive_field(item, at, "appId", "a positive integer AppId");
    if (item.contains("subAccount")) out.sub_account = bool_field(item, at, "subAccount");
    for (const char *name : {"allowedActions", "allowedInstances"}) {
      if (!item.contains(name)) continue;
      if (!out.sub_account) fail(at, name, "only sub-account keys (\"subAccount\": true) have restrictions");
      const json &list = item[name];
      if (!list.is_array()) fail(at, name, "must be an array of strings");
      std::set<std::string, std::less<>> values;
      for (const auto &value : list) {
        if (!value.is_string() || value.get<std::string>().empty()) fail(at, name, "must be an array of strings");
        values.insert(value.get<std::string>());
      }
      (std::string_view(name) == "allowedActions" ? out.allowed_actions : out.allowed_instances) = std::move(values);
    }
    return out;
  }

  bool bool_field(const json &item, const Place &at, const char *name) {
    if (!item[name].is_boolean()) fail(at, name, "must be true or false");
    return item[name].get<bool>();
  }

  std::string digits_field(const json &item, const Place &at, const char *name) {
    std::string value = string_field(item, at, name);
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) {
      fail(at, name, "must be a string of digits");
    }
    return value;
  }

  std::int64_t positive_field(const json &item, const Place &at, const char *name, const char *what) {
    const std::int64_t value = integer_field(item, at, name, what);
    if (value <= 0) fail(at, name, std::string("must be ") + what);
    return value;
  }


  Timing parse_timing(const json &item) {
    const std::string where = std::string(file_) + ":" + std::to_string(line_of(text_, text_.find("\"timing\""))) + ": timing";
    if (!item.is_object()) throw FixtureError(where + ": must be an object");
    Timing timing;
    for (const auto &[key, value] : item.items()) {
      std::int64_t *field = key == "verifySeconds" ? &timing.verify_seconds
                            : key == "readySeconds" ? &timing.ready_seconds
                            : key == "stepSeconds"  ? &timing.step_seconds
                                                    : nullptr;
      if (key == "comment") continue;
      // The same bounds as the --*-seconds flags.
      if (!field || !value.is_number_integer() || value.get<std::int64_t>() < 0 ||
          value.get<std::int64_t>() > kMaxPhaseSeconds) {
        throw FixtureError(where + "." + shown_id(key) +
                           (field ? ": must be an integer of seconds from 0 to " + std::to_string(kMaxPhaseSeconds)
                                 : ": unknown field"));
      }
      *field = value.get<std::int64_t>();
    }
    return timing;
  }

  store::ZoneRecord parse_zone(const json &item, const Place &at) {
    check_fields(item, at, {"zoneId", "disasterRecovery", "comment"});
    store::ZoneRecord zone;
    zone.zone_id = integer_field(item, at, "zoneId", "an integer zone id such as 200001");
    if (!region_of_zone(zone.zone_id)) fail(at, "zoneId", "zone " + std::to_string(zone.zone_id) + " is in no known region");
    if (!item.contains("disasterRecovery")) fail(at, "disasterRecovery", "must be true or false");
    zone.disaster_recovery = bool_field(item, at, "disasterRecovery");
    return zone;
  }

  store::InstanceRecord parse_instance(const json &item, const Place &at) {
    check_fields(item, at,
                 {"id", "region", "zoneId", "role", "engineVersion", "empty", "appId", "uin", "breakReplicationAtStep",
                  "comment"});
    store::InstanceRecord out;
    out.instance_id = string_field(item, at, "id");
    if (out.instance_id.empty()) fail(at, "id", "must not be empty");
    const std::string region_name = string_field(item, at, "region");
    const auto region = find_region(region_name);
    if (!region) fail(at, "region", "unknown region " + quote_for_message(region_name));
    out.region = std::string(region->long_name);
    out.zone_id = integer_field(item, at, "zoneId", "an integer zone id such as 200001");
    const auto zone_region = region_of_zone(out.zone_id);
    if (!zone_region || zone_region->long_name != region->long_name) {
      fail(at, "zoneId", "zone " + std::to_string(out.zone_id) + " is not in region " + out.region);
    }
    out.role = string_field(item, at, "role");
    if (out.role != "master" && out.role != "dr") fail(at, "role", "must be \"master\" or \"dr\"");
    if (item.contains("engineVersion")) {
      out.engine_version = string_field(item, at, "engineVersion");
      static const std::set<std::string, std::less<>> versions = {"5.5", "5.6", "5.7", "8.0"};
      if (!versions.count(out.engine_version)) fail(at, "engineVersion", "must be one of 5.5, 5.6, 5.7, 8.0");
    }
    if (item.contains("empty")) out.is_empty = bool_field(item, at, "empty");
    if (item.contains("appId")) out.app_id = positive_field(item, at, "appId", "a positive integer AppId");
    if (item.contains("uin")) out.uin = digits_field(item, at, "uin");
    if (item.contains("breakReplicationAtStep")) {
      const std::int64_t step = integer_field(item, at, "breakReplicationAtStep", "a run step from 1 to 6");
      if (step < 1 || step > 6) fail(at, "breakReplicationAtStep", "must be a run step from 1 to 6");
      out.break_at_step = static_cast<std::int32_t>(step);
    }
    return out;
  }

  void check_fields(const json &item, const Place &at, std::initializer_list<std::string_view> known) {
    if (!item.is_object()) fail(at, "", "must be an object");
    for (const auto &[key, value] : item.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) fail(at, shown_id(key), "unknown field");
    }
  }

  std::string string_field(const json &item, const Place &at, const char *name) {
    if (!item.contains(name) || !item[name].is_string()) fail(at, name, "must be a string");
    return item[name].get<std::string>();
  }

  std::int64_t integer_field(const json &item, const Place &at, const char *name, const char *what) {
    if (!item.contains(name) || !item[name].is_number_integer()) fail(at, name, std::string("must be ") + what);
    return item[name].get<std::int64_t>();
  }

  /// Throws naming the file, the line of the element and the field.
  [[noreturn]] void fail(const Place &at, std::string_view field, const std::string &what) {
    std::ostringstream out;
    out << file_ << ":" << element_line(at) << ": " << at.array << "[" << at.index << "]";
    if (!field.empty()) out << "." << field;
    out << ": " << what;
    throw FixtureError(out.str());
  }

  /// Line where element `at.index` of the top-level array `at.array` opens (best effort).
  std::size_t element_line(const Place &at) const {
    const std::string key = "\"" + std::string(at.array) + "\"";
    std::size_t pos = text_.find(key);
    if (pos == std::string_view::npos) return 1;
    pos = text_.find('[', pos);
    if (pos == std::string_view::npos) return 1;
    int depth = 0;
    std::size_t seen = 0;
    bool in_string = false;
    bool expecting = true;  // the next value at depth 0 starts an element
    for (std::size_t p = pos + 1; p < text_.size(); ++p) {
      const char c = text_[p];
      if (in_string) {
        if (c == '\\') {
          ++p;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      if (depth == 0 && c == ',') {
        expecting = true;
        continue;
      }
      if (depth == 0 && c == ']') break;
      if (depth == 0 && expecting) {
        if (seen++ == at.index) return line_of(text_, p);
        expecting = false;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
      }
    }
    return line_of(text_, pos);
  }

  std::string_view text_;
  std::string_view file_;
};

}  // namespace

InstanceFixtures parse_instances(std::string_view text, std::string_view file_name) {
  return FixtureParser(text, file_name).parse_instances();
}

nlohmann::ordered_json instances_to_json(const std::vector<store::InstanceRecord> &instances,
                                         const std::vector<store::ZoneRecord> &zones) {
  nlohmann::ordered_json out;
  out["zones"] = nlohmann::ordered_json::array();
  for (const auto &zone : zones) {
    out["zones"].push_back({{"zoneId", zone.zone_id}, {"disasterRecovery", zone.disaster_recovery}});
  }
  out["instances"] = nlohmann::ordered_json::array();
  const store::InstanceRecord defaults;
  for (const auto &instance : instances) {
    nlohmann::ordered_json item;
    item["id"] = instance.instance_id;
    item["region"] = instance.region;
    item["zoneId"] = instance.zone_id;
    item["role"] = instance.role;
    // Only what differs from the defaults, as a hand-written file would have it.
    if (instance.engine_version != defaults.engine_version) item["engineVersion"] = instance.engine_version;
    if (instance.is_empty != defaults.is_empty) item["empty"] = instance.is_empty;
    if (instance.app_id != defaults.app_id) item["appId"] = instance.app_id;
    if (instance.uin != defaults.uin) item["uin"] = instance.uin;
    if (instance.break_at_step != 0) item["breakReplicationAtStep"] = instance.break_at_step;
    out["instances"].push_back(std::move(item));
  }
  return out;
}

std::vector<Credential> parse_credentials(std::string_view text, std::string_view file_name) {
  return FixtureParser(text, file_name).parse_credentials();
}

std::string read_fixture(const std::string &dir, std::string_view name) {
  if (dir.empty()) {
    for (const auto &file : resources::fixture_files()) {
      if (file.name == name) return std::string(file.bytes);
    }
    throw FixtureError("no built-in fixture named " + std::string(name));
  }
  const std::string path = dir + "/" + std::string(name);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FixtureError(path + ": does not exist");
  if (!std::filesystem::is_regular_file(path, ec)) throw FixtureError(path + ": cannot be read (not a regular file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FixtureError(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cdbemu::domain
