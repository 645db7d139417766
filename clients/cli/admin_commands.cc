// Administration: projections and their rebuild, the log's statistics,
// tokens, redaction and backup (`admin verify` is the auditor's verify, which
// audit_commands.cc defines).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"
#include "domain/plan_words.h"

namespace plantrail::cli {
namespace {

using Stub = v1::Admin::Stub;

void AddProjections(CLI::App* admin, Context& context) {
  CLI::App* command = admin->add_subcommand(
      "projections", "Each projection's state, checkpoint and lag");
  command->footer("Example:\n  plantrail admin projections");
  context.Action(command, [&context]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    // Every page, as one answer.
    v1::ListProjectionsResponse response;
    v1::ListProjectionsRequest request;
    do {
      v1::ListProjectionsResponse page;
      PLANTRAIL_RETURN_IF_ERROR(
          client->Call(&Stub::ListProjections, client->admin(), request, page));
      for (v1::ProjectionStatus& one : *page.mutable_projections()) {
        *response.add_projections() = std::move(one);
      }
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
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

// The server's role; a replica's leader and lag, a leader's replicas.
void AddReplicationRows(const v1::ReplicationStatus& replication,
                        Table& table) {
  table.AddRow({"term", absl::StrCat(replication.term())});
  for (const v1::QuarantineFile& file : replication.quarantined()) {
    table.AddRow(
        {"quarantined",
         absl::StrCat(file.records(), " records after #", file.after_position(),
                      " (term ", file.term(), ") in ", file.path())});
  }
  if (replication.role() == v1::ReplicationStatus::REPLICA) {
    table.AddRow({"role", "replica"});
    table.AddRow({"leader", replication.leader()});
    std::string state = "connecting";
    if (replication.follow_state() == v1::ReplicationStatus::FOLLOWING) {
      state = "following";
    } else if (replication.follow_state() == v1::ReplicationStatus::STOPPED) {
      state = "stopped";
    }
    table.AddRow({"follow state", state});
    if (!replication.problem().empty()) {
      table.AddRow({"problem", replication.problem()});
    }
    table.AddRow({"leader head", absl::StrCat(replication.leader_head())});
    table.AddRow({"lag events", absl::StrCat(replication.lag_events())});
    table.AddRow(
        {"lag seconds", absl::StrFormat("%.3f", replication.lag_seconds())});
    return;
  }
  table.AddRow({"role", "leader"});
  if (replication.sync_replicas() > 0) {
    table.AddRow(
        {"sync replicas", absl::StrCat(replication.sync_replicas(),
                                       replication.asynchronous()
                                           ? " (asynchronous now: fallback)"
                                           : "")});
  }
  for (const v1::ReplicaStatus& replica : replication.replicas()) {
    table.AddRow(
        {absl::StrCat("replica ", replica.replica_name()),
         absl::StrCat("sent ", replica.sent_position(), ", durable ",
                      replica.durable_position(), ", from ", replica.peer())});
  }
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
      const auto* field = descriptor->field(i);
      if (field->cpp_type() !=
          google::protobuf::FieldDescriptor::CPPTYPE_UINT64) {
        continue;
      }
      table.AddRow({domain::FieldWords(field->name()),
                    absl::StrCat(reflection->GetUInt64(response, field))});
    }
    AddReplicationRows(response.replication(), table);
    table.Print(context.out());
    return absl::OkStatus();
  });
}

std::string Roles(const v1::TokenInfo& info) {
  std::vector<std::string> roles;
  for (int role : info.roles()) {
    roles.push_back(domain::Words(static_cast<v1::Role>(role)));
  }
  return absl::StrJoin(roles, ",");
}

void AddTokenCreate(CLI::App* token, Context& context) {
  struct Flags {
    std::string principal, note;
    std::vector<std::string> roles, support_areas, plans;
    uint32_t expires_in_days = 0, expires_in_seconds = 0;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = token->add_subcommand(
      "create",
      "Grant a token (recorded in the log; the secret is shown once)");
  command
      ->add_option("--principal", flags->principal,
                   "Who it stands for: the actor of what it records")
      ->required();
  command
      ->add_option("--role", flags->roles,
                   "admin, planner, auditor, reader or subscriber; "
                   "repeat or separate with commas")
      ->required()
      ->delimiter(',');
  command->add_option("--support-area", flags->support_areas,
                      "A planner limited to this support area (repeatable)");
  // Not --plan: that is every command's plan.
  command->add_option("--only-plan", flags->plans,
                      "A planner or reader limited to this plan (repeatable)");
  CLI::Option* days =
      command->add_option("--expires-in-days", flags->expires_in_days,
                          "Days until it expires (default: never)");
  command
      ->add_option("--expires-in-seconds", flags->expires_in_seconds,
                   "Seconds until it expires, for short-lived tokens")
      ->excludes(days);
  command->add_option("--note", flags->note, "What it is for");
  command->footer(
      "Example:\n  plantrail admin token create --principal anna --role "
      "planner --support-area \"3.4 Ekonomistöd\" --expires-in-days 365");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::CreateTokenRequest request;
    request.set_principal(flags->principal);
    for (const std::string& text : flags->roles) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          v1::Role role, Usage(domain::ParseWords<v1::Role>(text, "--role")));
      request.add_roles(role);
    }
    for (const std::string& area : flags->support_areas) {
      request.add_support_areas(area);
    }
    for (const std::string& plan : flags->plans) request.add_plans(plan);
    request.set_expires_in_days(flags->expires_in_days);
    request.set_expires_in_seconds(flags->expires_in_seconds);
    request.set_note(flags->note);
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::CreateTokenResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::CreateToken, client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      context.out() << response.token() << "\n";
      context.err() << "granted " << response.info().token_id() << " to "
                    << response.info().principal() << " ("
                    << Roles(response.info())
                    << "); the token above is shown once: keep it secret\n";
    }
    return absl::OkStatus();
  });
}

