// `plantrail webhook ...`: outbound webhook endpoints (Admin AddWebhook,
// ListWebhooks, GetWebhook, PauseWebhook, ResumeWebhook,
// RotateWebhookSecret, ReplayWebhook, RemoveWebhook). docs/webhooks.md says
// what a receiver does with what it gets.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"

namespace plantrail::cli {
namespace {

using Stub = v1::Admin::Stub;

std::string StateWords(v1::WebhookState state) {
  switch (state) {
    case v1::WEBHOOK_ACTIVE:
      return "active";
    case v1::WEBHOOK_FAILING:
      return "failing";
    case v1::WEBHOOK_PAUSED:
      return "paused";
    case v1::WEBHOOK_REMOVED:
      return "removed";
    default:
      return "unknown";
  }
}

std::string FilterWords(const v1::WebhookEndpoint& endpoint) {
  std::string words =
      absl::StrCat("plans ", absl::StrJoin(endpoint.plans(), ", "));
  if (!endpoint.support_areas().empty()) {
    absl::StrAppend(&words, "; support areas ",
                    absl::StrJoin(endpoint.support_areas(), ", "));
  }
  if (!endpoint.event_types().empty()) {
    absl::StrAppend(&words, "; types ",
                    absl::StrJoin(endpoint.event_types(), ", "));
  }
  return words;
}

// The endpoint as `webhook show` prints it, one "name: value" a line.
void PrintEndpoint(Context& context, const v1::WebhookEndpoint& endpoint) {
  std::ostream& out = context.out();
  out << "endpoint:   " << endpoint.endpoint_id() << "\n"
      << "url:        " << endpoint.url() << "\n"
      << "state:      " << StateWords(endpoint.state()) << "\n"
      << "filter:     " << FilterWords(endpoint) << "\n";
  if (!endpoint.description().empty()) {
    out << "about:      " << endpoint.description() << "\n";
  }
  out << "added:      " << TimeText(endpoint.created_at()) << " by "
      << endpoint.created_by() << "\n"
      << "delivered:  up to position " << endpoint.delivered_position()
      << " of " << endpoint.head_position() << " (lag " << endpoint.lag_events()
      << " positions, " << absl::StrFormat("%.1f", endpoint.lag_seconds())
      << " s)\n"
      << "requests:   " << endpoint.delivered() << " delivered, "
      << endpoint.failed() << " failed, " << endpoint.retries()
      << " retries since the server started\n";
  if (endpoint.has_last_delivered_at()) {
    out << "last 2xx:   " << TimeText(endpoint.last_delivered_at()) << "\n";
  }
  if (!endpoint.last_error().empty()) {
    out << "last error: " << endpoint.last_error() << " ("
        << TimeText(endpoint.last_error_at()) << ")\n";
  }
  if (endpoint.has_failing_since()) {
    out << "retrying:   since " << TimeText(endpoint.failing_since()) << "\n";
  }
  if (endpoint.has_next_attempt_at()) {
    out << "next try:   " << TimeText(endpoint.next_attempt_at()) << "\n";
  }
  if (endpoint.state() == v1::WEBHOOK_PAUSED) {
    out << "paused:     " << TimeText(endpoint.paused_at()) << " by "
        << endpoint.paused_by() << ": " << endpoint.paused_reason() << "\n";
  }
  if (endpoint.has_previous_secret_until()) {
    out << "rotation:   the previous secret signs too until "
        << TimeText(endpoint.previous_secret_until()) << "\n";
  }
  if (endpoint.state() == v1::WEBHOOK_REMOVED) {
    out << "removed:    " << TimeText(endpoint.removed_at()) << " by "
        << endpoint.removed_by() << "\n";
  }
}

// Prints what a change answered: the endpoint (JSON, or a line).
void PrintChanged(Context& context, const v1::WebhookEndpoint& endpoint,
                  absl::string_view what) {
  if (context.json) {
    context.PrintJson(endpoint);
  } else {
    context.out() << what << " " << endpoint.endpoint_id() << " ("
                  << endpoint.url() << "): " << StateWords(endpoint.state())
                  << "\n";
  }
}

void AddAdd(CLI::App* webhook, Context& context) {
  struct Flags {
    std::string url, description;
    std::vector<std::string> more_plans, support_areas, types;
    bool pause_when_failing = false;
    uint64_t after = 0;
    bool from_start = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = webhook->add_subcommand(
      "add",
      "Deliver a plan's changes to an HTTPS endpoint (the signing secret is "
      "shown once)");
  command->add_option("URL", flags->url, "https://host/path")->required();
  command->add_option("--also-plan", flags->more_plans,
                      "Another plan whose changes it gets (repeat; --plan "
                      "names the first)");
  command->add_option("--support-area", flags->support_areas,
                      "Only areas of this support area (repeat)");
  command->add_option("--type", flags->types,
                      "Only this event type, e.g. StatusReported (repeat)");
  command->add_option("--description", flags->description, "What it is for");
  command->add_flag("--pause-when-failing", flags->pause_when_failing,
                    "Pause it when it has been failing longer than the "
                    "server's --webhook-failing-after");
  CLI::Option* after = command->add_option(
      "--after", flags->after,
      "Deliver the events after this position (default: only new ones)");
  command
      ->add_flag("--from-start", flags->from_start,
                 "Deliver the plan's whole history first")
      ->excludes(after);
  command->footer(
      "Example:\n  plantrail webhook add https://hooks.example.org/plantrail "
      "--plan ltu-2024 --support-area 3.4 --type StatusReported");
  context.Action(command, [&context, flags, after]() -> absl::Status {
    if (context.plan.empty()) {
      return UsageError(
          "--plan: required: the plan whose changes the endpoint gets");
    }
    v1::AddWebhookRequest request;
    request.set_url(flags->url);
    request.add_plans(context.plan);
    for (const std::string& plan : flags->more_plans) request.add_plans(plan);
    for (const std::string& area : flags->support_areas) {
      request.add_support_areas(area);
    }
    for (const std::string& type : flags->types) request.add_event_types(type);
    request.set_description(flags->description);
    request.set_pause_when_failing(flags->pause_when_failing);
    if (flags->from_start) request.set_after_position(0);
    if (after->count() > 0) request.set_after_position(flags->after);
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::AddWebhookResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::AddWebhook, client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      context.out() << response.secret() << "\n";
      context.err() << "added " << response.endpoint().endpoint_id() << " ("
                    << response.endpoint().url() << ", "
                    << FilterWords(response.endpoint())
                    << "); the signing secret above is shown once: give it "
                       "to the receiver and keep it secret\n";
    }
    return absl::OkStatus();
  });
}

void AddList(CLI::App* webhook, Context& context) {
  auto all = std::make_shared<bool>(false);
  CLI::App* command = webhook->add_subcommand("list", "The webhook endpoints");
  command->add_flag("--all", *all, "Removed endpoints too");
  command->footer("Example:\n  plantrail webhook list");
  context.Action(command, [&context, all]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::ListWebhooksRequest request;
    request.set_include_removed(*all);
    v1::ListWebhooksResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::ListWebhooks, client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    Table table(
        {"ID", "STATE", "URL", "FILTER", "DELIVERED", "LAG", "LAST ERROR"});
    for (const v1::WebhookEndpoint& endpoint : response.endpoints()) {
      table.AddRow(
          {endpoint.endpoint_id(), StateWords(endpoint.state()), endpoint.url(),
           FilterWords(endpoint), absl::StrCat(endpoint.delivered_position()),
           absl::StrCat(endpoint.lag_events()), endpoint.last_error()});
    }
    table.Print(context.out());
    return absl::OkStatus();
  });
}

// A command that takes the endpoint id and maybe a reason.
struct IdFlags {
  std::string id, reason;
  uint32_t overlap = 0;
  uint64_t from = 0;
};

CLI::App* IdCommand(CLI::App* webhook, const char* name, const char* help,
                    const std::shared_ptr<IdFlags>& flags) {
  CLI::App* command = webhook->add_subcommand(name, help);
  command->add_option("ID", flags->id, "The endpoint's id (see webhook list)")
      ->required();
  return command;
}

void AddShow(CLI::App* webhook, Context& context) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* command = IdCommand(
      webhook, "show",
      "An endpoint: state, position delivered, lag, last error", flags);
  command->footer("Example:\n  plantrail webhook show wh-1a2b3c4d5e6f");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::GetWebhookRequest request;
    request.set_endpoint_id(flags->id);
    v1::WebhookEndpoint response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::GetWebhook, client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      PrintEndpoint(context, response);
    }
    return absl::OkStatus();
  });
}

