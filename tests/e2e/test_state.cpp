// The state tools end to end on port 0 (issue 7): snapshots (in memory and in --snapshot-dir,
// across restarts), export/import of tasks and instances (round trips, the documented List
// example, a task seeded mid-sync, validation), instances at run time, and the Prometheus
// metrics read back with a small text-format parser. The 100,000-task snapshot measurement is
// skipped unless asked for: ./build/e2e_tests -tc='state snapshot of 100000*' --no-skip

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

using namespace cdbemu;
using namespace cdbemu::test;

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

const std::string kOk = R"({"code":0,"message":"","codeDesc":"Success","data":[]})";

Config manual_clock() {
  Config cfg = LiveEmulator::default_config();
  cfg.clock = "manual";
  cfg.clock_start = "2017-02-23 15:04:00";
  return cfg;
}

// --- control plane ------------------------------------------------------------------------------

httplib::Result control(const LiveEmulator &emu, const std::string &method, const std::string &path,
                        const std::string &body = "") {
  auto cli = emu.client();
  cli.set_read_timeout(600);
  cli.set_write_timeout(600);
  if (method == "GET") return cli.Get(path.c_str());
  if (method == "POST") return cli.Post(path.c_str(), body, "application/json");
  if (method == "DELETE") return cli.Delete(path.c_str());
  throw std::runtime_error("no method " + method);
}

/// A control-plane call that must answer `status` with a JSON body; returns the body's text.
std::string control_text(const LiveEmulator &emu, const std::string &method, const std::string &path,
                         const std::string &body = "", int status = 200) {
  auto res = control(emu, method, path, body);
  REQUIRE_MESSAGE(res, method << " " << path << ": " << httplib::to_string(res.error()));
  REQUIRE_MESSAGE(res->status == status, method << " " << path << " answered " << res->status << ": " << res->body);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  return res->body;
}

Json control_json(const LiveEmulator &emu, const std::string &method, const std::string &path,
                  const std::string &body = "", int status = 200) {
  return Json::parse(control_text(emu, method, path, body, status));
}

/// The "error" of a control-plane call that must answer `status`.
std::string control_error(const LiveEmulator &emu, const std::string &method, const std::string &path,
                          const std::string &body, int status) {
  const Json answer = control_json(emu, method, path, body, status);
  REQUIRE_MESSAGE(answer.contains("error"), answer.dump());
  return answer["error"].get<std::string>();
}

/// GET /_emulator/state, exactly as sent.
std::string state_text(const LiveEmulator &emu) { return control_text(emu, "GET", "/_emulator/state"); }

void advance(const LiveEmulator &emu, int seconds) {
  control_json(emu, "POST", "/_emulator/clock", R"({"advanceSeconds":)" + std::to_string(seconds) + "}");
}

void set_clock(const LiveEmulator &emu, const std::string &time) {
  CHECK(control_json(emu, "POST", "/_emulator/clock", Json{{"set", time}}.dump())["now"] == time);
}

std::string clock_now(const LiveEmulator &emu) {
  return control_json(emu, "GET", "/_emulator/clock")["now"].get<std::string>();
}

std::int64_t task_count(const LiveEmulator &emu) {
  return control_json(emu, "GET", "/_emulator/health")["tasks"].get<std::int64_t>();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --- API ----------------------------------------------------------------------------------------

Json create_body(const LiveEmulator &emu, const std::string &src, const std::string &dst, const std::string &dst_region,
                 const std::string &region = "gz") {
  Params params = common_params("CreateCdbDataSyncTask", region);
  params.push_back({"jobName", "灾备同步"});
  params.push_back({"srcInfo.0.cdbUInstanceId", src});
  params.push_back({"srcInfo.0.dbInfo.0.database", "myDB"});
  params.push_back({"srcInfo.0.dbInfo.0.table.0", "myTable0"});
  params.push_back({"srcInfo.0.isOverrideRoot", "1"});
  params.push_back({"dstInfo.0.cdbUInstanceId", dst});
  params.push_back({"dstInfo.0.regionId", dst_region});
  return emu.get(params);
}

/// Creates a task (which must succeed); returns its id.
std::int64_t create(const LiveEmulator &emu, const std::string &src, const std::string &dst,
                    const std::string &dst_region, const std::string &region = "gz") {
  const Json body = create_body(emu, src, dst, dst_region, region);
  REQUIRE_MESSAGE(body["code"] == 0, body.dump());
  return body["data"]["jobId"].get<std::int64_t>();
}

std::string act(const LiveEmulator &emu, const std::string &action, std::int64_t job_id,
                const std::string &region = "gz") {
  Params params = common_params(action, region);
  params.push_back({"jobId", std::to_string(job_id)});
  return emu.get_text(params);
}

/// Check, wait out verification, Start: the task is at status 5.
void check_and_start(const LiveEmulator &emu, std::int64_t job_id, const std::string &region = "gz") {
  REQUIRE(act(emu, "CheckCdbDataSyncTask", job_id, region) == kOk);
  advance(emu, 3);
  REQUIRE(act(emu, "StartCdbDataSyncTask", job_id, region) == kOk);
}

/// The List answer (up to 100 tasks of `region`), exactly as sent.
std::string list_text(const LiveEmulator &emu, const std::string &region = "gz") {
  Params params = common_params("GetCdbDataSyncTaskList", region);
  params.push_back({"limit", "100"});
  return emu.get_text(params);
}

Json item(const LiveEmulator &emu, std::int64_t job_id, const std::string &region = "gz") {
  Params params = common_params("GetCdbDataSyncTaskList", region);
  params.push_back({"jobId", std::to_string(job_id)});
  const Json body = emu.get(params);
  REQUIRE_MESSAGE(body["data"]["totalCount"] == 1, body.dump());
  return body["data"]["jobList"][0];
}

/// "jobId:status ..." of an exported state, in jobId order.
std::string statuses_of(const std::string &state) {
  std::map<std::int64_t, int> sorted;
  const Json doc = Json::parse(state);
  for (const auto &task : doc["tasks"]) sorted[task["jobId"].get<std::int64_t>()] = task["status"].get<int>();
  std::string out;
  for (const auto &[id, status] : sorted) out += (out.empty() ? "" : " ") + std::to_string(id) + ":" + std::to_string(status);
  return out;
}

/// The same text for the expected jobId -> status pairs.
std::string statuses(const std::map<std::int64_t, int> &expected) {
  std::string out;
  for (const auto &[id, status] : expected) out += (out.empty() ? "" : " ") + std::to_string(id) + ":" + std::to_string(status);
  return out;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A minimal jobList item, as a person would write one.
std::string minimal_item(std::int64_t job_id, int status, const std::string &extra = "") {
  return R"({"jobId":)" + std::to_string(job_id) + R"(,"status":)" + std::to_string(status) + extra +
         R"(,"detail":{"jobName":"imported","srcInfo":{"regionId":1,"cdbUInstanceId":"cdb-c1nl9rpv"},)"
         R"("dstInfo":{"regionId":4,"cdbUInstanceId":"cdb-d2sagyed"}}})";
}

// --- a Prometheus text-format (0.0.4) parser ----------------------------------------------------

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string type;
  std::string help;
  bool typed = false;
  bool helped = false;
  bool sampled = false;
};

struct Exposition {
  std::map<std::string, PromFamily> families;
  std::vector<PromSample> samples;  ///< in the order of the text
  std::vector<std::string> errors;  ///< "line N: what"

  /// The value of the sample `name` with exactly `labels`, if there is one.
  std::optional<double> value(const std::string &name, const std::map<std::string, std::string> &labels = {}) const {
    for (const auto &sample : samples) {
      if (sample.name == name && sample.labels == labels) return sample.value;
    }
    return std::nullopt;
  }

  /// Every sample named `name` whose labels include `labels`, in text order.
  std::vector<PromSample> all(const std::string &name, const std::map<std::string, std::string> &labels = {}) const {
    std::vector<PromSample> out;
    for (const auto &sample : samples) {
      if (sample.name != name) continue;
      bool match = true;
      for (const auto &[key, wanted] : labels) {
        const auto it = sample.labels.find(key);
        if (it == sample.labels.end() || it->second != wanted) match = false;
      }
      if (match) out.push_back(sample);
    }
    return out;
  }
};

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

/// A sample value: a Go ParseFloat number, +Inf, -Inf or NaN.
std::optional<double> prom_value(const std::string &text) {
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) return std::nullopt;
  char *end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

/// The family a sample belongs to: its own name, or a histogram's/summary's for _bucket/_sum/_count.
std::string family_of(const Exposition &out, const std::string &name) {
  if (out.families.count(name) && out.families.at(name).typed) return name;
  for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string base = name.substr(0, name.size() - suffix.size());
    const auto it = out.families.find(base);
    if (it == out.families.end()) continue;
    if (it->second.type == "histogram" || (it->second.type == "summary" && suffix != "_bucket")) return base;
  }
  return name;
}

