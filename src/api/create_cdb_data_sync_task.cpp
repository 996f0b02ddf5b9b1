// CreateCdbDataSyncTask: checks the request's shape (rules 1-3 of the Create page), then lets the
// service check the instances and store the task.

#include <nlohmann/json.hpp>

#include "api/action.hpp"
#include "domain/errors.hpp"
#include "domain/task_service.hpp"

namespace cdbemu::api {
namespace {

using domain::ApiError;
using domain::ErrorCode;
using http::ParamNode;

/// The single element of `srcInfo` / `dstInfo`, or `code` explaining what is wrong.
const ParamNode &single_element(const ParamNode &params, std::string_view name, ErrorCode code) {
  const std::string field(name);
  const ParamNode *node = params.find(name);
  if (!node) throw ApiError(code, field + " is required");
  if (node->is_object()) {
    throw ApiError(code, field + " must be an indexed list (" + field + ".0.cdbUInstanceId=...), not a plain object (" +
                             field + ".cdbUInstanceId=...): pass an array of one object, not an object");
  }
  if (!node->is_list()) throw ApiError(code, field + " must be a list of one object (" + field + ".0.cdbUInstanceId=...)");
  if (node->items().size() != 1) {
    throw ApiError(code, field + " must have exactly one element, got " + std::to_string(node->items().size()));
  }
  const ParamNode &element = node->items().front();
  if (!element.is_object()) throw ApiError(code, field + ".0 must be an object with cdbUInstanceId");
  return element;
}

/// A required, non-empty value.
std::string required_value(const ParamNode &node, std::string_view name, ErrorCode code, const std::string &path) {
  const std::string *value = value_of(node, name, code, path);
  if (!value || value->empty()) throw ApiError(code, path + " is required");
  return *value;
}

/// srcInfo.0.dbInfo: databases in index order, each with its tables in index order.
std::vector<store::DbInfoRecord> parse_db_info(const ParamNode &src) {
  std::vector<store::DbInfoRecord> out;
  const ParamNode *db_info = src.find("dbInfo");
  if (!db_info) return out;
  if (!db_info->is_list()) {
    throw ApiError(ErrorCode::SourceInfoError, "srcInfo.0.dbInfo must be an indexed list (srcInfo.0.dbInfo.0.database=...)");
  }
  for (std::size_t i = 0; i < db_info->items().size(); ++i) {
    const ParamNode &entry = db_info->items()[i];
    const std::string path = "srcInfo.0.dbInfo." + std::to_string(i);
    if (!entry.is_object()) throw ApiError(ErrorCode::SourceInfoError, path + " must be an object with database");
    store::DbInfoRecord db;
    db.database = required_value(entry, "database", ErrorCode::SourceInfoError, path + ".database");
    if (const ParamNode *tables = entry.find("table")) {
      if (!tables->is_list()) {
        throw ApiError(ErrorCode::SourceInfoError, path + ".table must be an indexed list (" + path + ".table.0=...)");
      }
      for (std::size_t t = 0; t < tables->items().size(); ++t) {
        const ParamNode &table = tables->items()[t];
        const std::string table_path = path + ".table." + std::to_string(t);
        if (!table.is_value()) throw ApiError(ErrorCode::SourceInfoError, table_path + " must be a table name");
        if (table.value().empty()) throw ApiError(ErrorCode::SourceInfoError, table_path + " is an empty table name");
        db.tables.push_back(table.value());
      }
    }
    out.push_back(std::move(db));
  }
  return out;
}

void parse_source(const ParamNode &params, domain::CreateTaskRequest &request) {
  const ParamNode &src = single_element(params, "srcInfo", ErrorCode::SourceInfoError);
  request.src_instance_id =
      required_value(src, "cdbUInstanceId", ErrorCode::SourceInfoError, "srcInfo.0.cdbUInstanceId");
  const std::string *override_root =
      value_of(src, "isOverrideRoot", ErrorCode::SourceInfoError, "srcInfo.0.isOverrideRoot");
  if (override_root && *override_root != "0" && *override_root != "1") {
    throw ApiError(ErrorCode::SourceInfoError, "srcInfo.0.isOverrideRoot must be 0 or 1");
  }
  request.is_override_root = override_root && *override_root == "1" ? 1 : 0;
  request.src_db_info = parse_db_info(src);
}

void parse_destination(const ParamNode &params, domain::CreateTaskRequest &request) {
  const ParamNode &dst = single_element(params, "dstInfo", ErrorCode::DestinationInfoError);
  request.dst_instance_id =
      required_value(dst, "cdbUInstanceId", ErrorCode::DestinationInfoError, "dstInfo.0.cdbUInstanceId");

  const std::string *region = value_of(dst, "region", ErrorCode::DestinationInfoError, "dstInfo.0.region");
  const std::string *region_id = value_of(dst, "regionId", ErrorCode::DestinationInfoError, "dstInfo.0.regionId");
  if (region && region->empty()) region = nullptr;
  if (region_id && region_id->empty()) region_id = nullptr;
  if (!region && !region_id) {
    throw ApiError(ErrorCode::DestinationInfoError, "dstInfo.0.region (or dstInfo.0.regionId) is required");
  }
  if (region && region_id) {
    const auto a = domain::parse_region(*region);
    const auto b = domain::parse_region(*region_id);
    const bool same = a && b ? a->long_name == b->long_name : *region == *region_id;
    if (!same) {
      throw ApiError(ErrorCode::DestinationInfoError,
                     "dstInfo.0.region and dstInfo.0.regionId name different regions");
    }
  }
  request.dst_region = region ? *region : *region_id;
  request.dst_region_parameter = region ? "dstInfo.0.region" : "dstInfo.0.regionId";

  if (const std::string *zone = value_of(dst, "zoneId", ErrorCode::DestinationInfoError, "dstInfo.0.zoneId")) {
    const bool numeric = !zone->empty() && zone->size() <= 9 && zone->front() != '0' &&
                         zone->find_first_not_of("0123456789") == std::string::npos;
    if (!numeric) throw ApiError(ErrorCode::DestinationInfoError, "dstInfo.0.zoneId must be a numeric zone id such as 200001");
    request.dst_zone_id = std::stoll(*zone);
  }
  if (request.dst_instance_id == request.src_instance_id) {
    throw ApiError(ErrorCode::DestinationInfoError, "dstInfo.0.cdbUInstanceId must differ from the source instance");
  }
}

}  // namespace

std::string create_cdb_data_sync_task(const ActionContext &ctx) {
  domain::CreateTaskRequest request;
  request.region = ctx.region;
  const std::string *job_name = value_of(ctx.params, "jobName", ErrorCode::ParameterError, "jobName");
  if (!job_name || job_name->empty()) throw ApiError(ErrorCode::ParameterError, "jobName is required");
  request.job_name = *job_name;
  parse_source(ctx.params, request);
  parse_destination(ctx.params, request);
  return R"({"jobId":)" + std::to_string(ctx.service.create_task(request, ctx.caller)) + "}";
}

}  // namespace cdbemu::api
