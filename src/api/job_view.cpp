#include "api/job_view.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/task_lifecycle.hpp"
#include "domain/regions.hpp"
#include "domain/times.hpp"

#include <cstdlib>
#include <stdexcept>

namespace cdbemu::api {
namespace {

using nlohmann::ordered_json;
using store::TaskRecord;

/// Fraction of a phase of `seconds` that began at `began`, by the clock (0 when not by time).
double elapsed_fraction(const ViewClock &clock, std::int64_t began, std::int64_t seconds) {
  if (!clock.by_time || seconds <= 0) return 0.0;
  return std::clamp(static_cast<double>(clock.now - began) / static_cast<double>(seconds), 0.0, 1.0);
}

void check_step(JsonOut &out, std::size_t index, int code, std::string_view message) {
  out.object()
      .field("stepNo", static_cast<std::int64_t>(index + 1))
      .field("stepName", domain::kCheckSteps[index])
      .field("code", code)
      .field("message", message)
      .end_object();
}

void check_info(JsonOut &out, const TaskRecord &task, const ViewClock &clock) {
  out.object();
  if (task.check_at == 0) {
    out.field("checkFlag", 0).key("checkResult").array().end_array().end_object();
    return;
  }
  const bool done = task.check_done_at != 0;
  const bool failed = done && task.check_fail_step > 0;
  std::size_t shown = domain::kCheckSteps.size();
  if (!done) {
    // Steps pass one by one while verifying; never the whole set before the phase ends.
    shown = std::min<std::size_t>(static_cast<std::size_t>(elapsed_fraction(clock, task.check_at, task.verify_seconds) *
                                                           static_cast<double>(domain::kCheckSteps.size())),
                                  domain::kCheckSteps.size() - 1);
    if (task.check_fail_step > 0) shown = std::min<std::size_t>(shown, static_cast<std::size_t>(task.check_fail_step - 1));
  } else if (failed) {
    shown = static_cast<std::size_t>(task.check_fail_step);
  }
  out.field("checkFlag", !done ? 0 : failed ? 2 : 1);
  out.key("checkResult").object();
  out.field("code", failed ? 1 : 0);
  out.field("message", !done ? "" : failed ? "灾备检查失败" : "灾备检查成功");
  out.field("status", done ? "finished" : "running");
  out.field("isSuccess", done && !failed ? 1 : 0);
  out.key("stepInfo").array();
  for (std::size_t i = 0; i < shown; ++i) {
    const bool failing = failed && i + 1 == static_cast<std::size_t>(task.check_fail_step);
    const bool last = i + 1 == domain::kCheckSteps.size();
    if (failing) {
      check_step(out, i, 1, domain::check_failure(task.check_fail_step));
    } else {
      check_step(out, i, 0, last ? "成功" : "校验成功");
    }
  }
  out.end_array().end_object().end_object();
}

/// Percent of the current run step done, and of the whole run.
struct RunProgress {
  double step_percent = 0;
  int progress = 0;
};

RunProgress run_progress(const TaskRecord &task, const ViewClock &clock) {
  switch (task.status) {
    case 6: {
      const double fraction = elapsed_fraction(clock, task.step_at, task.step_seconds);
      return {fraction * 100.0, static_cast<int>((task.run_step - 1 + fraction) * 100.0 / 6.0)};
    }
    case 8:
      return {100.0, static_cast<int>(task.run_fail_step * 100 / 6)};
    case 9:
      return {100.0, 100};
    default:
      return {0.0, 0};
  }
}

void job_output(JsonOut &out, const TaskRecord &task, const ViewClock &clock, const RunProgress &progress) {
  if (task.start_at == 0) {
    out.array().end_array();
    return;
  }
  const bool failed = task.status == 8;
  const int step_now = task.status == 5 ? 0 : failed ? task.run_fail_step : task.status == 9 ? 6 : task.run_step;
  const std::string step_name =
      step_now > 0 ? std::string(domain::kRunSteps[static_cast<std::size_t>(step_now - 1)].name) : std::string();
  out.object();
  out.field("code", failed ? 1 : 0);
  out.field("message", failed ? step_name + "失败：主从复制中断" : task.status == 9 ? "灾备同步成功" : "");
  out.field("status", task.status == 5   ? "waiting"
                      : task.status == 6 ? "running"
                      : failed           ? "abnormal_finish"
                                         : "normal_finish");
  out.field("stepAll", static_cast<std::int64_t>(domain::kRunSteps.size()));
  out.field("stepNow", step_now);
  out.field("stepName", step_name);
  char percent[16];
  std::snprintf(percent, sizeof(percent), "%.2f", progress.step_percent);
  out.field("stepPercent", percent);
  // As in the documented example (111 = endTime 15:06:00 - createTime 15:04:09): from the Start call.
  const std::int64_t until = task.end_at != 0 ? task.end_at : clock.now;
  out.field("costTime", std::max<std::int64_t>(0, until - task.start_at));
  out.field("createTime", domain::format_time(task.start_at, clock.utc_offset));
  out.key("stepInfo").array();
  for (std::size_t i = 0; i < domain::kRunSteps.size(); ++i) {
    out.object()
        .field("stepNo", static_cast<std::int64_t>(i + 1))
        .field("stepName", domain::kRunSteps[i].name)
        .field("canStop", domain::kRunSteps[i].can_stop)
        .end_object();
  }
  out.end_array().end_object();
}

}  // namespace

void job_list_item(JsonOut &out, const TaskRecord &task, const ViewClock &clock) {
  const RunProgress progress = run_progress(task, clock);
  const bool check_failed = task.status == 3;
  const bool run_failed = task.status == 8;
  out.object();
  out.field("code", check_failed || run_failed ? 1 : 0);
  out.field("message", check_failed ? domain::check_failure(task.check_fail_step)
                       : run_failed ? "灾备同步失败"
                                    : "");
  out.field("jobId", task.job_id);
  out.field("type", 10);
  out.field("status", task.status);
  out.field("progress", progress.progress);
  out.field("startTime", domain::format_time(task.sync_at, clock.utc_offset));
  out.field("endTime", domain::format_time(task.end_at, clock.utc_offset));

  out.key("detail").object();
  out.field("jobName", task.job_name);
  out.field("runMode", "1");  // the documented example has strings here
  out.field("migrateType", "3");
  out.field("extMsg", task.status == 9 ? "实例升级成功" : "");
  out.key("srcInfo").object();
  out.field("regionId", task.src_region_id);
  out.field("cdbUInstanceId", task.src_instance_id);
  out.key("dbInfo").array();
  for (const auto &db : task.src_db_info) {
    out.object().field("database", db.database).key("table").array();
    for (const auto &table : db.tables) out.string(table);
    out.end_array().end_object();
  }
  out.end_array();
  out.field("isOverrideRoot", task.is_override_root);
  out.end_object();
  out.key("dstInfo").object();
  out.field("regionId", task.dst_region_id);
  out.field("cdbUInstanceId", task.dst_instance_id);
  out.end_object();
  out.key("jobInput").array().end_array();
  out.key("checkInfo");
  check_info(out, task, clock);
  out.key("jobOutput");
  job_output(out, task, clock, progress);
  out.field("expectTime", domain::format_time(0, clock.utc_offset));
  out.field("updateTime", domain::format_time(task.update_time, clock.utc_offset));
  out.field("submitTime", domain::format_time(task.submit_time, clock.utc_offset));
  out.end_object();
  out.end_object();
}

namespace {

[[noreturn]] void bad(const std::string &field, const std::string &what) {
  throw std::invalid_argument(field + ": " + what);
}

const nlohmann::json &member(const nlohmann::json &object, const char *name, const std::string &path) {
  if (!object.is_object() || !object.contains(name)) bad(path + name, "is missing");
  return object[name];
}

std::int64_t int_field(const nlohmann::json &object, const char *name, const std::string &path, std::int64_t min,
                       std::int64_t max) {
  const auto &value = member(object, name, path);
  // The documented example has some integers as strings ("1"); take both.
  std::int64_t number = 0;
  if (value.is_number_integer()) {
    number = value.get<std::int64_t>();
  } else if (value.is_string() && !value.get<std::string>().empty() &&
             value.get<std::string>().find_first_not_of("0123456789") == std::string::npos &&
             value.get<std::string>().size() <= 18) {
    number = std::stoll(value.get<std::string>());
  } else {
    bad(path + name, "must be an integer");
  }
  if (number < min || number > max) bad(path + name, "must be from " + std::to_string(min) + " to " + std::to_string(max));
  return number;
}

std::string string_field(const nlohmann::json &object, const char *name, const std::string &path) {
  const auto &value = member(object, name, path);
  if (!value.is_string()) bad(path + name, "must be a string");
  return value.get<std::string>();
}

std::int64_t time_field(const nlohmann::json &object, const char *name, const std::string &path, std::int32_t offset) {
  const std::string text = string_field(object, name, path);
  if (text == "0000-00-00 00:00:00") return 0;
  const auto time = domain::parse_time(text, offset);
  if (!time) bad(path + name, "must be a time as yyyy-mm-dd hh:mm:ss");
  return *time;
}

}  // namespace

store::TaskRecord task_from_item(const nlohmann::json &item, const ViewClock &clock, const domain::Timing &timing) {
  if (!item.is_object()) bad("item", "must be an object");
  store::TaskRecord task;
  task.job_id = int_field(item, "jobId", "", 1, 999999999999999999);
  task.status = static_cast<std::int32_t>(int_field(item, "status", "", 0, 9));
  if (task.status == 7) bad("status", "7 (to be switched) is never entered by the emulator");
  const std::int64_t progress = item.contains("progress") ? int_field(item, "progress", "", 0, 100) : 0;
  task.sync_at = item.contains("startTime") ? time_field(item, "startTime", "", clock.utc_offset) : 0;
  task.end_at = item.contains("endTime") ? time_field(item, "endTime", "", clock.utc_offset) : 0;
  if ((task.status == 8 || task.status == 9) && task.end_at == 0) bad("endTime", "a finished task (status 8 or 9) needs one");
  if (task.end_at != 0 && task.end_at < task.sync_at) bad("endTime", "is before startTime");
  const auto &detail = member(item, "detail", "");
  task.job_name = string_field(detail, "jobName", "detail.");
  const auto &src = member(detail, "srcInfo", "detail.");
  task.src_region_id = static_cast<std::int32_t>(int_field(src, "regionId", "detail.srcInfo.", 0, 9999));
  const auto region = domain::find_region_by_id(task.src_region_id);
  if (!region) bad("detail.srcInfo.regionId", "is no known region id");
  task.region = std::string(region->long_name);
  task.src_instance_id = string_field(src, "cdbUInstanceId", "detail.srcInfo.");
  if (src.contains("dbInfo")) {
    const auto &db_info = src["dbInfo"];
    if (!db_info.is_array()) bad("detail.srcInfo.dbInfo", "must be an array");
    for (const auto &db : db_info) {
      store::DbInfoRecord record;
      record.database = string_field(db, "database", "detail.srcInfo.dbInfo[].");
      if (db.contains("table")) {
        if (!db["table"].is_array()) bad("detail.srcInfo.dbInfo[].table", "must be an array of strings");
        for (const auto &table : db["table"]) {
          if (!table.is_string()) bad("detail.srcInfo.dbInfo[].table", "must be an array of strings");
          record.tables.push_back(table.get<std::string>());
        }
      }
      task.src_db_info.push_back(std::move(record));
    }
  }
  task.is_override_root =
      src.contains("isOverrideRoot") ? static_cast<std::int32_t>(int_field(src, "isOverrideRoot", "detail.srcInfo.", 0, 1)) : 0;
  const auto &dst = member(detail, "dstInfo", "detail.");
  task.dst_region_id = static_cast<std::int32_t>(int_field(dst, "regionId", "detail.dstInfo.", 0, 9999));
  task.dst_instance_id = string_field(dst, "cdbUInstanceId", "detail.dstInfo.");
  task.submit_time = detail.contains("submitTime") ? time_field(detail, "submitTime", "detail.", clock.utc_offset) : clock.now;
  task.update_time = detail.contains("updateTime") ? time_field(detail, "updateTime", "detail.", clock.utc_offset) : clock.now;
  if (task.update_time == 0) task.update_time = task.submit_time;

  task.verify_seconds = timing.verify_seconds;
  task.ready_seconds = timing.ready_seconds;
  task.step_seconds = timing.step_seconds;
  const nlohmann::json output = detail.contains("jobOutput") ? detail["jobOutput"] : nlohmann::json::array();
  const nlohmann::json check = detail.contains("checkInfo") ? detail["checkInfo"] : nlohmann::json::object();
  if (task.status >= 2) {
    // When verification happened is not shown; it ended by the last change at the latest.
    task.check_at = task.update_time;
    if (task.status != 2) task.check_done_at = task.update_time;
  }
  if (task.status == 2) {
    const std::size_t steps = check.is_object() && check.contains("checkResult") && check["checkResult"].is_object() &&
                                      check["checkResult"].contains("stepInfo") && check["checkResult"]["stepInfo"].is_array()
                                  ? check["checkResult"]["stepInfo"].size()
                                  : 0;
    task.check_at = clock.now - static_cast<std::int64_t>(steps) * timing.verify_seconds /
                                    static_cast<std::int64_t>(domain::kCheckSteps.size());
    task.next_at = task.check_at + timing.verify_seconds;
  }
  if (task.status == 3) {
    task.check_fail_step = 7;
    if (check.is_object() && check.contains("checkResult") && check["checkResult"].is_object() &&
        check["checkResult"].contains("stepInfo") && check["checkResult"]["stepInfo"].is_array()) {
      for (const auto &step : check["checkResult"]["stepInfo"]) {
        if (step.is_object() && step.value("code", 0) != 0) task.check_fail_step = step.value("stepNo", 7);
      }
    }
  }
  if (task.status >= 5 && task.status != 7) {
    task.start_at = output.is_object() && output.contains("createTime")
                        ? time_field(output, "createTime", "detail.jobOutput.", clock.utc_offset)
                        : task.update_time;
  }
  if (task.status == 5) task.next_at = task.start_at + timing.ready_seconds;
  if (task.status == 6) {
    // Where the run stands: the shown step and its percent, else the overall progress.
    double done_steps = static_cast<double>(progress) * 6.0 / 100.0;
    if (output.is_object() && output.contains("stepNow") && int_field(output, "stepNow", "detail.jobOutput.", 0, 6) > 0) {
      const std::string percent = output.contains("stepPercent") && output["stepPercent"].is_string()
                                      ? output["stepPercent"].get<std::string>()
                                      : "0";
      done_steps = static_cast<double>(int_field(output, "stepNow", "detail.jobOutput.", 1, 6) - 1) +
                   std::clamp(std::atof(percent.c_str()) / 100.0, 0.0, 0.999);
    }
    task.run_step = std::min(6, static_cast<std::int32_t>(done_steps) + 1);
    const double fraction = done_steps - (task.run_step - 1);
    task.step_at = clock.now - static_cast<std::int64_t>(fraction * static_cast<double>(timing.step_seconds) + 0.5);
    task.next_at = task.step_at + timing.step_seconds;
    if (task.sync_at == 0) task.sync_at = task.step_at - (task.run_step - 1) * timing.step_seconds;
  }
  if (task.status == 8) {
    task.run_fail_step = output.is_object() && output.contains("stepNow")
                             ? static_cast<std::int32_t>(int_field(output, "stepNow", "detail.jobOutput.", 1, 6))
                             : 1;
    task.run_step = task.run_fail_step;
  }
  if (task.status == 9) task.run_step = 6;
  return task;
}

}  // namespace cdbemu::api