/// Parses the exposition and checks every line's syntax; errors name the line.
Exposition parse_prometheus(const std::string &text) {
  Exposition out;
  const auto error = [&out](std::size_t line, const std::string &what) {
    out.errors.push_back("line " + std::to_string(line) + ": " + what);
  };
  if (!text.empty() && text.back() != '\n') error(0, "the text does not end with a line feed");
  std::set<std::string> series;
  std::set<std::string> finished;  // families whose group of samples ended
  std::string current;             // the family of the previous sample
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.empty()) continue;
    if (line.find('\r') != std::string::npos) {
      error(number, "carriage return");
      continue;
    }
    if (line[0] == '#') {
      const bool help = line.rfind("# HELP ", 0) == 0;
      const bool type = line.rfind("# TYPE ", 0) == 0;
      if (!help && !type) continue;  // a plain comment
      const std::string rest = line.substr(7);
      const std::size_t space = rest.find(' ');
      const std::string name = rest.substr(0, space);
      if (!valid_metric_name(name)) {
        error(number, "bad metric name \"" + name + "\"");
        continue;
      }
      PromFamily &family = out.families[name];
      if (space == std::string::npos) {
        error(number, std::string(help ? "HELP" : "TYPE") + " without text");
        continue;
      }
      const std::string value = rest.substr(space + 1);
      if (help) {
        if (family.helped) error(number, "second HELP for " + name);
        for (std::size_t i = 0; i < value.size(); ++i) {
          if (value[i] != '\\') continue;
          if (i + 1 >= value.size() || (value[i + 1] != '\\' && value[i + 1] != 'n')) {
            error(number, "bad escape in HELP");
          }
          ++i;
        }
        family.helped = true;
        family.help = value;
      } else {
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (family.typed) error(number, "second TYPE for " + name);
        if (family.sampled) error(number, "TYPE after samples of " + name);
        if (!kTypes.count(value)) error(number, "unknown type \"" + value + "\"");
        family.typed = true;
        family.type = value;
      }
      continue;
    }
    // name{label="value",...} value [timestamp]
    PromSample sample;
    std::size_t pos = 0;
    while (pos < line.size() && line[pos] != '{' && line[pos] != ' ' && line[pos] != '\t') ++pos;
    sample.name = line.substr(0, pos);
    if (!valid_metric_name(sample.name)) {
      error(number, "bad metric name \"" + sample.name + "\"");
      continue;
    }
    bool ok = true;
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (ok) {
        if (pos < line.size() && line[pos] == '}') {
          ++pos;
          break;
        }
        const std::size_t name_start = pos;
        while (pos < line.size() && line[pos] != '=' && line[pos] != '}' && line[pos] != ',') ++pos;
        const std::string label = line.substr(name_start, pos - name_start);
        if (!valid_label_name(label) || pos >= line.size() || line[pos] != '=' || pos + 1 >= line.size() ||
            line[pos + 1] != '"') {
          error(number, "bad label near \"" + line.substr(name_start) + "\"");
          ok = false;
          break;
        }
        pos += 2;
        std::string value;
        bool closed = false;
        while (pos < line.size()) {
          const char c = line[pos++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (pos >= line.size()) break;
            const char e = line[pos++];
            if (e == '\\') {
              value += '\\';
            } else if (e == '"') {
              value += '"';
            } else if (e == 'n') {
              value += '\n';
            } else {
              error(number, "bad escape in label value");
              ok = false;
            }
            continue;
          }
          value += c;
        }
        if (!closed) {
          error(number, "unterminated label value");
          ok = false;
          break;
        }
        if (!sample.labels.emplace(label, value).second) {
          error(number, "label " + label + " twice");
          ok = false;
        }
        if (pos < line.size() && line[pos] == ',') {
          ++pos;
        } else if (pos >= line.size() || line[pos] != '}') {
          error(number, "expected , or } after a label");
          ok = false;
        }
      }
    }
    if (!ok) continue;
    if (pos >= line.size() || (line[pos] != ' ' && line[pos] != '\t')) {
      error(number, "no value");
      continue;
    }
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    std::vector<std::string> fields;
    std::istringstream rest(line.substr(pos));
    for (std::string field; rest >> field;) fields.push_back(field);
    if (fields.empty() || fields.size() > 2) {
      error(number, "expected a value and at most a timestamp");
      continue;
    }
    const auto value = prom_value(fields[0]);
    if (!value) {
      error(number, "bad value \"" + fields[0] + "\"");
      continue;
    }
    sample.value = *value;
    if (fields.size() == 2 && (fields[1].empty() || fields[1].find_first_not_of("-0123456789") != std::string::npos)) {
      error(number, "bad timestamp \"" + fields[1] + "\"");
      continue;
    }
    const std::string family_name = family_of(out, sample.name);
    const auto family = out.families.find(family_name);
    if (family == out.families.end() || !family->second.typed) {
      error(number, "sample " + sample.name + " before its TYPE");
      continue;
    }
    family->second.sampled = true;
    if (family_name != current) {
      if (finished.count(family_name)) error(number, "samples of " + family_name + " are not grouped");
      if (!current.empty()) finished.insert(current);
      current = family_name;
    }
    if (family->second.type == "histogram" && sample.name == family_name + "_bucket") {
      const auto le = sample.labels.find("le");
      if (le == sample.labels.end() || !prom_value(le->second)) error(number, "bucket without a numeric le");
    }
    if (family->second.type == "counter" && !(sample.value >= 0)) error(number, "negative counter");
    std::string key = sample.name + "{";
    for (const auto &[label, label_value] : sample.labels) key += label + "=\"" + label_value + "\",";
    if (!series.insert(key + "}").second) error(number, "series " + key + "} twice");
    out.samples.push_back(std::move(sample));
  }
  return out;
}

/// Sends a Create with an empty jobName: 9003.
void create_9003(const LiveEmulator &emu) {
  Params params = common_params("CreateCdbDataSyncTask");
  for (auto param : seed_create_params()) {
    if (param.first == "jobName") param.second = "";
    params.push_back(param);
  }
  CHECK(emu.get(params)["code"] == 9003);
}

