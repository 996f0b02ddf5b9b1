#pragma once
// The fixture files: instances.json (instances and zones) and credentials.json (API keys). Loaded at start from --fixtures DIR or
// from the copies compiled into the binary; any fault stops the start with file, line and field.

#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/credentials.hpp"
#include "domain/task_lifecycle.hpp"
#include "store/records.hpp"

namespace cdbemu::domain {

/// A fixture file that cannot be used; the message names the file, the line and the field.
class FixtureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The content of instances.json.
struct InstanceFixtures {
  std::vector<store::InstanceRecord> instances;
  std::vector<store::ZoneRecord> zones;
  Timing timing;  ///< phase durations ("timing"; flags override them)
};

/// Parses and checks an instances.json text; `file_name` only labels errors.
InstanceFixtures parse_instances(std::string_view text, std::string_view file_name);

/// instances.json's form of `instances` and `zones` (export).
nlohmann::ordered_json instances_to_json(const std::vector<store::InstanceRecord> &instances,
                                         const std::vector<store::ZoneRecord> &zones);

/// Parses and checks a credentials.json text; `file_name` only labels errors.
std::vector<Credential> parse_credentials(std::string_view text, std::string_view file_name);

/// The text of fixture `name` (e.g. "instances.json"): from `dir` when it is not empty, else the
/// copy compiled into the binary.
std::string read_fixture(const std::string &dir, std::string_view name);

}  // namespace cdbemu::domain
