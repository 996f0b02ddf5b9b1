#pragma once
// A task as GetCdbDataSyncTaskList shows it: one jobList item, in the documented shape and types
// (../shared/spec/examples/GetCdbDataSyncTaskList.response.json).

#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include "api/json_out.hpp"
#include "domain/task_lifecycle.hpp"
#include "store/records.hpp"

namespace cdbemu::api {

/// What a view depends on besides the task.
struct ViewClock {
  std::int64_t now = 0;           ///< the time the task was read at (the emulator's clock)
  std::int32_t utc_offset = 0;    ///< wire times are shown in this zone
  bool by_time = true;            ///< progress within a phase comes from the clock (not --progression polls)
};

/// Writes the jobList item of `task`.
void job_list_item(JsonOut &out, const store::TaskRecord &task, const ViewClock &clock);

/// The task a jobList item describes (import): the lifecycle is rebuilt so the task continues
/// from where the item shows it, on the clock, with `timing`. Throws std::invalid_argument naming
/// the field. owner_uin and dst_zone_id are left for the caller.
store::TaskRecord task_from_item(const nlohmann::json &item, const ViewClock &clock, const domain::Timing &timing);

}  // namespace cdbemu::api