Exposition metrics(const LiveEmulator &emu) {
  auto res = control(emu, "GET", "/_emulator/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/plain; version=0.0.4");
  Exposition out = parse_prometheus(res->body);
  CHECK_MESSAGE(out.errors.empty(), "not valid Prometheus text:\n"
                                        << [&] {
                                             std::string all;
                                             for (const auto &e : out.errors) all += e + "\n";
                                             return all;
                                           }() << res->body);
  return out;
}

/// The request latency histogram of `action`: buckets cumulative, ascending, ending at +Inf = _count.
void check_histogram(const Exposition &exposition, const std::string &action, double count) {
  CAPTURE(action);
  const auto buckets = exposition.all("cdb_emu_request_duration_seconds_bucket", {{"action", action}});
  REQUIRE(buckets.size() >= 2);
  double last_le = -std::numeric_limits<double>::infinity();
  double last_value = 0;
  for (const auto &bucket : buckets) {
    const double le = *prom_value(bucket.labels.at("le"));
    CHECK(le > last_le);
    CHECK(bucket.value >= last_value);
    last_le = le;
    last_value = bucket.value;
  }
  CHECK(std::isinf(last_le));
  CHECK(last_value == count);
  CHECK(exposition.value("cdb_emu_request_duration_seconds_count", {{"action", action}}) == count);
  const auto sum = exposition.value("cdb_emu_request_duration_seconds_sum", {{"action", action}});
  REQUIRE(sum);
  CHECK(*sum >= 0);
  CHECK(*sum < count * 10);
}

/// An instances.json error for `instance` alone in a fixtures file: the text after "instances[0]".
std::string fixture_file_error(const std::string &instance) {
  const std::string dir = temp_path("-fixtures");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/instances.json") << R"({"instances": [)" << instance << "]}";
  Config cfg = LiveEmulator::default_config();
  cfg.fixtures = dir;
  std::string message;
  try {
    LiveEmulator refused(cfg);
  } catch (const std::exception &e) {
    message = e.what();
  }
  std::filesystem::remove_all(dir);
  const std::string prefix = dir + "/instances.json:1: instances[0]";
  REQUIRE_MESSAGE(message.rfind(prefix, 0) == 0, message);
  return message.substr(prefix.size());
}

void remove_database(const std::string &path) {
  for (const char *suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix);
}

}  // namespace

// --- snapshots ----------------------------------------------------------------------------------

TEST_CASE("state snapshot then create advance and delete then restore gives back the same List and a new id") {
  LiveEmulator emu(manual_clock());
  const auto syncing = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
  check_and_start(emu, syncing);
  advance(emu, 9);  // ready for 2 s, then 7 s of syncing: step 2 at 40 %
  const auto waiting = create(emu, "cdb-5u7czxdx", "cdb-ek0t57qd", "sh");
  REQUIRE(item(emu, syncing)["status"] == 6);

  const Json saved = control_json(emu, "POST", "/_emulator/snapshots/before-the-bug", "", 201);
  // Captured right after saving, with the filters used after the restore.
  const std::string list_saved = list_text(emu);
  const std::string state_saved = state_text(emu);
  const std::string clock_saved = clock_now(emu);
  CHECK(clock_saved == "2017-02-23 15:04:12");
  CHECK(saved["name"] == "before-the-bug");
  CHECK(saved["tasks"] == 2);
  CHECK(saved["clock"] == clock_saved);
  CHECK(std::llabs(saved["createdMs"].get<std::int64_t>() - wall_ms()) < 60000);
  CHECK(Json::parse(list_saved)["data"]["totalCount"] == 2);

  // Break things: new tasks, a deletion, time passing, an instance gone.
  const auto later = create(emu, "cdb-5u7czxdx", "cdb-ek0t57qd", "sh");
  const auto removed = create(emu, "cdb-5u7czxdx", "cdb-drgz0003", "gz");
  const std::int64_t highest = std::max({syncing, waiting, later, removed});
  CHECK(act(emu, "DelCdbDataSyncTask", removed) == kOk);
  CHECK(act(emu, "DelCdbDataSyncTask", waiting) == kOk);
  advance(emu, 120);
  CHECK(item(emu, syncing)["status"] == 9);
  control_json(emu, "DELETE", "/_emulator/instances/cdb-drhk0001");
  REQUIRE(list_text(emu) != list_saved);
  REQUIRE(state_text(emu) != state_saved);
  // Faults, the journal and the nonces are not part of a snapshot.
  control_json(emu, "POST", "/_emulator/faults", R"({"code":9003,"match":{"jobName":"no such task"}})", 201);
  Params replayed = common_params("GetCdbDataSyncTaskList");
  REQUIRE(emu.get(replayed)["code"] == 0);
  const Json health_before = control_json(emu, "GET", "/_emulator/health");

  const Json restored = control_json(emu, "POST", "/_emulator/snapshots/before-the-bug/restore");
  const Json health_after = control_json(emu, "GET", "/_emulator/health");
  CHECK(restored["restored"] == saved);
  CHECK(clock_now(emu) == clock_saved);
  CHECK(list_text(emu) == list_saved);
  CHECK(state_text(emu) == state_saved);  // tasks and instances
  CHECK(task_count(emu) == 2);
  CHECK(health_after["faults"] == 1);
  CHECK(health_after["journalEntries"] == health_before["journalEntries"]);
  CHECK(emu.get(replayed)["code"] == 4500);

  // No id handed out before the restore comes back, not even those created after the snapshot.
  const auto next = create(emu, "cdb-5u7czxdx", "cdb-drgz0003", "gz");
  CHECK(next > highest);
  // The restored task carries on from where it was saved.
  advance(emu, 60);
  CHECK(item(emu, syncing)["status"] == 9);
  CHECK(item(emu, waiting)["status"] == 1);

  // Restoring twice gives the same again, and the ids still only grow.
  control_json(emu, "POST", "/_emulator/snapshots/before-the-bug/restore");
  CHECK(list_text(emu) == list_saved);
  CHECK(create(emu, "cdb-5u7czxdx", "cdb-drgz0003", "gz") > next);
}

