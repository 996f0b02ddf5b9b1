#include "domain/task_changes.hpp"

namespace cdbemu::domain {
namespace {

thread_local std::vector<TaskChange> *t_changes = nullptr;

}  // namespace

void collect_task_changes(std::vector<TaskChange> *out) { t_changes = out; }

void note_task_change(std::int64_t job_id, std::optional<std::int32_t> before, std::optional<std::int32_t> after) {
  if (!t_changes || before == after) return;
  for (auto &change : *t_changes) {
    if (change.job_id == job_id) {
      change.after = after;
      return;
    }
  }
  t_changes->push_back({job_id, before, after});
}

}  // namespace cdbemu::domain
