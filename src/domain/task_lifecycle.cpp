#include "domain/task_lifecycle.hpp"

#include <algorithm>

namespace cdbemu::domain {

bool allowed(TaskAction action, std::int32_t status) {
  switch (action) {
    case TaskAction::Check: return status == 1;
    case TaskAction::Start: return status == 4;
    case TaskAction::Delete: return status == 0 || status == 1 || status == 3 || status == 4 || status == 8 || status == 9;
  }
  return false;
}

std::string_view allowed_statuses(TaskAction action) {
  switch (action) {
    case TaskAction::Check: return "1";
    case TaskAction::Start: return "4";
    case TaskAction::Delete: return "0, 1, 3, 4, 8 or 9";
  }
  return "";
}

std::string_view status_name(std::int32_t status) {
  static constexpr std::array<std::string_view, 10> kNames = {
      "not configured", "configured",    "verifying",      "verification failed", "verification succeeded",
      "ready to sync",  "syncing",       "to be switched", "sync failed",         "sync succeeded"};
  return status >= 0 && status < 10 ? kNames[static_cast<std::size_t>(status)] : "unknown";
}

std::string_view check_failure(std::int32_t step) {
  switch (step) {
    case 6: return "源实例与目标实例的版本不一致";
    case 7: return "目标实例不为空";
    default: return "校验失败";
  }
}

std::int32_t failing_check_step(const store::InstanceRecord &src, const store::InstanceRecord &dst) {
  // Steps run in order, so the first failing one is reported: 6 before 7.
  return src.engine_version != dst.engine_version ? 6 : !dst.is_empty ? 7 : 0;
}

std::int32_t failing_run_step(const store::InstanceRecord &src, const store::InstanceRecord &dst) {
  const auto breaks = [](std::int32_t step) { return step > 0 ? step : 7; };
  const std::int32_t fail = std::min(breaks(src.break_at_step), breaks(dst.break_at_step));
  return fail <= 6 ? fail : 0;
}

void begin_check(store::TaskRecord &task, std::int64_t now, const Timing &timing, const store::InstanceRecord &src,
                 const store::InstanceRecord &dst) {
  task.status = 2;
  task.check_at = now;
  task.check_done_at = 0;
  task.verify_seconds = timing.verify_seconds;
  task.check_fail_step = failing_check_step(src, dst);
  task.next_at = now + timing.verify_seconds;
  task.polls = 0;
  task.update_time = now;
}

void begin_start(store::TaskRecord &task, std::int64_t now, const Timing &timing, const store::InstanceRecord &src,
                 const store::InstanceRecord &dst) {
  task.status = 5;
  task.start_at = now;
  task.ready_seconds = timing.ready_seconds;
  task.step_seconds = timing.step_seconds;
  task.run_fail_step = failing_run_step(src, dst);
  task.next_at = now + timing.ready_seconds;
  task.polls = 0;
  task.update_time = now;
}

bool advance(store::TaskRecord &task, std::int64_t at) {
  switch (task.status) {
    case 2:
      task.status = task.check_fail_step > 0 ? 3 : 4;
      task.check_done_at = at;
      task.next_at.reset();
      break;
    case 5:
      task.status = 6;
      task.run_step = 1;
      task.sync_at = at;
      task.step_at = at;
      task.next_at = at + task.step_seconds;
      break;
    case 6:
      if (task.run_step == task.run_fail_step || task.run_step >= 6) {
        task.status = task.run_step == task.run_fail_step ? 8 : 9;
        task.end_at = at;
        task.next_at.reset();
      } else {
        ++task.run_step;
        task.step_at = at;
        task.next_at = at + task.step_seconds;
      }
      break;
    default:
      return false;
  }
  task.update_time = at;
  return true;
}

bool catch_up(store::TaskRecord &task, std::int64_t now) {
  bool moved = false;
  while (task.next_at && *task.next_at <= now) {
    if (!advance(task, *task.next_at)) {
      task.next_at.reset();  // a status with nothing automatic to do
      break;
    }
    moved = true;
  }
  return moved;
}

}  // namespace cdbemu::domain
