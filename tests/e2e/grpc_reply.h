// A gRPC reply as the e2e tests look at it, and matchers for it that print
// what came back when they fail.
#ifndef PLANTRAIL_TESTS_E2E_GRPC_REPLY_H_
#define PLANTRAIL_TESTS_E2E_GRPC_REPLY_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/support/status.h"

namespace plantrail::testing {

template <typename Response>
struct Reply {
  grpc::Status status;
  Response response;
  // Trailing metadata, when a test asked for it.
  std::map<std::string, std::string> trailers;
};

template <typename Response>
void PrintTo(const Reply<Response>& reply, std::ostream* out) {
  if (reply.status.ok()) {
    *out << "OK {" << reply.response.ShortDebugString() << "}";
  } else {
    *out << "code " << reply.status.error_code() << ": \""
         << reply.status.error_message() << "\"";
  }
}

MATCHER(Succeeded, "") {
  if (arg.status.ok()) return true;
  *result_listener << "failed with code " << arg.status.error_code() << ": "
                   << arg.status.error_message();
  return false;
}

// Failed with `code`, the message containing every one of `parts` (the
// field, the words of the rule, "[rule: <name>]").
MATCHER_P2(FailsWith, code, parts, "") {
  if (arg.status.ok()) {
    *result_listener << "succeeded: " << arg.response.ShortDebugString();
    return false;
  }
  bool ok = true;
  if (arg.status.error_code() != code) {
    *result_listener << "code is " << arg.status.error_code() << ", not "
                     << code << "; ";
    ok = false;
  }
  for (const std::string& part : std::vector<std::string>(parts)) {
    if (arg.status.error_message().find(part) == std::string::npos) {
      *result_listener << "message lacks \"" << part << "\"; ";
      ok = false;
    }
  }
  if (!ok) *result_listener << "message: " << arg.status.error_message();
  return ok;
}

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_E2E_GRPC_REPLY_H_
