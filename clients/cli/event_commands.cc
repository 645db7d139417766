// The log itself, below the plan model: `events append|read|read-all|ack`,
// one per EventStore RPC that `watch` and `export` do not already cover.
// Plan streams (area-, decision-) are written only by the plan commands; the
// server refuses them here, and says so.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "common/status_macros.h"

namespace plantrail::cli {
namespace {

using Stub = v1::EventStore::Stub;

// "any", "none" (no stream yet), "exists", or a version number.
absl::StatusOr<v1::ExpectedVersion> ParseExpected(const std::string& text) {
  v1::ExpectedVersion expected;
  uint64_t exact = 0;
  if (text.empty() || text == "any") {
    expected.mutable_any();
  } else if (text == "none") {
    expected.mutable_no_stream();
  } else if (text == "exists") {
    expected.mutable_stream_exists();
  } else if (absl::SimpleAtoi(text, &exact) && text[0] != '-') {
    expected.set_exact(exact);
  } else {
    return UsageError(absl::StrCat("--expected: \"", text,
                                   "\" is not any, none, exists or a version"));
  }
  return expected;
}

void PrintEvents(
    Context& context,
    const google::protobuf::RepeatedPtrField<v1::RecordedEvent>& events) {
  for (const v1::RecordedEvent& event : events) {
    context.out() << EventJson(event).dump() << "\n";
  }
}

void AddAppend(CLI::App* events, Context& context) {
  struct Flags {
    std::string stream, type, data, data_file, content_type = "text/plain",
                                               event_id, expected;
    std::vector<std::string> metadata;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = events->add_subcommand(
      "append", "Append one event to a stream outside the plan model");
  command->add_option("STREAM", flags->stream, "Stream id")->required();
  command->add_option("--type", flags->type, "Event type")->required();
  CLI::Option* data =
      command->add_option("--data", flags->data, "The payload, as text");
  command->add_option("--data-file", flags->data_file, "The payload's file")
      ->excludes(data);
  command->add_option("--content-type", flags->content_type,
                      "The payload's MIME type (default text/plain)");
  command->add_option("--id", flags->event_id,
                      "Event id (a UUID): makes the append safe to retry");
  command->add_option("--expected", flags->expected,
                      "any (default), none, exists, or the stream's version");
  command->add_option("--meta", flags->metadata, "KEY=VALUE, repeatable");
  command->footer(
      "Example:\n  plantrail events append ledger-1 --type Noted --data "
      "\"hello\" --expected none");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::AppendRequest request;
    request.set_stream_id(flags->stream);
    PLANTRAIL_ASSIGN_OR_RETURN(*request.mutable_expected_version(),
                               ParseExpected(flags->expected));
    v1::ProposedEvent& event = *request.add_events();
    event.set_event_id(flags->event_id);
    event.set_type(flags->type);
    event.set_content_type(flags->content_type);
    if (!flags->data_file.empty()) {
      std::ifstream in(flags->data_file, std::ios::binary);
      if (!in) {
        return UsageError(absl::StrCat("--data-file: cannot read \"",
                                       flags->data_file, "\""));
      }
      std::ostringstream content;
      content << in.rdbuf();
      event.set_payload(content.str());
    } else {
      event.set_payload(flags->data);
    }
    for (const std::string& entry : flags->metadata) {
      std::pair<std::string, std::string> pair =
          absl::StrSplit(entry, absl::MaxSplits('=', 1));
      if (entry.find('=') == std::string::npos) {
        return UsageError(
            absl::StrCat("--meta: \"", entry, "\" is not KEY=VALUE"));
      }
      (*event.mutable_metadata())[pair.first] = pair.second;
    }
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::AppendResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::Append, client->events(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      context.out() << (response.replayed() ? "already appended: "
                                            : "appended ")
                    << flags->stream << " version " << response.first_version()
                    << ", position " << response.first_position()
                    << ", event id " << response.event_ids(0) << "\n";
    }
    return absl::OkStatus();
  });
}

void AddRead(CLI::App* events, Context& context) {
  struct Flags {
    std::string stream;
    uint64_t from = 0;
    uint32_t limit = 0;
    bool backward = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = events->add_subcommand(
      "read", "A stream's events, one JSON object a line");
  command
      ->add_option("STREAM", flags->stream,
                   "Stream id (area-3.1.1, decision-..., any other)")
      ->required();
  command->add_option("--from", flags->from,
                      "First version (default: the first, or the last when "
                      "--backward)");
  command->add_option("--limit", flags->limit, "At most N events (0: all)");
  command->add_flag("--backward", flags->backward, "Newest first");
  command->footer("Example:\n  plantrail events read area-3.1.1 --limit 5");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::ReadStreamRequest request;
    request.set_stream_id(flags->stream);
    request.set_direction(flags->backward ? v1::READ_DIRECTION_BACKWARD
                                          : v1::READ_DIRECTION_FORWARD);
    request.set_from_version(flags->from);
    uint64_t left = flags->limit == 0 ? UINT64_MAX : flags->limit;
    do {
      request.set_limit(static_cast<uint32_t>(std::min<uint64_t>(1000, left)));
      v1::ReadStreamResponse page;
      PLANTRAIL_RETURN_IF_ERROR(
          client->Call(&Stub::ReadStream, client->events(), request, page));
      PrintEvents(context, page.events());
      left -= page.events_size();
      request.set_from_version(page.next_version());
    } while (request.from_version() != 0 && left > 0);
    return absl::OkStatus();
  });
}