void AddPause(CLI::App* webhook, Context& context) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* command =
      IdCommand(webhook, "pause",
                "Stop delivering to an endpoint (nothing is skipped)", flags);
  command->add_option("--reason", flags->reason, "Why")->required();
  command->footer(
      "Example:\n  plantrail webhook pause wh-1a2b3c4d5e6f --reason "
      "\"receiver moves to a new host\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::PauseWebhookRequest request;
    request.set_endpoint_id(flags->id);
    request.set_reason(flags->reason);
    v1::WebhookEndpoint response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::PauseWebhook, client->admin(), request, response));
    PrintChanged(context, response, "paused");
    return absl::OkStatus();
  });
}

void AddResume(CLI::App* webhook, Context& context) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* command = IdCommand(
      webhook, "resume", "Deliver again where it stopped, trying now", flags);
  command->footer("Example:\n  plantrail webhook resume wh-1a2b3c4d5e6f");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::ResumeWebhookRequest request;
    request.set_endpoint_id(flags->id);
    v1::WebhookEndpoint response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::ResumeWebhook, client->admin(), request, response));
    PrintChanged(context, response, "resumed");
    return absl::OkStatus();
  });
}

void AddRotate(CLI::App* webhook, Context& context) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* command = IdCommand(
      webhook, "rotate-secret",
      "A new signing secret (shown once); the previous one signs beside it "
      "for the overlap",
      flags);
  command->add_option("--overlap", flags->overlap,
                      "Seconds the previous secret still signs (default "
                      "86400, at most 604800)");
  command->footer(
      "Example:\n  plantrail webhook rotate-secret wh-1a2b3c4d5e6f "
      "--overlap 3600");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::RotateWebhookSecretRequest request;
    request.set_endpoint_id(flags->id);
    request.set_overlap_seconds(flags->overlap);
    v1::RotateWebhookSecretResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&Stub::RotateWebhookSecret,
                                           client->admin(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      context.out() << response.secret() << "\n";
      context.err() << "rotated the secret of "
                    << response.endpoint().endpoint_id()
                    << "; the previous one signs too until "
                    << TimeText(response.endpoint().previous_secret_until())
                    << "; the secret above is shown once\n";
    }
    return absl::OkStatus();
  });
}

