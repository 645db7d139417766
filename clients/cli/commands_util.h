// Pieces every command file shares: finding a command group, the options a
// plan command may carry, and how a command's result is printed.
#ifndef PLANTRAIL_CLIENTS_CLI_COMMANDS_UTIL_H_
#define PLANTRAIL_CLIENTS_CLI_COMMANDS_UTIL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "clients/cli/context.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/event_store.pb.h"
#include "plantrail/v1/plan_commands.pb.h"
#include "plantrail/v1/plan_queries.pb.h"

namespace plantrail::cli {

// The subcommand `name` of `app`, created with `description` if missing
// ("area" holds both the writing and the reading commands).
CLI::App* Group(CLI::App& app, const std::string& name,
                const std::string& description);

// A malformed value the CLI itself can tell (an enum, a flag's form) is the
// caller's usage error: exit code 2.
template <typename T>
absl::StatusOr<T> Usage(absl::StatusOr<T> value) {
  if (!value.ok()) return UsageError(value.status().message());
  return value;
}

// A logged event as one JSON object: position, stream, version, type, id,
// recorded_at (RFC 3339), actor, metadata, the payload decoded by its
// content type (a plan event as its proto3 JSON; other payloads as text or
// base64), and the hashes in hex. The shape of `watch --json` and `export`.
nlohmann::ordered_json EventJson(const v1::RecordedEvent& event);

// Calls `on_interrupt` (from another thread) when SIGINT or SIGTERM arrives
// while it is set; otherwise those signals end the process as usual.
void SetInterruptHandler(std::function<void()> on_interrupt);

// Calls a listing RPC page by page until the last, handing each page to
// `each` (which may move out of it).
template <typename Stub, typename Request, typename Response, typename Each>
absl::Status ForEachPage(Client& client,
                         grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                      const Request&,
                                                      Response*),
                         Stub& stub, Request request, Each each) {
  while (true) {
    Response page;
    if (absl::Status status = client.Call(method, stub, request, page);
        !status.ok()) {
      return status;
    }
    each(page);
    if (page.next_page_token().empty()) return absl::OkStatus();
    request.set_page_token(page.next_page_token());
  }
}

// Whole listings, every page merged into one response (total and position
// from the last page). `limit` 0 means the whole history.
absl::StatusOr<v1::ListAreasResponse> ListAllAreas(
    Client& client, v1::ListAreasRequest request);
absl::StatusOr<v1::ListDecisionsResponse> ListAllDecisions(
    Client& client, v1::ListDecisionsRequest request);
absl::StatusOr<v1::GetHistoryResponse> GetHistoryUpTo(
    Client& client, v1::GetHistoryRequest request, uint32_t limit);

// What every plan command may carry.
struct CommandFlags {
  std::string command_id;
  std::optional<uint64_t> expected_version;
  std::string correlation_id;
  void AddTo(CLI::App* command);
  void FillIn(v1::CommandOptions& options) const;
};

// Sends a plan command and prints its result: "<done> ... version N,
// position P" for people, the CommandResult for --json.
template <typename Request>
absl::Status SendCommand(Context& context,
                         grpc::Status (v1::PlanCommands::Stub::*method)(
                             grpc::ClientContext*, const Request&,
                             v1::CommandResult*),
                         const Request& request, absl::string_view done);

void PrintCommandResult(Context& context, const v1::CommandResult& result,
                        absl::string_view done);

// The stream of area `area_id` of the plan --plan names (else the server's
// only plan): "area-<plan>:<id>", or "area-<id>" for an area without a plan
// or of the plan that holds those (domain/streams.h).
absl::StatusOr<std::string> AreaStreamId(Context& context,
                                         const std::string& area_id);

template <typename Request>
absl::Status SendCommand(Context& context,
                         grpc::Status (v1::PlanCommands::Stub::*method)(
                             grpc::ClientContext*, const Request&,
                             v1::CommandResult*),
                         const Request& request, absl::string_view done) {
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  v1::CommandResult result;
  if (absl::Status status =
          (*client)->Call(method, (*client)->commands(), request, result);
      !status.ok()) {
    return status;
  }
  PrintCommandResult(context, result, done);
  return absl::OkStatus();
}

}  // namespace plantrail::cli

#endif  // PLANTRAIL_CLIENTS_CLI_COMMANDS_UTIL_H_