TEST_CASE("state snapshots of a file database are kept in memory and restore") {
  const std::string db = temp_path(".db");
  Config cfg = manual_clock();
  cfg.db = db;
  {
    LiveEmulator emu(cfg);
    const auto first = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
    control_json(emu, "POST", "/_emulator/snapshots/one", "", 201);
    const std::string saved = list_text(emu);
    advance(emu, 5);
    CHECK(act(emu, "DelCdbDataSyncTask", first) == kOk);
    const auto second = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
    control_json(emu, "POST", "/_emulator/snapshots/one/restore");
    CHECK(list_text(emu) == saved);
    CHECK(create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh") > second);
  }
  remove_database(db);
}

TEST_CASE("state snapshots in a snapshot dir survive a restart and can be listed and deleted") {
  const std::string dir = temp_path("-snapshots");
  const std::string db = temp_path(".db");
  Config cfg = manual_clock();
  cfg.db = db;
  cfg.snapshot_dir = dir;
  std::string list_one;
  Json listed;
  std::int64_t highest = 0;
  {
    LiveEmulator emu(cfg);
    CHECK(control_json(emu, "GET", "/_emulator/snapshots") == Json::parse(R"({"snapshots":[]})"));
    create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
    create(emu, "cdb-5u7czxdx", "cdb-ek0t57qd", "sh");
    // Saving twice under one name replaces the first.
    control_json(emu, "POST", "/_emulator/snapshots/one", "", 201);
    advance(emu, 4);
    const Json one = control_json(emu, "POST", "/_emulator/snapshots/one", "", 201);
    CHECK(one["tasks"] == 2);
    CHECK(one["clock"] == "2017-02-23 15:04:04");
    list_one = list_text(emu);
    advance(emu, 10);
    highest = create(emu, "cdb-5u7czxdx", "cdb-drgz0003", "gz");
    const Json two = control_json(emu, "POST", "/_emulator/snapshots/two", "", 201);
    CHECK(two["tasks"] == 3);
    listed = control_json(emu, "GET", "/_emulator/snapshots");
    REQUIRE(listed["snapshots"].size() == 2);
    CHECK(listed["snapshots"][0] == one);
    CHECK(listed["snapshots"][1] == two);
    for (const char *file : {"/one.db", "/one.json", "/two.db", "/two.json"}) {
      CHECK_MESSAGE(std::filesystem::exists(dir + file), file);
    }
    CHECK(!std::filesystem::exists(dir + "/one.db.tmp"));
  }
  {
    LiveEmulator emu(cfg);
    CHECK(control_json(emu, "GET", "/_emulator/snapshots") == listed);
    const Json restored = control_json(emu, "POST", "/_emulator/snapshots/one/restore");
    CHECK(restored["restored"] == listed["snapshots"][0]);
    CHECK(clock_now(emu) == "2017-02-23 15:04:04");
    CHECK(list_text(emu) == list_one);
    CHECK(task_count(emu) == 2);
    CHECK(create(emu, "cdb-5u7czxdx", "cdb-drgz0003", "gz") > highest);

    CHECK(control_json(emu, "DELETE", "/_emulator/snapshots/two") == Json::parse(R"({"deleted":"two"})"));
    CHECK(!std::filesystem::exists(dir + "/two.db"));
    CHECK(!std::filesystem::exists(dir + "/two.json"));
    CHECK(control_error(emu, "DELETE", "/_emulator/snapshots/two", "", 404) == "no snapshot two");
    CHECK(control_error(emu, "POST", "/_emulator/snapshots/two/restore", "", 404) == "no snapshot two");
    CHECK(control_error(emu, "POST", "/_emulator/snapshots/never-saved/restore", "", 404) == "no snapshot never-saved");
    for (const std::string &bad : {std::string(65, 'a'), std::string("bad*name"), std::string("bad%20name"),
                                   std::string("%E5%BF%AB%E7%85%A7")}) {
      CAPTURE(bad);
      CHECK(control_error(emu, "POST", "/_emulator/snapshots/" + bad, "", 400) ==
            "a snapshot name is 1 to 64 of A-Z a-z 0-9 . _ -");
    }
    const Json sixty_four = control_json(emu, "POST", "/_emulator/snapshots/" + std::string(64, 'b'), "", 201);
    CHECK(sixty_four["name"] == std::string(64, 'b'));
    control_json(emu, "DELETE", "/_emulator/snapshots/" + std::string(64, 'b'));
    const Json left = control_json(emu, "GET", "/_emulator/snapshots");
    REQUIRE(left["snapshots"].size() == 1);
    CHECK(left["snapshots"][0]["name"] == "one");
  }
  {
    LiveEmulator emu(cfg);
    const Json left = control_json(emu, "GET", "/_emulator/snapshots");
    REQUIRE(left["snapshots"].size() == 1);
    CHECK(left["snapshots"][0] == listed["snapshots"][0]);
  }
  std::filesystem::remove_all(dir);
  remove_database(db);
}

// --- export / import ----------------------------------------------------------------------------

TEST_CASE("state export then reset then import replace round-trips byte for byte at every status") {
  LiveEmulator emu(manual_clock());
  const auto succeeded = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
  check_and_start(emu, succeeded);
  advance(emu, 35);
  const auto broken = create(emu, "cdb-c1nl9rpv", "cdb-drbrk004", "sh");
  check_and_start(emu, broken);
  advance(emu, 30);
  const auto refused = create(emu, "cdb-c1nl9rpv", "cdb-drfull01", "sh");
  REQUIRE(act(emu, "CheckCdbDataSyncTask", refused) == kOk);
  advance(emu, 3);
  const auto checked = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
  REQUIRE(act(emu, "CheckCdbDataSyncTask", checked) == kOk);
  advance(emu, 3);
  const auto syncing = create(emu, "cdb-5u7czxdx", "cdb-ek0t57qd", "sh");
  check_and_start(emu, syncing);
  advance(emu, 9);
  const auto waiting = create(emu, "cdb-c1nl9rpv", "cdb-drhk0001", "hk");
  check_and_start(emu, waiting);
  const auto verifying = create(emu, "cdb-m4st3rsh", "cdb-drgz0003", "gz", "sh");
  REQUIRE(act(emu, "CheckCdbDataSyncTask", verifying, "sh") == kOk);
  advance(emu, 1);
  const auto configured = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");

  const std::string exported = state_text(emu);
  const std::string list_gz = list_text(emu, "gz");
  const std::string list_sh = list_text(emu, "sh");
  const std::string at = clock_now(emu);
  CHECK(statuses_of(exported) == statuses({{succeeded, 9},
                                                             {broken, 8},
                                                             {refused, 3},
                                                             {checked, 4},
                                                             {syncing, 6},
                                                             {waiting, 5},
                                                             {verifying, 2},
                                                             {configured, 1}}));
  const Json syncing_item = item(emu, syncing);
  CHECK(syncing_item["detail"]["jobOutput"]["stepNow"] == 3);
  CHECK(syncing_item["detail"]["jobOutput"]["stepPercent"] == "20.00");  // mid-step
  CHECK(item(emu, verifying, "sh")["detail"]["checkInfo"]["checkResult"]["stepInfo"].size() == 3);

  CHECK(control_json(emu, "POST", "/_emulator/reset") == Json::parse(R"({"reset":true,"resetIds":false})"));
  CHECK(Json::parse(state_text(emu))["tasks"] == Json::array());
  CHECK(clock_now(emu) == "2017-02-23 15:04:00");
  set_clock(emu, at);

  OrderedJson body = OrderedJson::parse(exported);
  body["mode"] = "replace";
  const Json imported = control_json(emu, "POST", "/_emulator/state", body.dump());
  CHECK(imported == Json::parse(R"({"imported":8,"mode":"replace"})"));
  CHECK(state_text(emu) == exported);
  CHECK(list_text(emu, "gz") == list_gz);
  CHECK(list_text(emu, "sh") == list_sh);
  CHECK(create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh") > configured);

  // The same round trip into another emulator, and again from there: still the same bytes.
  LiveEmulator other(manual_clock());
  set_clock(other, at);
  control_json(other, "POST", "/_emulator/state", body.dump());
  CHECK(state_text(other) == exported);
}

TEST_CASE("state tasks imported mid-verification or mid-sync carry on as the exported ones would") {
  LiveEmulator original(manual_clock());
  const std::string source = R"({"id":"cdb-srcgz002","region":"ap-guangzhou","zoneId":100002,"role":"master"})";
  const std::string breaking = R"({"id":"cdb-drbrk005","region":"ap-shanghai","zoneId":200002,"role":"dr",)"
                               R"("breakReplicationAtStep":2})";
  control_json(original, "POST", "/_emulator/instances", source, 201);
  control_json(original, "POST", "/_emulator/instances", breaking, 201);
  // Replication to cdb-drbrk004 breaks at step 4: imported at step 2, the task must still fail there.
  const auto syncing = create(original, "cdb-5u7czxdx", "cdb-drbrk004", "sh");
  check_and_start(original, syncing);
  advance(original, 9);
  // Waiting to sync towards cdb-drbrk005, which breaks at step 2.
  const auto waiting = create(original, "cdb-srcgz002", "cdb-drbrk005", "sh");
  check_and_start(original, waiting);
  // Verifying a destination that holds data: step 7 will fail.
  const auto verifying = create(original, "cdb-c1nl9rpv", "cdb-drfull01", "sh");
  REQUIRE(act(original, "CheckCdbDataSyncTask", verifying) == kOk);
  advance(original, 1);
  const std::string exported = state_text(original);
  REQUIRE(statuses_of(exported) == statuses({{syncing, 6}, {waiting, 5}, {verifying, 2}}));

  LiveEmulator copy(manual_clock());
  set_clock(copy, clock_now(original));
  OrderedJson body = OrderedJson::parse(exported);
  body["mode"] = "replace";
  control_json(copy, "POST", "/_emulator/state", body.dump());
  REQUIRE(state_text(copy) == exported);

  advance(original, 60);
  advance(copy, 60);
  const std::map<std::int64_t, int> expected{{syncing, 8}, {waiting, 8}, {verifying, 3}};
  CHECK(statuses_of(state_text(original)) == statuses(expected));
  CHECK(statuses_of(state_text(copy)) == statuses(expected));
  CHECK(state_text(copy) == state_text(original));
}

TEST_CASE("state the documented List example imports and lists back") {
  LiveEmulator emu(manual_clock());
  const auto before = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
  const std::string example_text =
      read_file(CDB_EMU_SOURCE_DIR "/tests/fixtures/examples/GetCdbDataSyncTaskList.response.json");
  const auto example = OrderedJson::parse(example_text);

  // The whole file as pasted: {"code":0,...,"data":{"jobList":[...]}}; merge is the default.
  CHECK(control_json(emu, "POST", "/_emulator/state", example_text) == Json::parse(R"({"imported":1,"mode":"merge"})"));
  const auto list_124 = [&emu] {
    Params params = common_params("GetCdbDataSyncTaskList");
    params.push_back({"jobId", "124"});
    return OrderedJson::parse(emu.get_text(params));
  };
  const auto listed = list_124();
  CHECK(listed == example);  // every field, in the documented order
  const auto &task = listed["data"]["jobList"][0];
  CHECK(task["jobId"] == 124);
  CHECK(task["status"] == 9);
  CHECK(task["detail"]["jobName"] == "灾备同步");
  CHECK(task["detail"]["srcInfo"]["cdbUInstanceId"] == "cdb-5u7czxdx");
  CHECK(task["detail"]["dstInfo"]["cdbUInstanceId"] == "cdb-ek0t57qd");
  CHECK(task["startTime"] == "2017-02-23 15:04:10");
  CHECK(task["endTime"] == "2017-02-23 15:06:00");
  CHECK(task["detail"]["submitTime"] == "2017-02-22 22:17:23");
  CHECK(statuses_of(state_text(emu)) == statuses({{before, 1}, {124, 9}}));

  // The same again in merge mode: refused, nothing changed.
  const std::string state = state_text(emu);
  const std::string refused = control_error(emu, "POST", "/_emulator/state", example_text, 409);
  CHECK(refused.find("124") != std::string::npos);
  CHECK(state_text(emu) == state);

  // The id counter rose above the imported id.
  const auto next = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
  CHECK(next >= 125);

  // Replace: only the example is left.
  auto replace = OrderedJson::parse(example_text);
  replace["mode"] = "replace";
  CHECK(control_json(emu, "POST", "/_emulator/state", replace.dump()) ==
        Json::parse(R"({"imported":1,"mode":"replace"})"));
  CHECK(statuses_of(state_text(emu)) == statuses({{124, 9}}));
  CHECK(list_124() == example);
  CHECK(create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh") > next);

  // A bare jobList works as well.
  OrderedJson bare;
  bare["mode"] = "replace";
  bare["jobList"] = example["data"]["jobList"];
  CHECK(control_json(emu, "POST", "/_emulator/state", bare.dump())["imported"] == 1);
  CHECK(list_124() == example);
}

TEST_CASE("state a task imported at status 6 with progress 40 continues on the clock") {
  LiveEmulator emu(manual_clock());
  const std::string seeded =
      R"({"tasks":[{"jobId":77,"status":6,"progress":40,"startTime":"2017-02-23 15:00:00",)"
      R"("detail":{"jobName":"seeded mid-sync","srcInfo":{"regionId":1,"cdbUInstanceId":"cdb-c1nl9rpv"},)"
      R"("dstInfo":{"regionId":4,"cdbUInstanceId":"cdb-d2sagyed"}}}]})";
  CHECK(control_json(emu, "POST", "/_emulator/state", seeded) == Json::parse(R"({"imported":1,"mode":"merge"})"));
  auto task = item(emu, 77);
  CHECK(task["status"] == 6);
  CHECK(task["progress"] == 40);
  CHECK(task["startTime"] == "2017-02-23 15:00:00");
  CHECK(task["endTime"] == "0000-00-00 00:00:00");
  CHECK(task["detail"]["jobName"] == "seeded mid-sync");
  CHECK(task["detail"]["jobOutput"]["status"] == "running");
  CHECK(task["detail"]["jobOutput"]["stepNow"] == 3);
  CHECK(task["detail"]["jobOutput"]["stepPercent"] == "40.00");
  CHECK(task["detail"]["checkInfo"]["checkFlag"] == 1);

  // A running task holds its instances like any other.
  const auto other = create(emu, "cdb-c1nl9rpv", "cdb-drgz0003", "gz");
  CHECK(Json::parse(act(emu, "CheckCdbDataSyncTask", other))["code"] == 9592);

  advance(emu, 5);
  task = item(emu, 77);
  CHECK(task["status"] == 6);
  CHECK(task["progress"].get<int>() > 40);
  CHECK(task["detail"]["jobOutput"]["stepNow"] == 4);
  advance(emu, 30);
  task = item(emu, 77);
  CHECK(task["status"] == 9);
  CHECK(task["progress"] == 100);
  CHECK(task["detail"]["jobOutput"]["status"] == "normal_finish");
  CHECK(task["startTime"] == "2017-02-23 15:00:00");
  CHECK(Json::parse(act(emu, "CheckCdbDataSyncTask", other)) == Json::parse(kOk));
}

TEST_CASE("state malformed imports are 400 naming the field and write nothing") {
  LiveEmulator emu(manual_clock());
  const auto existing = create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
  const std::string before = state_text(emu);
  const std::string good = minimal_item(50, 1);
  const auto tasks = [](const std::string &items, const std::string &mode = "merge") {
    return R"({"mode":")" + mode + R"(","tasks":[)" + items + "]}";
  };
  const auto with_detail = [](const std::string &detail) {
    return R"({"jobId":51,"status":1,"detail":)" + detail + "}";
  };
  const std::string src = R"("srcInfo":{"regionId":1,"cdbUInstanceId":"cdb-c1nl9rpv"})";
  const std::string dst = R"("dstInfo":{"regionId":4,"cdbUInstanceId":"cdb-d2sagyed"})";
  struct Case {
    std::string body;
    std::string error;  ///< the start of the error
  };
  const Case cases[] = {
      {tasks(good + "," + with_detail(R"({"jobName":"x","srcInfo":{"regionId":"gz","cdbUInstanceId":"cdb-c1nl9rpv"},)" +
                                      dst + "}")),
       "tasks[1].detail.srcInfo.regionId: must be an integer"},
      {tasks(with_detail(R"({"jobName":"x","srcInfo":{"regionId":999,"cdbUInstanceId":"cdb-c1nl9rpv"},)" + dst + "}")),
       "tasks[0].detail.srcInfo.regionId: is no known region id"},
      {tasks(with_detail(R"({"jobName":"x","srcInfo":{"cdbUInstanceId":"cdb-c1nl9rpv"},)" + dst + "}")),
       "tasks[0].detail.srcInfo.regionId: is missing"},
      {tasks(with_detail(R"({"jobName":"x",)" + src + "}")), "tasks[0].detail.dstInfo: is missing"},
      {tasks(with_detail(R"({"jobName":"x",)" + src + R"(,"dstInfo":{"regionId":4,"cdbUInstanceId":5}})")),
       "tasks[0].detail.dstInfo.cdbUInstanceId: must be a string"},
      {tasks(with_detail("{" + src + "," + dst + "}")), "tasks[0].detail.jobName: is missing"},
      {tasks(with_detail(R"({"jobName":"x","srcInfo":{"regionId":1,"cdbUInstanceId":"cdb-c1nl9rpv",)"
                         R"("dbInfo":[{"database":"db","table":[1]}]},)" +
                         dst + "}")),
       "tasks[0].detail.srcInfo.dbInfo[].table: must be an array of strings"},
      {tasks(with_detail(R"({"jobName":"x","srcInfo":{"regionId":1,"cdbUInstanceId":"cdb-c1nl9rpv",)"
                         R"("isOverrideRoot":2},)" +
                         dst + "}")),
       "tasks[0].detail.srcInfo.isOverrideRoot: must be from 0 to 1"},
      {tasks(R"({"status":1,"detail":{}})"), "tasks[0].jobId: is missing"},
      {tasks(minimal_item(0, 1)), "tasks[0].jobId: must be from 1 to"},
      {tasks(good + "," + minimal_item(52, 10)), "tasks[1].status: must be from 0 to 9"},
      {tasks(minimal_item(52, 6, R"(,"progress":101)")), "tasks[0].progress: must be from 0 to 100"},
      {tasks(minimal_item(52, 6, R"(,"startTime":"yesterday")")),
       "tasks[0].startTime: must be a time as yyyy-mm-dd hh:mm:ss"},
      {tasks(minimal_item(52, 9, R"(,"endTime":"2017-02-30 25:00:00")")),
       "tasks[0].endTime: must be a time as yyyy-mm-dd hh:mm:ss"},
      {tasks(R"({"jobId":53,"status":1,"detail":"none"})"), "tasks[0].detail.jobName: is missing"},
      {tasks("5"), "tasks[0]."},
      {tasks(good + "," + good), "jobId 50 appears twice"},
      {tasks(good + "," + minimal_item(53, 3, "x"), "replace"), "the body must be a JSON object"},
      {tasks(good + "," + minimal_item(53, 99), "replace"), "tasks[1].status: must be from 0 to 9"},
      {tasks(good, "upsert"), "mode must be merge or replace"},
      {R"({"tasks":{"jobId":50}})", "tasks must be an array of jobList items"},
      {R"([{"jobId":50}])", "the body must be a JSON object"},
      {"not json", "the body must be a JSON object"},
      {R"({"mode":"replace","tasks":[)" + good + R"(],"instances":{"instances":[{"id":"cdb-x","region":"ap-shanghai",)"
                                                 R"("zoneId":200001,"role":"boss"}]}})",
       "instances:1: instances[0].role: must be \"master\" or \"dr\""},
  };
  for (const auto &c : cases) {
    CAPTURE(c.body);
    const std::string error = control_error(emu, "POST", "/_emulator/state", c.body, 400);
    CHECK_MESSAGE(error.rfind(c.error, 0) == 0, error);
    CHECK(state_text(emu) == before);
  }

  // A colliding id in merge mode refuses the whole import, the items before it too.
  const std::string collision = control_error(emu, "POST", "/_emulator/state",
                                              tasks(good + "," + minimal_item(existing, 1)), 409);
  CHECK(collision.find("jobId " + std::to_string(existing)) == 0);
  CHECK(state_text(emu) == before);
  // Nothing imported raised the id counter.
  CHECK(create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh") == existing + 1);
}

// --- instances at run time ----------------------------------------------------------------------

TEST_CASE("state instances added changed and removed at run time alter Create") {
  LiveEmulator emu(manual_clock());
  const Json fixtures = Json::parse(state_text(emu))["instances"];
  REQUIRE(fixtures["instances"].size() == 14);

  CHECK(create_body(emu, "cdb-c1nl9rpv", "cdb-newdr001", "sh")["code"] == 9572);
  const Json added = control_json(emu, "POST", "/_emulator/instances",
                                  R"({"id":"cdb-newdr001","region":"ap-shanghai","zoneId":200004,"role":"dr",)"
                                  R"("comment":"added at run time"})",
                                  201);
  CHECK(added == Json::parse(R"({"id":"cdb-newdr001","region":"ap-shanghai","zoneId":200004,"role":"dr"})"));
  const auto uses_new = create(emu, "cdb-c1nl9rpv", "cdb-newdr001", "sh");
  const Json exported = Json::parse(state_text(emu))["instances"]["instances"];
  CHECK(std::count(exported.begin(), exported.end(), added) == 1);

  // Into a zone without disaster recovery: 30012.
  CHECK(control_json(emu, "POST", "/_emulator/instances",
                     R"({"id":"cdb-newdr001","region":"ap-guangzhou","zoneId":100004,"role":"dr"})",
                     200) == Json::parse(R"({"id":"cdb-newdr001","region":"ap-guangzhou","zoneId":100004,"role":"dr"})"));
  CHECK(create_body(emu, "cdb-c1nl9rpv", "cdb-newdr001", "gz")["code"] == 30012);
  // A master is no destination: 30005.
  control_json(emu, "POST", "/_emulator/instances",
               R"({"id":"cdb-newdr001","region":"ap-shanghai","zoneId":200004,"role":"master"})", 200);
  CHECK(create_body(emu, "cdb-c1nl9rpv", "cdb-newdr001", "sh")["code"] == 30005);
  // Back to a destination that holds data: Create passes, verification fails at step 7.
  control_json(emu, "POST", "/_emulator/instances",
               R"({"id":"cdb-newdr001","region":"ap-shanghai","zoneId":200004,"role":"dr","empty":false})", 200);
  const auto full = create(emu, "cdb-5u7czxdx", "cdb-newdr001", "sh");
  REQUIRE(act(emu, "CheckCdbDataSyncTask", full) == kOk);
  advance(emu, 3);
  CHECK(item(emu, full)["status"] == 3);

  // The fixture file's checks and messages.
  const std::string before = state_text(emu);
  const std::string bad_instances[] = {
      R"({"id":"cdb-bad00001","region":"ap-shanghai","zoneId":200001,"role":"boss"})",
      R"({"id":"cdb-bad00002","region":"ap-nowhere","zoneId":200001,"role":"dr"})",
      R"({"id":"cdb-bad00003","region":"ap-shanghai","zoneId":100001,"role":"dr"})",
      R"({"id":"","region":"ap-shanghai","zoneId":200001,"role":"dr"})",
      R"({"region":"ap-shanghai","zoneId":200001,"role":"dr"})",
      R"({"id":"cdb-bad00006","region":"ap-shanghai","zoneId":"200001","role":"dr"})",
      R"({"id":"cdb-bad00007","region":"ap-shanghai","zoneId":200001,"role":"dr","engineVersion":"9.0"})",
      R"({"id":"cdb-bad00008","region":"ap-shanghai","zoneId":200001,"role":"dr","breakReplicationAtStep":7})",
      R"({"id":"cdb-bad00009","region":"ap-shanghai","zoneId":200001,"role":"dr","uin":"12a"})",
      R"({"id":"cdb-bad00010","region":"ap-shanghai","zoneId":200001,"role":"dr","colour":"red"})",
      R"({"id":"cdb-bad00011","region":"ap-shanghai","zoneId":200001,"role":"dr","empty":"no"})",
      R"("cdb-bad00012")",
  };
  for (const auto &bad : bad_instances) {
    CAPTURE(bad);
    const std::string expected = "POST /_emulator/instances:1: instances[0]" + fixture_file_error(bad);
    CHECK(control_error(emu, "POST", "/_emulator/instances", bad, 400) == expected);
  }
  CHECK(control_error(emu, "POST", "/_emulator/instances", "", 400) == "the body must be one instance object");
  CHECK(state_text(emu) == before);

  // Removing an unused instance: Create no longer finds it.
  CHECK(control_json(emu, "DELETE", "/_emulator/instances/cdb-drhk0001") ==
        Json::parse(R"({"deleted":"cdb-drhk0001"})"));
  CHECK(create_body(emu, "cdb-c1nl9rpv", "cdb-drhk0001", "hk")["code"] == 9572);
  CHECK(control_error(emu, "DELETE", "/_emulator/instances/cdb-drhk0001", "", 404) == "no instance cdb-drhk0001");
  // One a live task (status 1) uses stays; one only a task at status 3 uses goes.
  const std::string in_use = control_error(emu, "DELETE", "/_emulator/instances/cdb-newdr001", "", 409);
  CHECK(in_use.find("instance cdb-newdr001 is used by task " + std::to_string(uses_new)) == 0);
  CHECK(act(emu, "DelCdbDataSyncTask", uses_new) == kOk);
  CHECK(control_json(emu, "DELETE", "/_emulator/instances/cdb-newdr001") ==
        Json::parse(R"({"deleted":"cdb-newdr001"})"));
  CHECK(create_body(emu, "cdb-c1nl9rpv", "cdb-newdr001", "sh")["code"] == 9572);

  // Reset: the fixtures again.
  control_json(emu, "POST", "/_emulator/reset");
  CHECK(Json::parse(state_text(emu))["instances"] == fixtures);
  CHECK(create_body(emu, "cdb-c1nl9rpv", "cdb-drhk0001", "hk")["code"] == 0);
  CHECK(create_body(emu, "cdb-c1nl9rpv", "cdb-newdr001", "sh")["code"] == 9572);
}

TEST_CASE("state POST instances takes exactly one JSON object") {
  LiveEmulator emu(manual_clock());
  const std::string before = state_text(emu);
  const std::string one = R"({"id":"cdb-extra001","region":"ap-shanghai","zoneId":200001,"role":"dr"})";
  const std::string two = R"({"id":"cdb-extra002","region":"ap-shanghai","zoneId":200001,"role":"dr"})";
  CHECK(control_error(emu, "POST", "/_emulator/instances", one + "," + two, 400) ==
        "the body must be one instance object");
  // Not one JSON object: text after the object, and an object that closes the wrapper it is put in.
  for (const std::string &bad : {one + " trailing", one + R"(], "zones": [{"zoneId": 200001, "disasterRecovery": false})"}) {
    CAPTURE(bad);
    auto res = control(emu, "POST", "/_emulator/instances", bad);
    REQUIRE(res);
    CHECK_MESSAGE(res->status == 400, res->status << " " << res->body);
    CHECK(state_text(emu) == before);
    CHECK(create_body(emu, "cdb-c1nl9rpv", "cdb-extra001", "sh")["code"] == 9572);
  }
}

// --- metrics ------------------------------------------------------------------------------------

TEST_CASE("state metrics parse as Prometheus text and count the requests sent") {
  // The parser itself: it refuses what it should.
  for (const char *bad : {"foo 1\n", "# TYPE foo counter\nfoo{a=\"b} 1\n", "# TYPE foo counter\nfoo 1",
                                "# TYPE foo counter\nfoo{a=\"b\",a=\"c\"} 1\n", "# TYPE foo counter\nfoo one\n",
                                "# TYPE foo gauge\n# TYPE foo gauge\nfoo 1\n", "# TYPE foo histogram\nfoo_bucket 1\n",
                                "# TYPE foo counter\n# TYPE bar counter\nfoo 1\nbar 1\nfoo{a=\"b\"} 2\n",
                                "# TYPE foo counter\nfoo{1a=\"b\"} 1\n", "# TYPE 9foo counter\n"}) {
    CAPTURE(bad);
    CHECK(!parse_prometheus(bad).errors.empty());
  }
  CHECK(parse_prometheus("# HELP foo A \\\\ b\\n.\n# TYPE foo counter\nfoo{a=\"x\\\"y\",b=\"\"} 1.5e3 123\n").errors.empty());

  LiveEmulator emu(manual_clock());
  auto exposition = metrics(emu);
  CHECK(exposition.all("cdb_emu_requests_total").empty());
  CHECK(exposition.value("cdb_emu_faults_fired_total") == 0.0);

  for (int i = 0; i < 3; ++i) create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
  create_9003(emu);
  create_9003(emu);
  Params unknown = common_params("DescribeNothing");
  CHECK(emu.get(unknown)["code"] == 6100);
  CHECK(Json::parse(list_text(emu))["code"] == 0);

  exposition = metrics(emu);
  const std::map<std::string, std::string> kTypes = {
      {"cdb_emu_requests_total", "counter"},
      {"cdb_emu_request_duration_seconds", "histogram"},
      {"cdb_emu_tasks", "gauge"},
      {"cdb_emu_faults_fired_total", "counter"},
      {"cdb_emu_journal_entries", "gauge"},
      {"cdb_emu_journal_bytes", "gauge"},
      {"cdb_emu_journal_dropped_entries_total", "counter"},
      {"cdb_emu_journal_dropped_bytes_total", "counter"},
      {"cdb_emu_nonces", "gauge"},
      {"cdb_emu_nonce_evictions_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
  };
  for (const auto &[name, type] : kTypes) {
    CAPTURE(name);
    REQUIRE(exposition.families.count(name) == 1);
    CHECK(exposition.families[name].type == type);
    CHECK(exposition.families[name].helped);
    CHECK(!exposition.families[name].help.empty());
  }

  // Exactly the requests sent, by action and code.
  std::map<std::pair<std::string, std::string>, double> requests;
  for (const auto &sample : exposition.all("cdb_emu_requests_total")) {
    CHECK(sample.labels.size() == 2);
    requests[{sample.labels.at("action"), sample.labels.at("code")}] = sample.value;
  }
  const std::map<std::pair<std::string, std::string>, double> sent = {
      {{"CreateCdbDataSyncTask", "0"}, 3},
      {{"CreateCdbDataSyncTask", "9003"}, 2},
      {{"unknown", "6100"}, 1},
      {{"GetCdbDataSyncTaskList", "0"}, 1},
  };
  CHECK(requests == sent);
  check_histogram(exposition, "CreateCdbDataSyncTask", 5);
  check_histogram(exposition, "unknown", 1);
  check_histogram(exposition, "GetCdbDataSyncTaskList", 1);
  CHECK(exposition.all("cdb_emu_request_duration_seconds_count").size() == 3);

  for (int status = 0; status <= 9; ++status) {
    CAPTURE(status);
    CHECK(exposition.value("cdb_emu_tasks", {{"status", std::to_string(status)}}) == (status == 1 ? 3.0 : 0.0));
  }
  CHECK(exposition.all("cdb_emu_tasks").size() == 10);
  CHECK(exposition.value("cdb_emu_faults_fired_total") == 0.0);
  CHECK(exposition.value("cdb_emu_journal_entries") == 7.0);
  CHECK(exposition.value("cdb_emu_journal_bytes") > 0.0);
  CHECK(exposition.value("cdb_emu_journal_dropped_entries_total") == 0.0);
  CHECK(exposition.value("cdb_emu_journal_dropped_bytes_total") == 0.0);
  const auto nonces = exposition.value("cdb_emu_nonces");
  REQUIRE(nonces);
  CHECK(*nonces >= 1);
  CHECK(*nonces <= 7);
  CHECK(exposition.value("cdb_emu_nonce_evictions_total") == 0.0);
  CHECK(exposition.value("process_resident_memory_bytes") > 1e6);

  // Tasks by status follow the tasks; a fault rule that fires is counted.
  const auto first = Json::parse(state_text(emu))["tasks"][0]["jobId"].get<std::int64_t>();
  CHECK(act(emu, "CheckCdbDataSyncTask", first) == kOk);
  control_json(emu, "POST", "/_emulator/faults", R"({"action":"GetCdbDataSyncTaskList","code":9003,"times":1})", 201);
  CHECK(Json::parse(list_text(emu))["code"] == 9003);
  CHECK(Json::parse(list_text(emu))["code"] == 0);
  exposition = metrics(emu);
  CHECK(exposition.value("cdb_emu_faults_fired_total") == 1.0);
  CHECK(exposition.value("cdb_emu_tasks", {{"status", "1"}}) == 2.0);
  CHECK(exposition.value("cdb_emu_tasks", {{"status", "2"}}) == 1.0);
  CHECK(exposition.value("cdb_emu_requests_total", {{"action", "GetCdbDataSyncTaskList"}, {"code", "9003"}}) == 1.0);
  CHECK(exposition.value("cdb_emu_requests_total", {{"action", "GetCdbDataSyncTaskList"}, {"code", "0"}}) == 2.0);
  CHECK(exposition.value("cdb_emu_requests_total", {{"action", "CheckCdbDataSyncTask"}, {"code", "0"}}) == 1.0);
  check_histogram(exposition, "GetCdbDataSyncTaskList", 3);
  check_histogram(exposition, "CheckCdbDataSyncTask", 1);
  CHECK(exposition.value("cdb_emu_journal_entries") == 10.0);
}

// --- measurement --------------------------------------------------------------------------------

TEST_CASE("state snapshot of 100000 tasks (measurement)" * doctest::skip()) {
  constexpr int kTasks = 100000;
  std::string items;
  items.reserve(static_cast<std::size_t>(kTasks) * 240);
  const int statuses[] = {1, 4, 9, 3};
  for (int i = 1; i <= kTasks; ++i) {
    if (i > 1) items += ',';
    const int status = statuses[i % 4];
    items += minimal_item(i, status, status == 9 ? R"(,"startTime":"2017-02-23 15:00:00","endTime":"2017-02-23 15:01:00")"
                                                 : "");
  }
  const std::string body = R"({"mode":"replace","tasks":[)" + items + "]}";
  const auto ms = [](auto from) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - from).count();
  };

  for (const bool files : {false, true}) {
    CAPTURE(files);
    const std::string dir = temp_path("-snapshots");
    const std::string db = temp_path(".db");
    Config cfg = manual_clock();
    if (files) {
      cfg.db = db;
      cfg.snapshot_dir = dir;
    }
    {
      LiveEmulator emu(cfg);
      auto t = std::chrono::steady_clock::now();
      CHECK(control_json(emu, "POST", "/_emulator/state", body)["imported"] == kTasks);
      const double import_ms = ms(t);
      REQUIRE(task_count(emu) == kTasks);

      t = std::chrono::steady_clock::now();
      CHECK(control_json(emu, "POST", "/_emulator/snapshots/big", "", 201)["tasks"] == kTasks);
      const double save_ms = ms(t);

      create(emu, "cdb-c1nl9rpv", "cdb-d2sagyed", "sh");
      REQUIRE(task_count(emu) == kTasks + 1);

      t = std::chrono::steady_clock::now();
      control_json(emu, "POST", "/_emulator/snapshots/big/restore");
      const double restore_ms = ms(t);
      CHECK(task_count(emu) == kTasks);

      MESSAGE(std::string(files ? "file database, --snapshot-dir" : ":memory: database, snapshots in memory")
              << ": import of " << kTasks << " tasks (" << body.size() / 1024 / 1024 << " MiB of JSON) " << import_ms
              << " ms; POST /_emulator/snapshots/big " << save_ms << " ms; restore " << restore_ms << " ms");
    }
    std::filesystem::remove_all(dir);
    remove_database(db);
  }
}

TEST_CASE("state restoring a snapshot whose file is gone is a 404 and leaves the store alone") {
  const std::string dir = temp_path("-snapshots");
  Config cfg = LiveEmulator::default_config();
  cfg.db = temp_path(".db");
  cfg.snapshot_dir = dir;
  LiveEmulator emu(cfg);
  Params create = common_params("CreateCdbDataSyncTask");
  for (auto &p : seed_create_params()) create.push_back(p);
  CHECK(emu.get(create)["data"]["jobId"] == 1);
  auto cli = emu.client();
  REQUIRE(cli.Post("/_emulator/snapshots/s1", "", "application/json")->status == 201);
  std::filesystem::remove(dir + "/s1.db");
  CHECK(control_error(emu, "POST", "/_emulator/snapshots/s1/restore", "", 404) == "no snapshot s1");
  Params again = common_params("CreateCdbDataSyncTask");
  for (auto &p : seed_create_params()) again.push_back(p);
  CHECK(emu.get(again)["data"]["jobId"] == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("state restores racing Creates never hand out an id twice") {
  LiveEmulator emu;
  auto cli = emu.client();
  REQUIRE(cli.Post("/_emulator/snapshots/s1", "", "application/json")->status == 201);
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::int64_t> ids;
  std::vector<std::thread> creators;
  for (int t = 0; t < 4; ++t) {
    creators.emplace_back([&] {
      while (!stop) {
        Params create = common_params("CreateCdbDataSyncTask");
        for (auto &p : seed_create_params()) create.push_back(p);
        const auto body = emu.get(create);
        if (body["code"] != 0) continue;
        std::lock_guard lock(mutex);
        ids.push_back(body["data"]["jobId"].get<std::int64_t>());
      }
    });
  }
  auto restorer = emu.client();
  for (int i = 0; i < 60; ++i) REQUIRE(restorer.Post("/_emulator/snapshots/s1/restore", "", "application/json")->status == 200);
  stop = true;
  for (auto &t : creators) t.join();
  const std::set<std::int64_t> distinct(ids.begin(), ids.end());
  CHECK(ids.size() > 0);
  CHECK(distinct.size() == ids.size());
}

TEST_CASE("state imports refuse statuses the emulator never shows") {
  LiveEmulator emu;
  const auto tasks = [](const std::string &items) { return R"({"mode":"merge","tasks":[)" + items + "]}"; };
  CHECK(control_error(emu, "POST", "/_emulator/state", tasks(minimal_item(70, 7)), 400) ==
        "tasks[0].status: 7 (to be switched) is never entered by the emulator");
  CHECK(control_error(emu, "POST", "/_emulator/state", tasks(minimal_item(71, 9)), 400) ==
        "tasks[0].endTime: a finished task (status 8 or 9) needs one");
  CHECK(control_error(emu, "POST", "/_emulator/state",
                      tasks(minimal_item(72, 9, R"(,"startTime":"2017-02-23 15:04:10","endTime":"2017-02-23 15:00:00")")), 400) ==
        "tasks[0].endTime: is before startTime");
}