void AddTokenList(CLI::App* token, Context& context) {
  CLI::App* command =
      token->add_subcommand("list", "Every token granted, revoked ones too");
  command->footer("Example:\n  plantrail admin token list");
  context.Action(command, [&context]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    // Every page, as one answer.
    v1::ListTokensResponse response;
    v1::ListTokensRequest request;
    do {
      v1::ListTokensResponse page;
      PLANTRAIL_RETURN_IF_ERROR(
          client->Call(&Stub::ListTokens, client->admin(), request, page));
      for (v1::TokenInfo& one : *page.mutable_tokens()) {
        *response.add_tokens() = std::move(one);
      }
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    Table table({"ID", "PRINCIPAL", "ROLES", "PLANS", "SUPPORT AREAS",
                 "CREATED", "BY", "EXPIRES", "REVOKED"});
    for (const v1::TokenInfo& info : response.tokens()) {
      table.AddRow(
          {info.token_id(), info.principal(), Roles(info),
           absl::StrJoin(info.plans(), ","),
           absl::StrJoin(info.support_areas(), ","),
           TimeText(info.created_at()), info.created_by(),
           info.has_expires_at() ? TimeText(info.expires_at()) : "never",
           info.revoked()
               ? absl::StrCat(TimeText(info.revoked_at()), " by ",
                              info.revoked_by(), ": ", info.revoke_reason())
               : ""});
    }
    table.Print(context.out());
    return absl::OkStatus();
  });
}

void AddTokenRevoke(CLI::App* token, Context& context) {
  struct Flags {
    std::string id, reason;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = token->add_subcommand(
      "revoke", "Revoke a token: it authenticates nobody from now on");
  command->add_option("ID", flags->id, "The token's id (see token list)")
      ->required();
  command->add_option("--reason", flags->reason, "Why")->required();
  command->footer(
      "Example:\n  plantrail admin token revoke tok-1a2b3c4d5e6f --reason "
      "\"anna left the programme office\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::RevokeTokenRequest request;
    request.set_token_id(flags->id);
    request.set_reason(flags->reason);
    v1::RevokeTokenResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::RevokeToken, client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      context.out() << "revoked " << flags->id << " ("
                    << response.info().principal() << ")\n";
    }
    return absl::OkStatus();
  });
}

