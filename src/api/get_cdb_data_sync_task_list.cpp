// GetCdbDataSyncTaskList: filters, order and paging over the request region's tasks (9003 for a
// malformed one); an empty-string filter means absent.

#include <nlohmann/json.hpp>

#include "api/action.hpp"
#include "api/job_view.hpp"
#include "domain/errors.hpp"
#include "domain/task_service.hpp"
#include "domain/times.hpp"

namespace cdbemu::api {
namespace {

using domain::ApiError;
using domain::ErrorCode;

/// The largest integer List parameters take (18 digits).
constexpr std::int64_t kMaxInteger = 999999999999999999;

/// A filter value, or nullopt when absent or empty.
std::optional<std::string> filter(const ActionContext &ctx, std::string_view name) {
  const std::string *value = value_of(ctx.params, name, ErrorCode::ParameterError, name);
  if (!value || value->empty()) return std::nullopt;
  return *value;
}

/// A decimal integer in [min, max], or 9003 naming the parameter.
std::int64_t integer(const std::string &text, std::string_view name, std::int64_t min, std::int64_t max) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string digits = negative ? text.substr(1) : text;
  const bool valid = !digits.empty() && digits.size() <= 18 && (digits == "0" || digits.front() != '0') &&
                     digits.find_first_not_of("0123456789") == std::string::npos;
  const std::int64_t value = valid ? std::stoll(text) : 0;
  if (!valid || value < min || value > max) {
    throw ApiError(ErrorCode::ParameterError, std::string(name) + " must be an integer from " + std::to_string(min) +
                                                  " to " + std::to_string(max));
  }
  return value;
}

std::optional<std::int64_t> time_filter(const ActionContext &ctx, std::string_view name) {
  const auto text = filter(ctx, name);
  if (!text) return std::nullopt;
  const auto time = domain::parse_time(*text, ctx.options.utc_offset);
  if (!time) throw ApiError(ErrorCode::ParameterError, std::string(name) + " must be a time as yyyy-mm-dd hh:mm:ss");
  return time;
}

/// status.N: integers; a value outside 0..9 matches nothing.
std::optional<std::vector<std::int32_t>> status_filter(const ActionContext &ctx) {
  const http::ParamNode *node = ctx.params.find("status");
  if (!node || (node->is_value() && node->value().empty())) return std::nullopt;
  std::vector<const http::ParamNode *> values;
  if (node->is_value()) {
    values.push_back(node);
  } else if (node->is_list()) {
    for (const auto &item : node->items()) values.push_back(&item);
  } else {
    throw ApiError(ErrorCode::ParameterError, "status must be an indexed list (status.0=1&status.1=4)");
  }
  std::vector<std::int32_t> out;
  bool any = false;
  for (const http::ParamNode *value : values) {
    if (!value->is_value()) throw ApiError(ErrorCode::ParameterError, "status.N must be integers");
    if (value->value().empty()) continue;
    any = true;
    const std::int64_t status = integer(value->value(), "status.N", -kMaxInteger, kMaxInteger);
    if (status >= 0 && status <= 9) out.push_back(static_cast<std::int32_t>(status));
  }
  // Only empty items: an empty array, which is simply absent (API.md §1).
  if (!any) return std::nullopt;
  return out;
}

store::TaskOrder order_of(const std::string &text) {
  if (text == "jobId") return store::TaskOrder::JobId;
  if (text == "status") return store::TaskOrder::Status;
  if (text == "jobName") return store::TaskOrder::JobName;
  if (text == "submitTime") return store::TaskOrder::SubmitTime;
  throw ApiError(ErrorCode::ParameterError, "order must be jobId, status, jobName or submitTime");
}

}  // namespace

std::string get_cdb_data_sync_task_list(const ActionContext &ctx) {
  store::TaskQuery query;
  query.region = std::string(ctx.region.long_name);
  if (const auto job_id = filter(ctx, "jobId")) {
    query.job_id = integer(*job_id, "jobId", 1, kMaxInteger);
  }
  query.job_name = filter(ctx, "jobName");
  query.statuses = status_filter(ctx);
  query.src_instance_id = filter(ctx, "srcUInstanceId");
  query.dst_instance_id = filter(ctx, "dstUInstanceId");
  query.submit_from = time_filter(ctx, "submitTimeStart");
  query.submit_to = time_filter(ctx, "submitTimeEnd");
  if (const auto order = filter(ctx, "order")) query.order = order_of(*order);
  if (const auto seq = filter(ctx, "orderSeq")) {
    if (*seq != "ASC" && *seq != "DESC" && *seq != "asc" && *seq != "desc") {
      throw ApiError(ErrorCode::ParameterError, "orderSeq must be ASC or DESC");
    }
    query.descending = *seq == "DESC" || *seq == "desc";
  }
  if (const auto offset = filter(ctx, "offset")) {
    query.offset = integer(*offset, "offset", 0, kMaxInteger);
  }
  if (const auto limit = filter(ctx, "limit")) query.limit = integer(*limit, "limit", 1, 100);

  const domain::TaskList list = ctx.service.list_tasks(std::move(query), ctx.caller);
  const ViewClock clock{list.now, ctx.options.utc_offset, ctx.service.progression().polls == 0};
  std::string data;
  data.reserve(256 + 2048 * list.tasks.size());
  JsonOut out(data);
  out.object().field("totalCount", list.total).key("jobList").array();
  for (const auto &task : list.tasks) job_list_item(out, task, clock);
  out.end_array().end_object();
  return data;
}

}  // namespace cdbemu::api
