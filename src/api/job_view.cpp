#include "api/job_view.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/task_lifecycle.hpp"
#include "domain/times.hpp"

namespace cdbemu::api {
namespace {

using nlohmann::ordered_json;
using store::TaskRecord;

/// Fraction of a phase of `seconds` that began at `began`, by the clock (0 when not by time).
double elapsed_fraction(const ViewClock &clock, std::int64_t began, std::int64_t seconds) {
  if (!clock.by_time || seconds <= 0) return 0.0;
  return std::clamp(static_cast<double>(clock.now - began) / static_cast<double>(seconds), 0.0, 1.0);
}

ordered_json check_step(std::size_t index, int code, std::string_view message) {
  ordered_json step;
  step["stepNo"] = index + 1;
  step["stepName"] = domain::kCheckSteps[index];
  step["code"] = code;
  step["message"] = message;
  return step;
}

ordered_json check_info(const TaskRecord &task, const ViewClock &clock) {
  ordered_json info;
  if (task.check_at == 0) {
    info["checkFlag"] = 0;
    info["checkResult"] = ordered_json::array();
    return info;
  }
  const bool done = task.check_done_at != 0;
  const bool failed = done && task.check_fail_step > 0;
  ordered_json steps = ordered_json::array();
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
  for (std::size_t i = 0; i < shown; ++i) {
    const bool failing = failed && i + 1 == static_cast<std::size_t>(task.check_fail_step);
    const bool last = i + 1 == domain::kCheckSteps.size();
    steps.push_back(failing ? check_step(i, 1, domain::check_failure(task.check_fail_step))
                            : check_step(i, 0, last ? "成功" : "校验成功"));
  }
  ordered_json result;
  result["code"] = failed ? 1 : 0;
  result["message"] = !done ? "" : failed ? "灾备检查失败" : "灾备检查成功";
  result["status"] = done ? "finished" : "running";
  result["isSuccess"] = done && !failed ? 1 : 0;
  result["stepInfo"] = std::move(steps);
  info["checkFlag"] = !done ? 0 : failed ? 2 : 1;
  info["checkResult"] = std::move(result);
  return info;
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

ordered_json job_output(const TaskRecord &task, const ViewClock &clock, const RunProgress &progress) {
  if (task.start_at == 0) return ordered_json::array();
  const bool failed = task.status == 8;
  const int step_now = task.status == 5 ? 0 : failed ? task.run_fail_step : task.status == 9 ? 6 : task.run_step;
  ordered_json out;
  out["code"] = failed ? 1 : 0;
  const std::string step_name =
      step_now > 0 ? std::string(domain::kRunSteps[static_cast<std::size_t>(step_now - 1)].name) : std::string();
  out["message"] = failed ? step_name + "失败：主从复制中断" : task.status == 9 ? "灾备同步成功" : "";
  out["status"] = task.status == 5 ? "waiting" : task.status == 6 ? "running" : failed ? "abnormal_finish" : "normal_finish";
  out["stepAll"] = static_cast<int>(domain::kRunSteps.size());
  out["stepNow"] = step_now;
  out["stepName"] = step_name;
  char percent[16];
  std::snprintf(percent, sizeof(percent), "%.2f", progress.step_percent);
  out["stepPercent"] = percent;
  const std::int64_t until = task.end_at != 0 ? task.end_at : clock.now;
  out["costTime"] = task.sync_at != 0 ? std::max<std::int64_t>(0, until - task.sync_at) : 0;
  out["createTime"] = domain::format_time(task.start_at, clock.utc_offset);
  ordered_json steps = ordered_json::array();
  for (std::size_t i = 0; i < domain::kRunSteps.size(); ++i) {
    ordered_json step;
    step["stepNo"] = i + 1;
    step["stepName"] = domain::kRunSteps[i].name;
    step["canStop"] = domain::kRunSteps[i].can_stop;
    steps.push_back(std::move(step));
  }
  out["stepInfo"] = std::move(steps);
  return out;
}

}  // namespace

ordered_json job_list_item(const TaskRecord &task, const ViewClock &clock) {
  const RunProgress progress = run_progress(task, clock);
  const bool check_failed = task.status == 3;
  const bool run_failed = task.status == 8;
  ordered_json item;
  item["code"] = check_failed || run_failed ? 1 : 0;
  item["message"] = check_failed ? std::string(domain::check_failure(task.check_fail_step))
                    : run_failed ? "灾备同步失败"
                                 : "";
  item["jobId"] = task.job_id;
  item["type"] = 10;
  item["status"] = task.status;
  item["progress"] = progress.progress;
  item["startTime"] = domain::format_time(task.sync_at, clock.utc_offset);
  item["endTime"] = domain::format_time(task.end_at, clock.utc_offset);

  ordered_json detail;
  detail["jobName"] = task.job_name;
  detail["runMode"] = "1";      // the documented example has strings here
  detail["migrateType"] = "3";
  detail["extMsg"] = task.status == 9 ? "实例升级成功" : "";
  ordered_json src;
  src["regionId"] = task.src_region_id;
  src["cdbUInstanceId"] = task.src_instance_id;
  ordered_json db_info = ordered_json::array();
  for (const auto &db : task.src_db_info) {
    ordered_json entry;
    entry["database"] = db.database;
    entry["table"] = db.tables;
    db_info.push_back(std::move(entry));
  }
  src["dbInfo"] = std::move(db_info);
  src["isOverrideRoot"] = task.is_override_root;
  detail["srcInfo"] = std::move(src);
  ordered_json dst;
  dst["regionId"] = task.dst_region_id;
  dst["cdbUInstanceId"] = task.dst_instance_id;
  detail["dstInfo"] = std::move(dst);
  detail["jobInput"] = ordered_json::array();
  detail["checkInfo"] = check_info(task, clock);
  detail["jobOutput"] = job_output(task, clock, progress);
  detail["expectTime"] = domain::format_time(0, clock.utc_offset);
  detail["updateTime"] = domain::format_time(task.update_time, clock.utc_offset);
  detail["submitTime"] = domain::format_time(task.submit_time, clock.utc_offset);
  item["detail"] = std::move(detail);
  return item;
}

}  // namespace cdbemu::api
