// Following the log: `watch`, the change stream, live (the audit export is
// with the auditor's commands).
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"
#include "domain/metadata_keys.h"
#include "domain/plan_words.h"

namespace plantrail::cli {
namespace {

void PrintEventLine(const v1::RecordedEvent& event, std::ostream& out) {
  auto actor = event.metadata().find(domain::kActorKey);
  out << "#" << event.position() << "  " << TimeText(event.recorded_at())
      << "  " << event.stream_id() << " v" << event.stream_version() << "  "
      << domain::EventTypeWords(event.type());
  if (actor != event.metadata().end()) out << ", by " << actor->second;
  out << "\n";
}

void AddWatch(CLI::App& app, Context& context) {
  struct Flags {
    uint64_t from = 0;
    bool from_now = false, from_start = false;
    std::vector<std::string> prefixes, types, support_areas;
    std::string group;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "watch", "Print each change as it happens (Ctrl-C ends)");
  CLI::Option* from = command->add_option(
      "--from", flags->from,
      "Every event after this position (resume with the last one printed)");
  CLI::Option* now =
      command->add_flag("--from-now", flags->from_now, "Only new events");
  from->excludes(now);
  command->add_option("--stream-prefix", flags->prefixes,
                      "Only streams starting with this (area-, decision-)");
  command->add_option("--type", flags->types,
                      "Only this event type (StatusReported, ...)");
  command->add_option("--support-area", flags->support_areas,
                      "Only areas of this support area, and decisions "
                      "naming them");
  command->add_option("--group", flags->group,
                      "Resume after this consumer group's acknowledged "
                      "position");
  command->footer(
      "Examples:\n  plantrail watch --from-now\n  plantrail watch --from 120 "
      "--type ScheduleRevised --json");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::SubscribeRequest request;
    if (flags->from_now) {
      request.mutable_now();
    } else if (flags->from > 0 || flags->group.empty()) {
      request.set_after_position(flags->from);
    }
    request.set_consumer_group(flags->group);
    for (const std::string& p : flags->prefixes) {
      request.mutable_filter()->add_stream_prefixes(p);
    }
    for (const std::string& t : flags->types) {
      request.mutable_filter()->add_event_types(t);
    }
    for (const std::string& s : flags->support_areas) {
      request.mutable_filter()->add_support_areas(s);
    }
    if (!context.plan.empty())
      request.mutable_filter()->add_plans(context.plan);
    // Before the channel exists, so its threads inherit the signal mask.
    std::shared_ptr<grpc::ClientContext> call;
    std::atomic<bool> interrupted = false;
    std::mutex call_mutex;
    SetInterruptHandler([&] {
      std::lock_guard lock(call_mutex);
      interrupted = true;
      if (call) call->TryCancel();
    });
    // The handler refers to this frame: it goes before the frame does.
    absl::Cleanup forget_handler = [] { SetInterruptHandler(nullptr); };
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    {
      std::lock_guard lock(call_mutex);
      call = client->NewContext(absl::InfiniteFuture());
      if (interrupted) call->TryCancel();
    }
    std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
        client->events().Subscribe(call.get(), request);
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      if (message.has_events()) {
        for (const v1::RecordedEvent& event : message.events().events()) {
          if (context.json) {
            context.out() << EventJson(event).dump() << "\n";
          } else {
            PrintEventLine(event, context.out());
          }
        }
      } else if (message.has_caught_up() && !context.json) {
        context.err() << "-- caught up at position "
                      << message.caught_up().position()
                      << "; waiting for changes (Ctrl-C ends)\n";
      } else if (message.has_fell_behind() && !context.json) {
        context.err() << "-- "
                      << message.fell_behind().head_position() -
                             message.fell_behind().position()
                      << " events behind; reading on from disk\n";
      }
      context.out().flush();
    }
    const grpc::Status status = reader->Finish();
    if (interrupted) return absl::OkStatus();
    return client->FromGrpc(status);
  });
}

}  // namespace

void AddStreamCommands(CLI::App& app, Context& context) {
  AddWatch(app, context);
}

}  // namespace plantrail::cli
