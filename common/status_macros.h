// The two Abseil status macros that Debian's Abseil 20220623 predates.
//
// PLANTRAIL_RETURN_IF_ERROR(expr): evaluates `expr` (an absl::Status) once
// and returns it from the enclosing function when it is not OK.
//
// PLANTRAIL_ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (an
// absl::StatusOr<T>) once; returns its status when not OK, otherwise moves
// the value into `lhs`, which may be a declaration (`auto x`) or an lvalue.
#ifndef PLANTRAIL_COMMON_STATUS_MACROS_H_
#define PLANTRAIL_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PLANTRAIL_RETURN_IF_ERROR(expr)                                       \
  do {                                                                        \
    if (::absl::Status plantrail_status_ = (expr); !plantrail_status_.ok()) { \
      return plantrail_status_;                                               \
    }                                                                         \
  } while (false)

#define PLANTRAIL_STATUS_CONCAT_INNER_(a, b) a##b
#define PLANTRAIL_STATUS_CONCAT_(a, b) PLANTRAIL_STATUS_CONCAT_INNER_(a, b)

#define PLANTRAIL_ASSIGN_OR_RETURN(lhs, expr) \
  PLANTRAIL_ASSIGN_OR_RETURN_IMPL_(           \
      PLANTRAIL_STATUS_CONCAT_(plantrail_statusor_, __LINE__), lhs, expr)

#define PLANTRAIL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                     \
  if (!statusor.ok()) {                                       \
    return std::move(statusor).status();                      \
  }                                                           \
  lhs = *std::move(statusor)

#endif  // PLANTRAIL_COMMON_STATUS_MACROS_H_
