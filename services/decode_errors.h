// Requests that cannot be decoded answer INVALID_ARGUMENT naming the field.
//
// gRPC decodes a request before any handler runs, and a request that fails
// to decode (a string field that is not UTF-8, bytes that are not a
// protobuf) is answered UNIMPLEMENTED with an empty message by gRPC itself
// (its callback handlers fall back to an "unimplemented" reactor). That
// tells a client nothing it can act on. This interceptor sees the failed
// decode (the call's request is null after POST_RECV_MESSAGE) and rewrites
// the status before it is sent. Which field broke is learnt from protobuf's
// own report of invalid UTF-8, which it logs on the decoding thread just
// before the interceptor runs there; the report is kept out of stderr (a
// client could otherwise flood the log with it).
//
// Thread safety: the factory and its interceptors may be used from any
// thread; the field report is kept per thread.
#ifndef PLANTRAIL_SERVICES_DECODE_ERRORS_H_
#define PLANTRAIL_SERVICES_DECODE_ERRORS_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"

namespace plantrail::services {

// For ServerBuilder::experimental().SetInterceptorCreators. The first call
// routes protobuf's log through plantrail (process-wide, once).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
DecodeErrorInterceptorFactory();

// The message for a request of `method` ("/plantrail.v1.Admin/Backup")
// that failed to decode; `utf8_field` is the full name protobuf reported
// ("plantrail.v1.BackupRequest.directory"), or empty when it reported none.
// Exposed for tests.
std::string DecodeErrorMessage(absl::string_view method,
                               absl::string_view utf8_field);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_DECODE_ERRORS_H_
