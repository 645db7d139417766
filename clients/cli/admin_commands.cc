// Administration: projections and their rebuild, the log's verification and
// its statistics.
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"

namespace plantrail::cli {
namespace {

using Stub = v1::Admin::Stub;

void AddProjections(CLI::App* admin, Context& context) {
  CLI::App* command = admin->add_subcommand(
      "projections", "Each projection's state, checkpoint and lag");
  command->footer("Example:\n  plantrail admin projections");
  context.Action(command, [&context]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::ListProjectionsResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::ListProjections, client->admin(),
                     v1::ListProjectionsRequest(), response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    Table table({"NAME", "STATE", "CHECKPOINT", "HEAD", "LAG", "GENERATION",
                 "REBUILT TO", "ERROR"},
                60);
    for (const v1::ProjectionStatus& projection : response.projections()) {
      table.AddRow({projection.name(),
                    absl::AsciiStrToLower(absl::StripPrefix(
                        v1::ProjectionState_Name(projection.state()),
                        "PROJECTION_STATE_")),
                    absl::StrCat(projection.checkpoint()),
                    absl::StrCat(projection.head_position()),
                    absl::StrCat(projection.lag()),
                    absl::StrCat(projection.generation()),
                    projection.rebuild_checkpoint() == 0
                        ? ""
                        : absl::StrCat(projection.rebuild_checkpoint()),
                    projection.error()});
    }
    table.Print(context.out());
    return absl::OkStatus();
  });
}

void AddRebuild(CLI::App* admin, Context& context) {
  auto name = std::make_shared<std::string>();
  CLI::App* command = admin->add_subcommand(
      "rebuild", "Rebuild a projection from the log while it keeps answering");
  command->add_option("NAME", *name, "The projection (see admin projections)")
      ->required();
  command->footer("Example:\n  plantrail admin rebuild history");
  context.Action(command, [&context, name]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::RebuildProjectionRequest request;
    request.set_name(*name);
    v1::RebuildProjectionResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&Stub::RebuildProjection,
                                           client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      context.out() << "rebuilding " << *name
                    << " (see plantrail admin projections)\n";
    }
    return absl::OkStatus();
  });
}

void AddVerify(CLI::App* admin, Context& context) {
  CLI::App* command = admin->add_subcommand(
      "verify", "Walk the whole hash chain and name the first broken event");
  command->footer("Example:\n  plantrail admin verify");
  context.Action(command, [&context]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::VerifyResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&Stub::Verify, client->admin(),
                                           v1::VerifyRequest(), response));
    if (context.json) {
      context.PrintJson(response);
    } else if (response.ok()) {
      context.out() << "the chain verifies: " << response.events_checked()
                    << " events, head " << response.head_position()
                    << ", head hash "
                    << absl::BytesToHexString(response.head_hash()) << "\n";
    }
    if (!response.ok()) {
      return absl::DataLossError(absl::StrCat(
          "the chain is broken at position ", response.first_broken_position(),
          ": ", response.problem()));
    }
    return absl::OkStatus();
  });
}

void AddStats(CLI::App* admin, Context& context) {
  CLI::App* command =
      admin->add_subcommand("stats", "The log's head and write statistics");
  command->footer("Example:\n  plantrail admin stats --json");
  context.Action(command, [&context]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::GetStatsResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&Stub::GetStats, client->admin(),
                                           v1::GetStatsRequest(), response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    Table table({"STATISTIC", "VALUE"});
    const auto* descriptor = response.GetDescriptor();
    const auto* reflection = response.GetReflection();
    for (int i = 0; i < descriptor->field_count(); ++i) {
      table.AddRow({FieldWords(descriptor->field(i)->name()),
                    absl::StrCat(reflection->GetUInt64(response,
                                                       descriptor->field(i)))});
    }
    table.Print(context.out());
    return absl::OkStatus();
  });
}

}  // namespace

void AddAdminCommands(CLI::App& app, Context& context) {
  CLI::App* admin = Group(app, "admin",
                          "Administration: projections, rebuild, verify, "
                          "stats");
  AddProjections(admin, context);
  AddRebuild(admin, context);
  AddVerify(admin, context);
  AddStats(admin, context);
}

}  // namespace plantrail::cli