void AddRedact(CLI::App* admin, Context& context) {
  struct Flags {
    uint64_t position = 0;
    std::string reason, command_id;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = admin->add_subcommand(
      "redact",
      "Redact an event's payload (lawful disposal, personal data); the "
      "redaction is itself an event");
  command
      ->add_option("POSITION", flags->position,
                   "The event's log position (history shows it as #N)")
      ->required();
  command
      ->add_option("--reason", flags->reason,
                   "Why: the disposal decision, the data subject's "
                   "request")
      ->required();
  command->add_option("--command-id", flags->command_id,
                      "Makes a retry idempotent");
  command->footer(
      "Example:\n  plantrail admin redact 42 --reason \"GDPR art. 17 request "
      "2026-11-03, case 2026/118\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::RedactEventRequest request;
    request.set_position(flags->position);
    request.set_reason(flags->reason);
    request.set_command_id(flags->command_id);
    v1::RedactEventResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::Admin::Stub::RedactEvent,
                                           client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    context.out() << "redacted #" << response.redacted_position()
                  << "; the redaction is #" << response.position()
                  << " in plantrail-redactions; the projections are rebuilt "
                     "without the text and the server's files hold no old "
                     "copy of it\n";
    return absl::OkStatus();
  });
}

void AddBackup(CLI::App* admin, Context& context) {
  auto directory = std::make_shared<std::string>();
  CLI::App* command = admin->add_subcommand(
      "backup",
      "Copy the log and signing key into a new directory while serving");
  command
      ->add_option("DIR", *directory, "A new directory on the server's machine")
      ->required();
  command->footer(
      "Example:\n  plantrail admin backup /var/backups/plantrail/2026-11-24\n"
      "  plantraild --data-dir /srv/plantrail-new --restore-from "
      "/var/backups/plantrail/2026-11-24");
  context.Action(command, [&context, directory]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::BackupRequest request;
    // The server resolves nothing against its own working directory, so a
    // relative path is made absolute here (the usual case: same machine).
    request.set_directory(std::filesystem::absolute(*directory).string());
    v1::BackupResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::Admin::Stub::Backup,
                                           client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    context.out() << "backup of positions 1.." << response.head_position()
                  << " written to " << response.directory()
                  << " and verified (signed digest in backup.json)\n"
                  << "restore with: plantraild --data-dir NEW_DIR "
                     "--restore-from "
                  << response.directory() << "\n";
    return absl::OkStatus();
  });
}
void AddPromote(CLI::App* admin, Context& context) {
  auto reason = std::make_shared<std::string>();
  CLI::App* command = admin->add_subcommand(
      "promote",
      "Make the replica --server names the leader, in a new term (manual "
      "failover)");
  command
      ->add_option("--reason", *reason,
                   "Why: the leader is gone, a planned switchover")
      ->required();
  command->footer(
      "Example:\n  plantrail admin promote --server replica-1:50051 --reason "
      "\"leader's disk failed, INC-2211\"");
  context.Action(command, [&context, reason]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::PromoteRequest request;
    request.set_reason(*reason);
    v1::PromoteResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::Admin::Stub::Promote,
                                           client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    context.out() << client->options().server << " leads term "
                  << response.term() << " from #" << response.position()
                  << "; restart the old leader with --replica-of "
                  << client->options().server
                  << " (what it wrote and no replica acknowledged is "
                     "quarantined, not lost)\n";
    return absl::OkStatus();
  });
}
}  // namespace

void AddAdminCommands(CLI::App& app, Context& context) {
  CLI::App* admin = Group(app, "admin",
                          "Administration: projections, rebuild, verify, "
                          "backup, redact, stats, tokens, promote");
  AddProjections(admin, context);
  AddRebuild(admin, context);
  AddVerifyCommand(*admin, context);
  AddStats(admin, context);
  CLI::App* token =
      Group(*admin, "token", "Bearer tokens: create, list, revoke");
  AddTokenCreate(token, context);
  AddTokenList(token, context);
  AddTokenRevoke(token, context);
  AddRedact(admin, context);
  AddBackup(admin, context);
  AddPromote(admin, context);
}

}  // namespace plantrail::cli
