#include "domain/fixtures.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "domain/regions.hpp"
#include "store/resources.hpp"

namespace cdbemu::domain {
namespace {

using nlohmann::json;

/// 1-based line of byte `offset` in `text`.
std::size_t line_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
  }
  return line;
}

class InstanceParser {
 public:
  InstanceParser(std::string_view text, std::string_view file) : text_(text), file_(file) {}

  std::vector<store::InstanceRecord> parse() {
    json doc;
    try {
      doc = json::parse(text_);
    } catch (const json::parse_error &e) {
      throw FixtureError(std::string(file_) + ":" + std::to_string(line_of(text_, e.byte)) +
                         ": not valid JSON (" + e.what() + ")");
    }
    if (!doc.is_object() || !doc.contains("instances") || !doc["instances"].is_array()) {
      throw FixtureError(std::string(file_) + ":1: the file must be an object with an \"instances\" array");
    }
    std::vector<store::InstanceRecord> out;
    std::set<std::string, std::less<>> seen;
    const auto &list = doc["instances"];
    for (std::size_t i = 0; i < list.size(); ++i) {
      store::InstanceRecord instance = parse_one(list[i], i);
      if (!seen.insert(instance.instance_id).second) {
        fail(i, "id", "duplicate instance id \"" + instance.instance_id + "\"");
      }
      out.push_back(std::move(instance));
    }
    return out;
  }

 private:
  store::InstanceRecord parse_one(const json &item, std::size_t i) {
    if (!item.is_object()) fail(i, "", "each instance must be an object");
    for (const auto &[key, value] : item.items()) {
      static const std::set<std::string, std::less<>> known = {"id", "region", "zoneId", "role", "comment"};
      if (!known.count(key)) fail(i, key, "unknown field");
    }
    store::InstanceRecord out;
    out.instance_id = string_field(item, i, "id");
    if (out.instance_id.empty()) fail(i, "id", "must not be empty");
    const std::string region_name = string_field(item, i, "region");
    const auto region = find_region(region_name);
    if (!region) fail(i, "region", "unknown region \"" + region_name + "\"");
    out.region = std::string(region->long_name);
    if (!item.contains("zoneId") || !item["zoneId"].is_number_integer()) {
      fail(i, "zoneId", "must be an integer zone id such as 200001");
    }
    out.zone_id = item["zoneId"].get<std::int64_t>();
    const auto zone_region = region_of_zone(out.zone_id);
    if (!zone_region || zone_region->long_name != region->long_name) {
      fail(i, "zoneId", "zone " + std::to_string(out.zone_id) + " is not in region " + out.region);
    }
    out.role = string_field(item, i, "role");
    if (out.role != "master" && out.role != "dr") fail(i, "role", "must be \"master\" or \"dr\"");
    return out;
  }

  std::string string_field(const json &item, std::size_t i, const char *name) {
    if (!item.contains(name) || !item[name].is_string()) fail(i, name, "must be a string");
    return item[name].get<std::string>();
  }

  /// Throws naming the file, the line of the instance and the field.
  [[noreturn]] void fail(std::size_t index, std::string_view field, const std::string &what) {
    std::ostringstream out;
    out << file_ << ":" << instance_line(index) << ": instances[" << index << "]";
    if (!field.empty()) out << "." << field;
    out << ": " << what;
    throw FixtureError(out.str());
  }

  /// Line where the `index`-th object of the instances array opens (best effort).
  std::size_t instance_line(std::size_t index) const {
    std::size_t pos = text_.find("\"instances\"");
    if (pos == std::string_view::npos) return 1;
    pos = text_.find('[', pos);
    int depth = 0;
    std::size_t seen = 0;
    bool in_string = false;
    for (std::size_t p = pos + 1; p < text_.size(); ++p) {
      const char c = text_[p];
      if (in_string) {
        if (c == '\\') ++p;
        else if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      else if (c == '{' || c == '[') {
        if (depth++ == 0 && seen++ == index) return line_of(text_, p);
      } else if (c == '}' || c == ']') {
        if (depth-- == 0) break;
      }
    }
    return line_of(text_, pos);
  }

  std::string_view text_;
  std::string_view file_;
};

}  // namespace

std::vector<store::InstanceRecord> parse_instances(std::string_view text, std::string_view file_name) {
  return InstanceParser(text, file_name).parse();
}

std::string read_fixture(const std::string &dir, std::string_view name) {
  if (dir.empty()) {
    for (const auto &file : resources::fixture_files()) {
      if (file.name == name) return std::string(file.bytes);
    }
    throw FixtureError("no built-in fixture named " + std::string(name));
  }
  const std::string path = dir + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FixtureError(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cdbemu::domain
