#pragma once
// Which tasks a request changed, for the journal: the service notes every status change (those
// caused by reads too) into the scope the HTTP layer opened around the request on this thread.

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

/// Collects the changes noted on this thread while it lives.
class TaskChangeScope {
 public:
  explicit TaskChangeScope(std::vector<TaskChange> &out);
  ~TaskChangeScope();
  TaskChangeScope(const TaskChangeScope &) = delete;
  TaskChangeScope &operator=(const TaskChangeScope &) = delete;

 private:
  std::vector<TaskChange> *previous_;
};

/// Notes a change into the current scope (if any), merging with an earlier note of the same task.
void note_task_change(std::int64_t job_id, std::optional<std::int32_t> before, std::optional<std::int32_t> after);

}  // namespace cdbemu::domain
