#pragma once
// Which tasks a request changed, for the journal: the service notes every status change (those
// caused by reads too) into the list the HTTP layer set for the request being served on this thread.

#include <cstdint>
#include <optional>
#include <vector>

namespace cdbemu::domain {

/// A task's status before and after a request (nullopt: it did not exist / no longer exists).
struct TaskChange {
  std::int64_t job_id = 0;
  std::optional<std::int32_t> before;
  std::optional<std::int32_t> after;
};

/// Makes this thread's notes go to `out` (nullptr: nowhere).
void collect_task_changes(std::vector<TaskChange> *out);

/// Notes a change for this thread, merging with an earlier note of the same task.
void note_task_change(std::int64_t job_id, std::optional<std::int32_t> before, std::optional<std::int32_t> after);

}  // namespace cdbemu::domain
