#pragma once
/*
 * The task state machine (API.md §5). Status numbers are the wire's.
 *
 *   Create                       -> 1 configured
 *   Check       1 configured     -> 2 verifying        outcome decided now, from the instances
 *   automatic   2 verifying      -> 4 verified         after verify_seconds (all 9 steps pass)
 *               2 verifying      -> 3 verify failed    a step fails: 6 (engine versions differ) or
 *                                                      7 (destination not empty); a dead end
 *   Start       4 verified       -> 5 ready to sync    outcome decided now, from the instances
 *   automatic   5 ready          -> 6 syncing, step 1  after ready_seconds
 *               6 step k         -> 6 step k+1         after step_seconds
 *               6 step k         -> 8 sync failed      after step_seconds, k = an instance's break step
 *               6 step 6         -> 9 sync succeeded   after step_seconds
 *   Delete      0 1 3 4 8 9      -> (gone)
 *
 * 0 (not configured) and 7 (to be switched) are never entered. "Automatic" transitions happen
 * lazily: whoever reads or acts on tasks first applies every transition that is due by the clock
 * (or, with --progression polls:N, the next one after N List reads of the task).
 */

#include <array>
#include <cstdint>
#include <string_view>

#include "store/records.hpp"

namespace cdbemu::domain {

/// How long each automatic phase lasts, in seconds.
struct Timing {
  std::int64_t verify_seconds = 3;
  std::int64_t ready_seconds = 2;
  std::int64_t step_seconds = 5;
};

/// The actions that move a task by request.
enum class TaskAction { Check, Start, Delete };

/// Whether `action` is allowed at `status` (Check: 1; Start: 4; Delete: 0 1 3 4 8 9).
bool allowed(TaskAction action, std::int32_t status);
/// The statuses `action` is allowed at, for messages: "1", "4" or "0, 1, 3, 4, 8 or 9".
std::string_view allowed_statuses(TaskAction action);
/// The status's documented meaning in English ("verifying").
std::string_view status_name(std::int32_t status);
/// Statuses in which a task holds its instances (a second Check or Start on them is 9592).
inline constexpr std::array<std::int32_t, 4> kBusyStatuses = {2, 5, 6, 7};

/// The verification steps (检查参数 ... 检查实例冷备数据), in order; 1-based numbering on the wire.
inline constexpr std::array<std::string_view, 9> kCheckSteps = {
    "检查参数", "检查源实例", "检查目标实例", "检查实例状态", "检查实例规格",
    "检查实例版本", "检查目标实例是否为空", "检查实例同步的库表信息", "检查实例冷备数据"};
/// Why a verification step fails, by step number (only 6 and 7 can).
std::string_view check_failure(std::int32_t step);

/// The run steps and whether each can be stopped.
struct RunStep {
  std::string_view name;
  int can_stop;
};
inline constexpr std::array<RunStep, 6> kRunSteps = {{{"检查环境", 0},
                                                      {"迁移配置", 0},
                                                      {"导入冷备", 1},
                                                      {"建立主从", 0},
                                                      {"等待同步", 1},
                                                      {"创建冷备", 0}}};

/// The verification step that will fail for these instances (0: none): 6 before 7.
std::int32_t failing_check_step(const store::InstanceRecord &src, const store::InstanceRecord &dst);
/// The run step at which replication breaks for these instances (0: none).
std::int32_t failing_run_step(const store::InstanceRecord &src, const store::InstanceRecord &dst);

/// Check: 1 -> 2 at `now`; decides whether verification will fail, and at which step.
void begin_check(store::TaskRecord &task, std::int64_t now, const Timing &timing, const store::InstanceRecord &src,
                 const store::InstanceRecord &dst);
/// Start: 4 -> 5 at `now`; decides whether the run will fail, and at which step.
void begin_start(store::TaskRecord &task, std::int64_t now, const Timing &timing, const store::InstanceRecord &src,
                 const store::InstanceRecord &dst);
/// Applies the task's next automatic transition as happening at `at`; false if it has none.
bool advance(store::TaskRecord &task, std::int64_t at);
/// Applies every automatic transition due by `now`, each at its own due time; true if any.
bool catch_up(store::TaskRecord &task, std::int64_t now);

}  // namespace cdbemu::domain
