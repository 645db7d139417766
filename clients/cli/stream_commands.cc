// Following and exporting the log: `watch` (the change stream, live) and
// `export` (every event of an area, or of the whole log, as JSON lines or
// CSV).
#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"

namespace plantrail::cli {
namespace {

void PrintEventLine(const v1::RecordedEvent& event, std::ostream& out) {
  auto actor = event.metadata().find("actor");
  out << "#" << event.position() << "  " << TimeText(event.recorded_at())
      << "  " << event.stream_id() << " v" << event.stream_version() << "  "
      << EventTypeWords(event.type());
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

std::string CsvCell(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

constexpr const char* kCsvColumns[] = {
    "position", "stream_id",   "version",      "type",
    "event_id", "recorded_at", "actor",        "command_id",
    "reason",   "payload",     "payload_hash", "hash"};

void WriteEvent(const v1::RecordedEvent& event, bool csv, std::ostream& out) {
  nlohmann::ordered_json json = EventJson(event);
  if (!csv) {
    out << json.dump() << "\n";
    return;
  }
  auto meta = [&](const char* key) {
    auto it = event.metadata().find(key);
    return it == event.metadata().end() ? std::string() : it->second;
  };
  std::vector<std::string> cells = {absl::StrCat(event.position()),
                                    event.stream_id(),
                                    absl::StrCat(event.stream_version()),
                                    event.type(),
                                    event.event_id(),
                                    json["recorded_at"].get<std::string>(),
                                    meta("actor"),
                                    meta("command_id"),
                                    meta("reason"),
                                    json["payload"].dump(),
                                    json["payload_hash"].get<std::string>(),
                                    json["hash"].get<std::string>()};
  for (std::string& cell : cells) cell = CsvCell(cell);
  out << absl::StrJoin(cells, ",") << "\n";
}

void AddExport(CLI::App& app, Context& context) {
  struct Flags {
    std::string area, format = "jsonl", output;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "export", "Every event of an area, or of the whole log, with hashes");
  command->add_option("--area", flags->area, "Only this area's stream");
  command->add_option("--format", flags->format, "jsonl (default) or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  command->add_option("--output,-o", flags->output,
                      "Write to this file (default: standard output)");
  command->footer(
      "Examples:\n  plantrail export --area 3.1.1 > 3.1.1.jsonl\n  "
      "plantrail export --format csv -o plan.csv");
  context.Action(command, [&context, flags]() -> absl::Status {
    std::ofstream file;
    if (!flags->output.empty()) {
      file.open(flags->output, std::ios::binary | std::ios::trunc);
      if (!file) {
        return UsageError(
            absl::StrCat("--output: cannot write \"", flags->output, "\""));
      }
    }
    std::ostream& out = flags->output.empty() ? context.out() : file;
    const bool csv = flags->format == "csv";
    if (csv) out << absl::StrJoin(kCsvColumns, ",") << "\n";
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    uint64_t count = 0;
    if (!flags->area.empty()) {
      v1::ReadStreamRequest request;
      request.set_stream_id(absl::StrCat("area-", flags->area));
      request.set_direction(v1::READ_DIRECTION_FORWARD);
      request.set_limit(1000);
      do {
        v1::ReadStreamResponse page;
        PLANTRAIL_RETURN_IF_ERROR(
            client->Call(&v1::EventStore::Stub::ReadStream, client->events(),
                         request, page));
        if (page.last_version() == 0) {
          return absl::NotFoundError(
              absl::StrCat("area \"", flags->area, "\" has no events"));
        }
        for (const v1::RecordedEvent& event : page.events()) {
          WriteEvent(event, csv, out);
          ++count;
        }
        request.set_from_version(page.next_version());
      } while (request.from_version() != 0);
    } else {
      v1::ReadAllRequest request;
      request.set_from_position(1);
      request.set_limit(1000);
      do {
        v1::ReadAllResponse page;
        PLANTRAIL_RETURN_IF_ERROR(client->Call(
            &v1::EventStore::Stub::ReadAll, client->events(), request, page));
        for (const v1::RecordedEvent& event : page.events()) {
          WriteEvent(event, csv, out);
          ++count;
        }
        request.set_from_position(page.next_position());
      } while (request.from_position() != 0);
    }
    out.flush();
    if (!flags->output.empty()) {
      context.err() << "exported " << count << " events to " << flags->output
                    << "\n";
    }
    return absl::OkStatus();
  });
}

}  // namespace

void AddStreamCommands(CLI::App& app, Context& context) {
  AddWatch(app, context);
  AddExport(app, context);
}

}  // namespace plantrail::cli
