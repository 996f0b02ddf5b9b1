#include "domain/errors.hpp"

#include <array>

namespace cdbemu::domain {
namespace {

constexpr std::array kCatalogue = {
#define CDB_EMU_ERROR_ROW(name, code, desc, message, doc, actions) \
  ErrorInfo{ErrorCode::name, code, desc, message, doc, actions},
    CDB_EMU_ERRORS(CDB_EMU_ERROR_ROW)
#undef CDB_EMU_ERROR_ROW
};

constexpr bool catalogue_is_sorted_and_unique() {
  for (std::size_t i = 1; i < kCatalogue.size(); ++i) {
    if (kCatalogue[i - 1].code >= kCatalogue[i].code) return false;
  }
  return true;
}
static_assert(catalogue_is_sorted_and_unique(), "error catalogue must be in strictly rising code order");

std::string compose(const ErrorInfo &info, std::string_view detail) {
  std::string out(info.message);
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

}  // namespace

std::span<const ErrorInfo> error_catalogue() { return kCatalogue; }

const ErrorInfo &error_info(ErrorCode code) {
  const auto value = static_cast<std::int32_t>(code);
  std::size_t lo = 0;
  std::size_t hi = kCatalogue.size();
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (kCatalogue[mid].code < value) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  // Every enumerator comes from the same X-macro as the table, so the lookup cannot miss.
  return kCatalogue[lo];
}

ApiError::ApiError(ErrorCode code, std::string_view detail)
    : std::runtime_error(std::string(error_info(code).code_desc)),
      info_(&error_info(code)),
      message_(compose(*info_, detail)) {}

ApiError ApiError::with_message(ErrorCode code, std::string message) {
  ApiError error(code);
  error.message_ = std::move(message);
  return error;
}

}  // namespace cdbemu::domain