void AddReadAll(CLI::App* events, Context& context) {
  struct Flags {
    uint64_t from = 1;
    uint32_t limit = 100;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = events->add_subcommand(
      "read-all", "The whole log in order, one JSON object a line");
  command->add_option("--from", flags->from, "First position (default 1)");
  command->add_option("--limit", flags->limit,
                      "At most N events (default 100; 0: all; `export` "
                      "writes everything to a file)");
  command->footer(
      "Example:\n  plantrail events read-all --from 120 --limit 10");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::ReadAllRequest request;
    request.set_from_position(flags->from);
    uint64_t left = flags->limit == 0 ? UINT64_MAX : flags->limit;
    do {
      request.set_limit(static_cast<uint32_t>(std::min<uint64_t>(1000, left)));
      v1::ReadAllResponse page;
      PLANTRAIL_RETURN_IF_ERROR(
          client->Call(&Stub::ReadAll, client->events(), request, page));
      PrintEvents(context, page.events());
      left -= page.events_size();
      request.set_from_position(page.next_position());
    } while (request.from_position() != 0 && left > 0);
    return absl::OkStatus();
  });
}

void AddAck(CLI::App* events, Context& context) {
  struct Flags {
    std::string group;
    uint64_t position = 0;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = events->add_subcommand(
      "ack",
      "Store a consumer group's position (`watch --group` resumes "
      "after it)");
  command->add_option("GROUP", flags->group, "Consumer group")->required();
  command->add_option("POSITION", flags->position, "Handled up to here")
      ->required();
  command->footer("Example:\n  plantrail events ack dashboard 120");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::AckRequest request;
    request.set_consumer_group(flags->group);
    request.set_position(flags->position);
    v1::AckResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::Ack, client->events(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      context.out() << "consumer group " << flags->group << " is at position "
                    << response.position() << "\n";
    }
    return absl::OkStatus();
  });
}

}  // namespace

void AddEventCommands(CLI::App& app, Context& context) {
  CLI::App* events = Group(app, "events",
                           "The log below the plan model: append, read, "
                           "read-all, ack");
  AddAppend(events, context);
  AddRead(events, context);
  AddReadAll(events, context);
  AddAck(events, context);
}

}  // namespace plantrail::cli
