// Snapshots, export/import and instances at run time: the state tools of the control plane.

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/job_view.hpp"
#include "control/routes.hpp"
#include "domain/clock.hpp"
#include "domain/fixtures.hpp"
#include "domain/task_lifecycle.hpp"
#include "domain/task_service.hpp"
#include "domain/times.hpp"
#include "store/snapshots.hpp"
#include "store/store.hpp"

namespace cdbemu::control {
namespace {

using nlohmann::ordered_json;

ordered_json snapshot_json(const store::SnapshotInfo &info, std::int32_t utc_offset) {
  ordered_json out;
  out["name"] = info.name;
  out["createdMs"] = info.created_ms;
  out["tasks"] = info.tasks;
  if (info.clock) out["clock"] = domain::format_time(*info.clock, utc_offset);
  return out;
}

/// The jobList items of an import body: {"tasks": [...]}, {"jobList": [...]}, or a pasted List
/// response {"data": {"jobList": [...]}}.
const nlohmann::json &imported_items(const nlohmann::json &body) {
  static const nlohmann::json kNone = nlohmann::json::array();
  if (body.contains("tasks")) return body["tasks"];
  if (body.contains("jobList")) return body["jobList"];
  if (body.contains("data") && body["data"].is_object() && body["data"].contains("jobList")) return body["data"]["jobList"];
  return kNone;
}

/// Tasks still in progress or waiting to be (an instance they use cannot be removed).
bool live_status(std::int32_t status) { return status != 3 && status != 8 && status != 9; }

}  // namespace

void ControlPlane::install_state_routes(httplib::Server &server) {
  store::Store &store = state_.store;
  domain::TaskService &service = state_.service;
  store::Snapshots &snapshots = state_.snapshots;

  server.Post(R"(/_emulator/snapshots/([^/]+)/restore)",
              guarded([this, &store, &snapshots](const httplib::Request &req, httplib::Response &res) {
                const std::string name = req.matches[1];
                // Restoring never makes an id reusable (Store::copy_from keeps the larger counter).
                const auto info = snapshots.restore(name, store);
                if (!info) throw ControlError{404, "no snapshot " + name};
                if (info->clock) clock_.restore(*info->clock);
                reply(res, 200, {{"restored", snapshot_json(*info, options_.utc_offset)}});
              }));
  server.Post(R"(/_emulator/snapshots/([^/]+))",
              guarded([this, &store, &snapshots](const httplib::Request &req, httplib::Response &res) {
                const std::string name = req.matches[1];
                if (!store::Snapshots::valid_name(name)) {
                  throw ControlError{400, "a snapshot name is 1 to 64 of A-Z a-z 0-9 . _ -"};
                }
                const auto info =
                    snapshots.save(name, store, clock_.manual() ? std::optional<std::int64_t>(clock_.now()) : std::nullopt);
                reply(res, 201, snapshot_json(info, options_.utc_offset));
              }));
  server.Get("/_emulator/snapshots", guarded([this, &snapshots](const httplib::Request &, httplib::Response &res) {
               ordered_json list = ordered_json::array();
               for (const auto &info : snapshots.list()) list.push_back(snapshot_json(info, options_.utc_offset));
               reply(res, 200, {{"snapshots", list}});
             }));
  server.Delete(R"(/_emulator/snapshots/([^/]+))",
                guarded([&snapshots](const httplib::Request &req, httplib::Response &res) {
                  const std::string name = req.matches[1];
                  if (!snapshots.remove(name)) throw ControlError{404, "no snapshot " + name};
                  reply(res, 200, {{"deleted", name}});
                }));

  server.Get("/_emulator/state", guarded([this, &store, &service](const httplib::Request &, httplib::Response &res) {
               const domain::TaskList all = service.all_tasks();
               const api::ViewClock view{all.now, options_.utc_offset, service.progression().polls == 0};
               // Written straight to text: a JSON tree of 100,000 tasks took several times the memory.
               std::string body;
               api::JsonOut out(body);
               out.object().key("tasks").array();
               for (const auto &task : all.tasks) api::job_list_item(out, task, view);
               out.end_array();
               out.key("instances").raw(domain::instances_to_json(store.instances(), store.zones()).dump());
               out.end_object();
               res.status = 200;
               res.set_content(body, "application/json");
             }));

  server.Post("/_emulator/state", guarded([this, &store, &service](const httplib::Request &req, httplib::Response &res) {
                const auto body = json_body(req);
                for (const auto &[key, value] : body.items()) {
                  static const std::set<std::string> known = {"mode", "tasks", "jobList", "instances", "code",
                                                              "message", "codeDesc", "data"};
                  if (!known.count(key)) throw ControlError{400, "unknown field \"" + key + "\""};
                }
                const std::string mode = body.value("mode", "merge");
                if (mode != "merge" && mode != "replace") throw ControlError{400, "mode must be merge or replace"};
                const auto &items = imported_items(body);
                if (!items.is_array()) throw ControlError{400, "tasks must be an array of jobList items"};
                // Check everything before writing anything.
                std::optional<domain::InstanceFixtures> instances;
                if (body.contains("instances")) {
                  try {
                    instances = domain::parse_instances(body["instances"].dump(), "instances");
                  } catch (const domain::FixtureError &e) {
                    throw ControlError{400, e.what()};
                  }
                }
                const api::ViewClock view{clock_.now(), options_.utc_offset, service.progression().polls == 0};
                std::vector<store::TaskRecord> tasks;
                std::set<std::int64_t> ids;
                for (std::size_t i = 0; i < items.size(); ++i) {
                  try {
                    tasks.push_back(api::task_from_item(items[i], view, service.timing()));
                  } catch (const std::invalid_argument &e) {
                    throw ControlError{400, "tasks[" + std::to_string(i) + "]." + e.what()};
                  }
                  if (!ids.insert(tasks.back().job_id).second) {
                    throw ControlError{400, "jobId " + std::to_string(tasks.back().job_id) + " appears twice"};
                  }
                }
                std::int64_t highest = 0;
                store.transaction([&] {
                  if (mode == "replace") store.delete_all_tasks(false, 1);
                  if (instances && mode == "replace") store.replace_fixtures(instances->instances, instances->zones);
                  if (instances && mode == "merge") {
                    for (const auto &instance : instances->instances) store.put_instance(instance);
                  }
                  for (auto &task : tasks) {
                    const auto src = store.find_instance(task.src_instance_id);
                    const auto dst = store.find_instance(task.dst_instance_id);
                    task.owner_uin = src ? src->uin : store::InstanceRecord{}.uin;
                    task.dst_zone_id = dst ? dst->zone_id : 0;
                    // A task still verifying or syncing fails where its instances make it fail.
                    if (src && dst && task.status == 2) task.check_fail_step = domain::failing_check_step(*src, *dst);
                    if (src && dst && (task.status == 5 || task.status == 6)) {
                      task.run_fail_step = domain::failing_run_step(*src, *dst);
                    }
                    if (!store.insert_task_with_id(task)) {
                      throw ControlError{409, "jobId " + std::to_string(task.job_id) +
                                                  " is taken (merge refuses colliding ids; use mode replace)"};
                    }
                    highest = std::max(highest, task.job_id);
                  }
                  // The id counter rises above every imported id.
                  store.raise_next_job_id(highest + 1);
                });
                reply(res, 200, {{"imported", tasks.size()}, {"mode", mode}});
              }));

  server.Post("/_emulator/instances", guarded([&store](const httplib::Request &req, httplib::Response &res) {
                // The same checks and messages as the fixtures file.
                // Exactly one JSON value; the fixture checks say what is wrong with it.
                const auto instance = parse_json(req.body);
                if (instance.is_discarded()) throw ControlError{400, "the body must be one instance object"};
                domain::InstanceFixtures parsed;
                try {
                  parsed = domain::parse_instances("{\"instances\": [" + instance.dump() + "]}", "POST /_emulator/instances");
                } catch (const domain::FixtureError &e) {
                  throw ControlError{400, e.what()};
                }
                if (parsed.instances.size() != 1) throw ControlError{400, "the body must be one instance object"};
                const bool existed = store.find_instance(parsed.instances[0].instance_id).has_value();
                store.put_instance(parsed.instances[0]);
                reply(res, existed ? 200 : 201,
                      domain::instances_to_json(parsed.instances, {})["instances"][0]);
              }));
  server.Delete(R"(/_emulator/instances/([^/]+))", guarded([&store](const httplib::Request &req, httplib::Response &res) {
                  const std::string id = req.matches[1];
                  store.transaction([&] {
                    if (!store.find_instance(id)) throw ControlError{404, "no instance " + id};
                    for (const auto &task : store.all_tasks()) {
                      if ((task.src_instance_id == id || task.dst_instance_id == id) && live_status(task.status)) {
                        throw ControlError{409, "instance " + id + " is used by task " + std::to_string(task.job_id) +
                                                    " at status " + std::to_string(task.status)};
                      }
                    }
                    store.delete_instance(id);
                  });
                  reply(res, 200, {{"deleted", id}});
                }));
}

}  // namespace cdbemu::control
