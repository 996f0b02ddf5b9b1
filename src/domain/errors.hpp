#pragma once
// The one error catalogue. Every error the emulator puts on the wire is built from a row of
// CDB_EMU_ERRORS, so codes, codeDesc words and default messages live in exactly one place.

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cdbemu::domain {

// X(enum name, code, codeDesc, default message, documented description, actions documenting it)
// The default message is what goes on the wire, followed by ": <detail>" when there is a detail.
// 4100 and 6100 carry the real service's messages verbatim. "*": a common code (every action).
// Start and Delete publish no error table; API.md §6 gives them 9003, 9591, 30016 and 9592.
#define CDB_EMU_ERRORS(X)                                                                                   \
  X(InvalidParameter, 4000, "InvalidParameter", "invalid parameter", "参数错误", "*")                       \
  X(AuthFailure, 4100, "AuthFailure", "身份认证失败，用户身份验证失败", "鉴权失败", "*")                    \
  X(ActionNotAllowed, 4101, "AuthFailure", "this key is not authorized to call this action",                \
    "子账号无权调用该接口", "*")                                                                            \
  X(ResourceNotAllowed, 4102, "SecretidNotAuthAccessResource",                                              \
    "this key is not authorized to access the resource", "子账号无权访问该资源", "*")                       \
  X(ActionNotAllowedCam, 4103, "AuthFailure", "this key is not authorized to call this action",             \
    "子账号无权调用该接口", "*")                                                                            \
  X(SecretIdNotFound, 4104, "AuthFailure", "the SecretId does not exist or is disabled", "密钥不存在", "*") \
  X(ReplayAttack, 4500, "InvalidRequest.ReplayAttack", "replay attack suspected", "重放攻击", "*")          \
  X(ResourceOpFailed, 5100, "ResourceOpFailed", "resource operation failed", "资源操作失败", "*")           \
  X(InternalError, 6000, "InternalError", "internal error", "服务器内部错误", "*")                          \
  X(ActionNotFound, 6100, "ActionNotFound", "本版本内不支持的接口或者接口已经被废弃，请参考该接口的文档。", \
    "接口不存在", "*")                                                                                      \
  X(ActionUnavailable, 6200, "InvalidAction.ActionUnavailable", "the API is temporarily unavailable",       \
    "接口暂时不可用", "*")                                                                                  \
  X(ParameterError, 9003, "InvalidParameter", "parameter error", "参数错误",                                \
    "CreateCdbDataSyncTask CheckCdbDataSyncTask StartCdbDataSyncTask DelCdbDataSyncTask "                   \
    "GetCdbDataSyncTaskList")                                                                               \
  X(ListInternalError9006, 9006, "InternalError", "internal error", "系统内部错误",                         \
    "GetCdbDataSyncTaskList")                                                                               \
  X(SystemInternalError, 9013, "InternalError", "internal system error", "系统内部错误",                    \
    "CreateCdbDataSyncTask CheckCdbDataSyncTask GetCdbDataSyncTaskList")                                    \
  X(ListInternalError9016, 9016, "InternalError", "internal error", "系统内部错误",                         \
    "GetCdbDataSyncTaskList")                                                                               \
  X(ListOperationDenied, 9544, "OperationDenied", "operation denied", "操作被拒绝",                         \
    "GetCdbDataSyncTaskList")                                                                               \
  X(ProcessConflict, 9570, "OperationDenied", "another process conflicts with this operation", "流程冲突",  \
    "CheckCdbDataSyncTask")                                                                                 \
  X(InstanceNotExists, 9572, "InstanceNotExists", "instance does not exist", "实例不存在",                  \
    "CreateCdbDataSyncTask CheckCdbDataSyncTask GetCdbDataSyncTaskList")                                    \
  X(TaskDataError, 9589, "InternalError", "task data error", "任务数据错误", "CheckCdbDataSyncTask")        \
  X(ListInternalFailure, 9590, "InternalFailure", "internal failure", "内部错误", "GetCdbDataSyncTaskList") \
  X(TaskNotExist, 9591, "TaskNotExist", "task does not exist", "任务不存在",                                \
    "CheckCdbDataSyncTask StartCdbDataSyncTask DelCdbDataSyncTask")                                         \
  X(TaskConflict, 9592, "OperationDenied", "the source or target instance already has a running task",      \
    "源或目标实例已有任务在运行", "CheckCdbDataSyncTask StartCdbDataSyncTask")                              \
  X(IncorrectInstanceStatus, 9593, "IncorrectInstanceStatus", "incorrect instance status", "实例状态错误",  \
    "GetCdbDataSyncTaskList")                                                                               \
  X(CheckOperationDenied9631, 9631, "OperationDenied", "operation denied", "操作被拒绝",                    \
    "CheckCdbDataSyncTask")                                                                                 \
  X(CheckOperationDenied9634, 9634, "OperationDenied", "operation denied", "操作被拒绝",                    \
    "CheckCdbDataSyncTask")                                                                                 \
  X(SyncParameterError, 30000, "InvalidParameter", "bad sync parameter", "同步参数错误",                    \
    "CreateCdbDataSyncTask")                                                                                \
  X(SyncTypeError, 30001, "InvalidParameter", "bad sync type", "同步类型错误", "CreateCdbDataSyncTask")     \
  X(RunModeError, 30002, "InvalidParameter", "bad run mode", "同步运行模式错误", "CreateCdbDataSyncTask")   \
  X(SourceInfoError, 30004, "InvalidParameter", "bad source information", "源信息参数错误",                 \
    "CreateCdbDataSyncTask")                                                                                \
  X(DestinationInfoError, 30005, "InvalidParameter", "bad destination information", "目的信息参数错误",     \
    "CreateCdbDataSyncTask")                                                                                \
  X(SyncTaskNotExist, 30009, "InvalidParameter", "sync task does not exist", "同步任务不存在",              \
    "CreateCdbDataSyncTask")                                                                                \
  X(TaskRunning, 30010, "OperationDenied", "the task is running and cannot be modified",                    \
    "同步任务正在运行，不允许修改", "CreateCdbDataSyncTask")                                                \
  X(CvmInfoError, 30011, "InvalidParameter", "bad CVM information", "CVM信息错误", "CreateCdbDataSyncTask") \
  X(ZoneNotSupportDr, 30012, "OperationDenied", "this zone does not support disaster recovery",             \
    "该可用区不支持灾备", "CreateCdbDataSyncTask")                                                          \
  X(RegionInfoError, 30013, "InvalidParameter", "bad instance region information", "实例地域信息错误",      \
    "CreateCdbDataSyncTask")                                                                                \
  X(StatusNotAllowed, 30016, "InvalidParameter", "the operation is not allowed in the current sync status", \
    "当前同步状态下，不允许执行该操作",                                                                     \
    "CreateCdbDataSyncTask CheckCdbDataSyncTask StartCdbDataSyncTask DelCdbDataSyncTask")

/// Every error the emulator can answer with, named after its meaning.
enum class ErrorCode : std::int32_t {
#define CDB_EMU_ERROR_ENUM(name, code, desc, message, doc, actions) name = code,
  CDB_EMU_ERRORS(CDB_EMU_ERROR_ENUM)
#undef CDB_EMU_ERROR_ENUM
};

/// One row of the catalogue.
struct ErrorInfo {
  ErrorCode id;
  std::int32_t code;
  std::string_view code_desc;
  std::string_view message;
  std::string_view documented;
  std::string_view actions;  ///< space-separated action names, or "*" for every action
};

/// The whole catalogue, in code order.
std::span<const ErrorInfo> error_catalogue();

/// The catalogue row of `code`; every ErrorCode has one.
const ErrorInfo &error_info(ErrorCode code);

/// The error every layer throws; rendered once, at the HTTP boundary.
class ApiError : public std::runtime_error {
 public:
  /// An error with the catalogue's default message, followed by ": detail" when detail is given.
  explicit ApiError(ErrorCode code, std::string_view detail = {});
  /// An error whose whole message is `message` (an injected fault's own text).
  static ApiError with_message(ErrorCode code, std::string message);

  const ErrorInfo &info() const { return *info_; }
  std::int32_t code() const { return info_->code; }
  std::string_view code_desc() const { return info_->code_desc; }
  const std::string &message() const { return message_; }

 private:
  const ErrorInfo *info_;
  std::string message_;
};

}  // namespace cdbemu::domain
