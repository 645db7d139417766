#include "clients/cli/commands_util.h"

#include <csignal>
#include <mutex>
#include <ostream>
#include <thread>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "domain/metadata_keys.h"
#include "domain/streams.h"
#include "domain/text.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "plantrail/v1/plan_events.pb.h"

namespace plantrail::cli {

CLI::App* Group(CLI::App& app, const std::string& name,
                const std::string& description) {
  for (CLI::App* command : app.get_subcommands(
           [&](CLI::App* c) { return c->get_name() == name; })) {
    return command;
  }
  CLI::App* group = app.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

void CommandFlags::AddTo(CLI::App* command) {
  command->add_option("--command-id", command_id,
                      "Makes the command safe to retry: the same id again "
                      "returns the first result and writes nothing");
  command
      ->add_option("--expected-version", expected_version,
                   "Refuse (ABORTED) unless the area is at this version")
      // CLI11 reads "-3" into an unsigned by wrapping it around.
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return absl::c_all_of(text, absl::ascii_isdigit) && !text.empty()
                       ? ""
                       : "a version is a whole number: 0, 1, 2, ...";
          },
          "VERSION"));
  command->add_option("--correlation-id", correlation_id,
                      "Carried into the event's metadata for tracing");
}

void CommandFlags::FillIn(v1::CommandOptions& options) const {
  options.set_command_id(command_id);
  if (expected_version) options.set_expected_version(*expected_version);
  options.set_correlation_id(correlation_id);
}

absl::StatusOr<std::string> AreaStreamId(Context& context,
                                         const std::string& area_id) {
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  v1::GetAreaRequest request;
  request.set_plan_id(context.plan);
  request.set_area_id(area_id);
  v1::GetAreaResponse area;
  PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::PlanQueries::Stub::GetArea,
                                         client->queries(), request, area));
  const std::string& plan_id = area.area().plan_id();
  if (plan_id.empty()) return domain::AreaStream(area_id);
  v1::GetPlanRequest get_plan;
  get_plan.set_plan_id(plan_id);
  v1::GetPlanResponse plan;
  PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::PlanQueries::Stub::GetPlan,
                                         client->queries(), get_plan, plan));
  return domain::AreaStream(plan.plan().holds_unplanned() ? "" : plan_id,
                            area_id);
}

void PrintCommandResult(Context& context, const v1::CommandResult& result,
                        absl::string_view done) {
  if (context.json) {
    context.PrintJson(result);
    return;
  }
  context.out() << (result.replayed() ? "already done, nothing written: " : "")
                << done << " (" << result.stream_id() << " version "
                << result.version() << ", position " << result.position()
                << ")\n";
}

namespace {

// The message type named by a content type such as
// "application/x-protobuf; messageType=plantrail.v1.StatusReported".
const google::protobuf::Descriptor* PayloadType(absl::string_view content) {
  // Links the plan events' descriptors into the binary (the linker drops a
  // generated file nothing names, and its types with it).
  static const google::protobuf::Descriptor* const kPlanEvent =
      v1::PlanEvent::descriptor();
  (void)kPlanEvent;
  constexpr absl::string_view kKey = "messageType=";
  const size_t at = content.find(kKey);
  if (at == absl::string_view::npos) return nullptr;
  absl::string_view name = content.substr(at + kKey.size());
  name = name.substr(0, name.find(';'));
  return google::protobuf::DescriptorPool::generated_pool()
      ->FindMessageTypeByName(std::string(name));
}

nlohmann::json PayloadJson(const v1::RecordedEvent& event) {
  if (const google::protobuf::Descriptor* type =
          PayloadType(event.content_type())) {
    google::protobuf::DynamicMessageFactory factory;
    std::unique_ptr<google::protobuf::Message> message(
        factory.GetPrototype(type)->New());
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (message->ParseFromString(event.payload()) &&
        google::protobuf::util::MessageToJsonString(*message, &json, options)
            .ok()) {
      return nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    }
  }
  if (absl::StartsWith(event.content_type(), "application/json")) {
    nlohmann::json parsed =
        nlohmann::json::parse(event.payload(), nullptr, false);
    if (!parsed.is_discarded()) return parsed;
  }
  // Text that is not UTF-8 cannot be a JSON string (nlohmann would throw
  // when writing it): it goes out as bytes, like any other payload.
  if (absl::StartsWith(event.content_type(), "text/") &&
      domain::Utf8Prefix(event.payload()) == event.payload().size()) {
    return event.payload();
  }
  return {{"base64", absl::Base64Escape(event.payload())}};
}

std::mutex interrupt_mutex;
std::function<void()> interrupt_handler;  // guarded by interrupt_mutex

}  // namespace

nlohmann::ordered_json EventJson(const v1::RecordedEvent& event) {
  nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
  for (const auto& [key, value] : event.metadata()) metadata[key] = value;
  auto actor = event.metadata().find(domain::kActorKey);
  return {
      {"position", event.position()},
      {"stream_id", event.stream_id()},
      {"version", event.stream_version()},
      {"type", event.type()},
      {"event_id", event.event_id()},
      {"recorded_at",
       google::protobuf::util::TimeUtil::ToString(event.recorded_at())},
      {"actor", actor == event.metadata().end() ? "" : actor->second},
      {"metadata", metadata},
      {"content_type", event.content_type()},
      {"payload", PayloadJson(event)},
      {"payload_hash", absl::BytesToHexString(event.payload_hash())},
      {"hash", absl::BytesToHexString(event.hash())},
  };
}

void SetInterruptHandler(std::function<void()> on_interrupt) {
  // A thread of its own waits for the signals, so the handler may do what a
  // signal handler may not (cancel a gRPC call). The signals are blocked in
  // the calling thread before the channel's threads exist, and they inherit
  // the mask.
  static std::once_flag started;
  {
    std::lock_guard lock(interrupt_mutex);
    interrupt_handler = std::move(on_interrupt);
  }
  std::call_once(started, [] {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread([signals] {
      while (true) {
        int signal = 0;
        if (sigwait(&signals, &signal) != 0) continue;
        std::lock_guard lock(interrupt_mutex);
        if (interrupt_handler) {
          interrupt_handler();
        } else {
          std::_Exit(128 + signal);
        }
      }
    }).detach();
  });
}

}  // namespace plantrail::cli
