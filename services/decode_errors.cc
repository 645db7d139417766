#include "services/decode_errors.h"

#include <deque>
#include <mutex>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "logging/log.h"

namespace plantrail::services {
namespace {

namespace protobuf = google::protobuf;
using grpc::experimental::InterceptionHookPoints;

// The field protobuf last reported as invalid UTF-8 on this thread.
thread_local std::string last_utf8_field;

// protobuf 3.21 reports "String field 'pkg.Message.field' contains invalid
// UTF-8 data when parsing a protocol buffer. ..." from its parsers.
void OnProtobufLog(protobuf::LogLevel level, const char* filename, int line,
                   const std::string& message) {
  absl::string_view rest = message;
  if (absl::ConsumePrefix(&rest, "String field '")) {
    const size_t quote = rest.find('\'');
    if (quote != absl::string_view::npos &&
        absl::StrContains(rest, "invalid UTF-8")) {
      last_utf8_field = std::string(rest.substr(0, quote));
      return;  // the call's own log line says it; nothing for stderr
    }
  }
  const logging::Level ours = level >= protobuf::LOGLEVEL_ERROR
                                  ? logging::Level::kError
                                  : logging::Level::kWarning;
  logging::Log(ours, "protobuf",
               {{"detail", message}, {"file", filename}, {"line", line}});
}

const protobuf::Descriptor* RequestType(absl::string_view method) {
  // "/plantrail.v1.Admin/Backup" -> "plantrail.v1.Admin.Backup"
  absl::string_view name = absl::StripPrefix(method, "/");
  std::string dotted(name);
  const size_t slash = dotted.rfind('/');
  if (slash == std::string::npos) return nullptr;
  dotted[slash] = '.';
  const protobuf::MethodDescriptor* found =
      protobuf::DescriptorPool::generated_pool()->FindMethodByName(dotted);
  return found == nullptr ? nullptr : found->input_type();
}

// The path from `root` to a field named `field` of the message `owner`
// ("events.type" for ProposedEvent.type in an AppendRequest), breadth
// first; empty when `owner` is not reachable within a few levels.
std::string FieldPath(const protobuf::Descriptor* root, absl::string_view owner,
                      absl::string_view field) {
  std::deque<std::pair<const protobuf::Descriptor*, std::string>> queue = {
      {root, ""}};
  for (int visited = 0; !queue.empty() && visited < 200; ++visited) {
    auto [type, path] = queue.front();
    queue.pop_front();
    if (type->full_name() == owner) {
      return path.empty() ? std::string(field) : absl::StrCat(path, ".", field);
    }
    for (int i = 0; i < type->field_count(); ++i) {
      const protobuf::FieldDescriptor* child = type->field(i);
      if (child->message_type() == nullptr) continue;
      queue.emplace_back(child->message_type(),
                         path.empty() ? child->name()
                                      : absl::StrCat(path, ".", child->name()));
    }
  }
  return "";
}

class DecodeErrorInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit DecodeErrorInterceptor(grpc::experimental::ServerRpcInfo* info)
      : info_(info) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      std::string field = std::exchange(last_utf8_field, "");
      if (methods->GetRecvMessage() == nullptr) {
        message_ = DecodeErrorMessage(info_->method(), field);
      }
    }
    if (!message_.empty() &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() ==
            grpc::StatusCode::UNIMPLEMENTED) {
      methods->ModifySendStatus(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message_));
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  std::string message_;  // set when the request failed to decode
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new DecodeErrorInterceptor(info);
  }
};

}  // namespace

std::string DecodeErrorMessage(absl::string_view method,
                               absl::string_view utf8_field) {
  const protobuf::Descriptor* request = RequestType(method);
  const std::string type =
      request == nullptr ? "the request" : request->full_name();
  if (!utf8_field.empty()) {
    const size_t dot = utf8_field.rfind('.');
    std::string path;
    if (request != nullptr && dot != absl::string_view::npos) {
      path = FieldPath(request, utf8_field.substr(0, dot),
                       utf8_field.substr(dot + 1));
    }
    if (path.empty()) path = std::string(utf8_field);
    return absl::StrCat(path,
                        ": is not valid UTF-8 [rule: text fields are UTF-8; "
                        "the request could not be decoded as ",
                        type, "]");
  }
  return absl::StrCat("request: cannot be decoded as ", type,
                      " (the bytes are not a valid protobuf encoding of it)");
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
DecodeErrorInterceptorFactory() {
  static std::once_flag once;
  std::call_once(once, [] { protobuf::SetLogHandler(&OnProtobufLog); });
  return std::make_unique<Factory>();
}

}  // namespace plantrail::services