void AddReplay(CLI::App* webhook, Context& context) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* command = IdCommand(
      webhook, "replay",
      "Deliver again from a position (the receiver drops duplicates by the "
      "event id)",
      flags);
  command->add_option("--from", flags->from, "The first position to deliver")
      ->required();
  command->footer(
      "Example:\n  plantrail webhook replay wh-1a2b3c4d5e6f --from 1200");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::ReplayWebhookRequest request;
    request.set_endpoint_id(flags->id);
    request.set_from_position(flags->from);
    v1::WebhookEndpoint response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::ReplayWebhook, client->admin(), request, response));
    PrintChanged(context, response,
                 absl::StrCat("replaying from ", flags->from, ":"));
    return absl::OkStatus();
  });
}

void AddRemove(CLI::App* webhook, Context& context) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* command = IdCommand(
      webhook, "remove", "Stop delivering to an endpoint for good", flags);
  command->add_option("--reason", flags->reason, "Why")->required();
  command->footer(
      "Example:\n  plantrail webhook remove wh-1a2b3c4d5e6f --reason "
      "\"the ticket system was retired\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::RemoveWebhookRequest request;
    request.set_endpoint_id(flags->id);
    request.set_reason(flags->reason);
    v1::WebhookEndpoint response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::RemoveWebhook, client->admin(), request, response));
    PrintChanged(context, response, "removed");
    return absl::OkStatus();
  });
}

}  // namespace

void AddWebhookCommands(CLI::App& app, Context& context) {
  CLI::App* webhook = app.add_subcommand(
      "webhook",
      "Outbound webhooks: add, list, show, pause, resume, rotate-secret, "
      "replay, remove");
  webhook->require_subcommand(1);
  AddAdd(webhook, context);
  AddList(webhook, context);
  AddShow(webhook, context);
  AddPause(webhook, context);
  AddResume(webhook, context);
  AddRotate(webhook, context);
  AddReplay(webhook, context);
  AddRemove(webhook, context);
}

}  // namespace plantrail::cli
