// What an auditor runs: `digest` (a signed statement of the log's head, to
// keep), `verify` (the chain, every projection's checkpoint, and, given a
// saved digest, a proof recomputed here that the log still extends it),
// `export` and `verify-export` (a signed, self-checking export, checked
// with no server). What only an admin may do (`admin redact`, `admin
// backup`) is in admin_commands.cc.
#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "audit/chain_check.h"
#include "audit/digest.h"
#include "audit/signing_key.h"
#include "clients/cli/audit_export.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "common/status_macros.h"

namespace plantrail::cli {
namespace {

std::string ShortHex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes).substr(0, 16);
}

void AddDigest(CLI::App& app, Context& context) {
  auto position = std::make_shared<uint64_t>(0);
  CLI::App* command = app.add_subcommand(
      "digest",
      "A signed statement of the log's head hash, to keep for verify --digest");
  command->add_option("--position", *position,
                      "Sign the hash at this position instead of the head");
  command->footer(
      "Example:\n  plantrail digest > digest-$(date +%F).json\n"
      "  ...later:  plantrail verify --digest digest-2026-11-24.json "
      "--public-key signing.pub");
  context.Action(command, [&context, position]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::GetDigestRequest request;
    request.set_position(*position);
    v1::GetDigestResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::Admin::Stub::GetDigest,
                                           client->admin(), request, response));
    context.out() << audit::DigestToJson(response.digest()).dump(2) << "\n";
    context.err()
        << "digest of position " << response.digest().position()
        << " signed by " << response.digest().key_id()
        << "; keep it where the server's operators cannot change it\n";
    return absl::OkStatus();
  });
}

struct VerifyFlags {
  std::string digest_file;
  std::string public_key_file;
  // --at/--hash: a position and chain hash a document states.
  uint64_t at = 0;
  std::string hash;
};

// What `verify --digest` finds on its own, trusting the server for nothing
// but the events it sends: the signature, the pinned key, and the chain
// recomputed here from position 1.
struct DigestFinding {
  bool ok = true;
  std::string problem;
  uint64_t recomputed = 0;
  bool pinned = false;
};

absl::StatusOr<v1::Digest> LoadDigest(const std::string& path) {
  PLANTRAIL_ASSIGN_OR_RETURN(std::string text,
                             Usage(ReadFile(path, "--digest")));
  nlohmann::json json =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return UsageError(absl::StrCat("--digest: \"", path, "\" is not JSON"));
  }
  absl::StatusOr<v1::Digest> digest = audit::DigestFromJson(json);
  if (!digest.ok()) {
    return UsageError(
        absl::StrCat("--digest: \"", path, "\": ", digest.status().message()));
  }
  return digest;
}

// Recomputes the chain here from the events the server sends, from
// position 1 to the head, and checks that position `position` has the
// chain hash `hash_claimed` (raw bytes), as `claimant` ("the digest")
// claims.
absl::StatusOr<DigestFinding> CheckChainHere(Client& client, uint64_t position,
                                             absl::string_view hash_claimed,
                                             absl::string_view claimant,
                                             DigestFinding finding) {
  auto fail = [&finding](std::string problem) {
    finding.ok = false;
    finding.problem = std::move(problem);
    return finding;
  };
  audit::ChainCheck chain;
  v1::ReadAllRequest request;
  request.set_from_position(1);
  request.set_limit(1000);
  do {
    v1::ReadAllResponse page;
    PLANTRAIL_RETURN_IF_ERROR(client.Call(&v1::EventStore::Stub::ReadAll,
                                          client.events(), request, page));
    for (const v1::RecordedEvent& proto : page.events()) {
      if (absl::Status added = chain.Add(proto); !added.ok()) {
        return fail(std::string(added.message()));
      }
      finding.recomputed = chain.position();
      const absl::string_view hash(
          reinterpret_cast<const char*>(chain.hash().data()),
          chain.hash().size());
      if (chain.position() == position && hash != hash_claimed) {
        return fail(absl::StrCat(
            "position ", position, " now has chain hash ", ShortHex(hash),
            "..., ", claimant, " says ", ShortHex(hash_claimed),
            "...: events at or before it were changed (and the chain "
            "recomputed)"));
      }
    }
    request.set_from_position(page.next_position());
  } while (request.from_position() != 0);
  if (chain.position() < position) {
    return fail(absl::StrCat("the log ends at position ", chain.position(),
                             ", before ", claimant, "'s position ", position,
                             ": events it covered are gone"));
  }
  // A redaction's record comes in the same commit as the header it
  // redacts: the log, read to its head, holds it.
  if (!chain.unbound_headers().empty()) {
    return fail(absl::StrCat("position ",
                             chain.unbound_headers().begin()->first,
                             ": the header is marked redacted but no "
                             "redaction's record binds it"));
  }
  return finding;
}

absl::StatusOr<DigestFinding> CheckDigestHere(
    Client& client, const v1::Digest& digest,
    const std::optional<std::string>& pinned_key) {
  DigestFinding finding;
  auto fail = [&finding](std::string problem) {
    finding.ok = false;
    finding.problem = std::move(problem);
    return finding;
  };
  if (absl::Status signed_ok = audit::CheckDigest(digest); !signed_ok.ok()) {
    return fail(std::string(signed_ok.message()));
  }
  if (pinned_key.has_value()) {
    finding.pinned = true;
    if (*pinned_key != digest.public_key()) {
      return fail(absl::StrCat("the digest is signed by ", digest.key_id(),
                               ", not by the pinned key ",
                               audit::KeyIdOf(*pinned_key)));
    }
  }
  return CheckChainHere(client, digest.position(), digest.head_hash(),
                        "the digest", std::move(finding));
}

// `verify --at N --hash H`: the chain recomputed here from the events has
// H at position N; what a printed report-back states (plantrail followup
// report). Any role that may read the log can check it.
absl::Status RunVerifyAt(Context& context, const VerifyFlags& flags) {
  if (flags.hash.size() != 64 ||
      !std::all_of(flags.hash.begin(), flags.hash.end(),
                   [](char c) { return absl::ascii_isxdigit(c); })) {
    return UsageError(
        "--hash: the chain hash as 64 hexadecimal digits, as a document "
        "states it");
  }
  const std::string claimed = absl::HexStringToBytes(flags.hash);
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  PLANTRAIL_ASSIGN_OR_RETURN(DigestFinding here,
                             CheckChainHere(*client, flags.at, claimed,
                                            "the document", DigestFinding{}));
  if (context.json) {
    nlohmann::ordered_json json;
    json["ok"] = here.ok;
    json["position"] = flags.at;
    json["events_recomputed"] = here.recomputed;
    json["problem"] = here.problem;
    context.out() << json.dump() << "\n";
  } else if (here.ok) {
    context.out() << "position " << flags.at << ": chain hash "
                  << flags.hash.substr(0, 16)
                  << "... matches, recomputed here from " << here.recomputed
                  << " events: the document was made from this ledger\n";
  }
  if (!here.ok) {
    return absl::DataLossError(
        absl::StrCat("verification failed: ", here.problem));
  }
  return absl::OkStatus();
}

absl::Status RunVerify(Context& context, const VerifyFlags& flags) {
  if (flags.at != 0 || !flags.hash.empty()) {
    if (flags.at == 0 || flags.hash.empty() || !flags.digest_file.empty()) {
      return UsageError("--at and --hash go together, without --digest");
    }
    return RunVerifyAt(context, flags);
  }
  std::optional<v1::Digest> digest;
  if (!flags.digest_file.empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(digest, LoadDigest(flags.digest_file));
  }
  std::optional<std::string> pinned_key;
  if (!flags.public_key_file.empty()) {
    if (!digest.has_value()) {
      return UsageError("--public-key: only with --digest");
    }
    PLANTRAIL_ASSIGN_OR_RETURN(
        std::string pem,
        Usage(ReadFile(flags.public_key_file, "--public-key")));
    absl::StatusOr<std::string> key = audit::PublicKeyFromPem(pem);
    if (!key.ok()) {
      return UsageError(absl::StrCat("--public-key: \"", flags.public_key_file,
                                     "\": ", key.status().message()));
    }
    pinned_key = *key;
  }
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  v1::VerifyRequest request;
  if (digest.has_value()) *request.mutable_digest() = *digest;
  v1::VerifyResponse response;
  PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::Admin::Stub::Verify,
                                         client->admin(), request, response));
  std::optional<DigestFinding> here;
  if (digest.has_value()) {
    PLANTRAIL_ASSIGN_OR_RETURN(here,
                               CheckDigestHere(*client, *digest, pinned_key));
  }

  const bool ok = response.ok() && (!here.has_value() || here->ok);
  if (context.json) {
    nlohmann::ordered_json json;
    json["ok"] = ok;
    json["server"] = nlohmann::ordered_json::parse(ToJson(response));
    if (here.has_value()) {
      json["digest_recomputed_here"] = {{"ok", here->ok},
                                        {"problem", here->problem},
                                        {"events_recomputed", here->recomputed},
                                        {"key_pinned", here->pinned}};
    }
    context.out() << json.dump() << "\n";
  } else {
    std::ostream& out = context.out();
    const bool chain_ok = response.first_broken_position() == 0;
    if (chain_ok) {
      out << "chain: ok, " << response.events_checked() << " events, head "
          << response.head_position() << ", head hash "
          << absl::BytesToHexString(response.head_hash()) << "\n";
    } else {
      out << "chain: BROKEN at position " << response.first_broken_position()
          << ": " << response.problem() << "\n";
    }
    for (const v1::ProjectionCheck& projection : response.projections()) {
      out << "projection " << projection.name() << ": "
          << (projection.ok() ? "ok" : "BROKEN") << ", checkpoint "
          << projection.checkpoint();
      if (!projection.ok()) out << ": " << projection.problem();
      out << "\n";
    }
    if (here.has_value()) {
      if (here->ok) {
        out << "digest: ok, the log extends the digest of position "
            << digest->position() << " signed by " << digest->key_id()
            << (here->pinned ? " (the pinned key)" : " (key not pinned)")
            << "; recomputed here from " << here->recomputed << " events\n";
        if (!here->pinned) {
          out << "  pin the server's key with --public-key signing.pub, or "
                 "anyone could have signed this digest\n";
        }
      } else {
        out << "digest: FAILED: " << here->problem << "\n";
      }
    }
  }
  if (!ok) {
    std::string first = response.problem();
    if (first.empty() && here.has_value()) first = here->problem;
    if (first.empty()) {
      for (const v1::ProjectionCheck& projection : response.projections()) {
        if (!projection.ok()) {
          first = absl::StrCat(projection.name(), ": ", projection.problem());
          break;
        }
      }
    }
    return absl::DataLossError(absl::StrCat("verification failed: ", first));
  }
  return absl::OkStatus();
}

// --from/--to: an RFC 3339 time, or a day (from its start; `to` through
// its end), UTC.
absl::StatusOr<absl::Time> ParseBound(const std::string& text, const char* flag,
                                      bool end_of_day) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &time, &error)) {
    return end_of_day ? time + absl::Hours(24) - absl::Microseconds(1) : time;
  }
  return UsageError(absl::StrCat(flag, ": \"", text,
                                 "\" is neither YYYY-MM-DD nor an RFC 3339 "
                                 "time"));
}

// Every redaction in the log, by the position it redacts.
absl::StatusOr<std::map<uint64_t, RedactionFacts>> ReadRedactions(
    Client& client) {
  std::map<uint64_t, RedactionFacts> redactions;
  v1::ReadStreamRequest request;
  request.set_stream_id("plantrail-redactions");
  request.set_direction(v1::READ_DIRECTION_FORWARD);
  request.set_limit(1000);
  do {
    v1::ReadStreamResponse page;
    absl::Status read = client.Call(&v1::EventStore::Stub::ReadStream,
                                    client.events(), request, page);
    if (absl::IsNotFound(read)) break;  // nothing was ever redacted
    PLANTRAIL_RETURN_IF_ERROR(read);
    for (const v1::RecordedEvent& event : page.events()) {
      std::optional<RedactionFacts> facts = RedactionFactsOf(event);
      auto target = event.metadata().find(kRedactsPositionKey);
      uint64_t position = 0;
      if (facts.has_value() && target != event.metadata().end() &&
          absl::SimpleAtoi(target->second, &position)) {
        redactions[position] = *facts;
      }
    }
    request.set_from_version(page.next_version());
  } while (request.from_version() != 0);
  return redactions;
}

struct ExportFlags {
  std::string area, from, to, format = "jsonl", output;
  bool all = false;
};

// Reads the log from position 1 to its head as of the start and writes
// every position from the scope's first (less one, as its boundary) to its
// last (plus one, when the scope ends before the head), then the digest.
absl::Status RunExport(Context& context, const ExportFlags& flags) {
  if (flags.all && !flags.area.empty()) {
    return UsageError("--all and --area: choose one");
  }
  ExportScope scope;
  if (!flags.area.empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(scope.stream, AreaStreamId(context, flags.area));
  }
  if (!flags.from.empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(scope.from,
                               ParseBound(flags.from, "--from", false));
  }
  if (!flags.to.empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(scope.to, ParseBound(flags.to, "--to", true));
  }
  std::ofstream file;
  if (!flags.output.empty()) {
    file.open(flags.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      return UsageError(
          absl::StrCat("--output: cannot write \"", flags.output, "\""));
    }
  }
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  if (!scope.stream.empty()) {
    v1::ReadStreamRequest request;
    request.set_stream_id(scope.stream);
    request.set_direction(v1::READ_DIRECTION_FORWARD);
    request.set_limit(1);
    v1::ReadStreamResponse page;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::EventStore::Stub::ReadStream,
                                           client->events(), request, page));
    if (page.last_version() == 0) {
      return absl::NotFoundError(
          absl::StrCat("area \"", flags.area, "\" has no events"));
    }
  }
  std::ostream& out = flags.output.empty() ? context.out() : file;
  ExportWriter writer(
      out,
      flags.format == "csv" ? ExportFormat::kCsv : ExportFormat::kJsonLines,
      scope);
  PLANTRAIL_ASSIGN_OR_RETURN(auto redactions, ReadRedactions(*client));
  writer.SetRedactions(std::move(redactions));
  // An event redacted while the export runs: its redaction is new too.
  auto add = [&](const v1::RecordedEvent& event) -> absl::Status {
    if (event.redacted() && !writer.KnowsRedactionOf(event.position())) {
      PLANTRAIL_ASSIGN_OR_RETURN(auto newer, ReadRedactions(*client));
      writer.SetRedactions(std::move(newer));
    }
    writer.Add(event);
    return absl::OkStatus();
  };
  const std::string zeros(32, '\0');
  std::optional<v1::RecordedEvent> previous;
  std::string before_previous = zeros;
  bool started = false;
  bool past_scope = false;  // an event after --to was written: the end
  uint64_t next = 1, last = 0;
  // Writes the positions from `next` up to `up_to` (or the end of the scope).
  auto walk = [&](uint64_t up_to) -> absl::Status {
    v1::ReadAllRequest request;
    request.set_limit(1000);
    while (!past_scope && next <= up_to) {
      request.set_from_position(next);
      v1::ReadAllResponse page;
      PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::EventStore::Stub::ReadAll,
                                             client->events(), request, page));
      if (page.events().empty()) break;
      for (const v1::RecordedEvent& event : page.events()) {
        if (event.position() > up_to) return absl::OkStatus();
        next = event.position() + 1;
        const absl::Time time = audit::TimeOf(event.recorded_at());
        if (!started) {
          if (scope.from.has_value() && time < *scope.from) {
            before_previous = previous.has_value() ? previous->hash() : zeros;
            previous = event;
            continue;
          }
          // The event before the scope's start goes first, as its boundary.
          if (scope.from.has_value() && previous.has_value()) {
            writer.Begin(previous->position(), before_previous);
            PLANTRAIL_RETURN_IF_ERROR(add(*previous));
          } else {
            writer.Begin(event.position(),
                         previous.has_value() ? previous->hash() : zeros);
          }
          started = true;
        }
        PLANTRAIL_RETURN_IF_ERROR(add(event));
        last = event.position();
        if (scope.to.has_value() && time > *scope.to) {
          past_scope = true;
          return absl::OkStatus();
        }
      }
    }
    return absl::OkStatus();
  };
  v1::ReadAllRequest probe;
  probe.set_limit(1);
  v1::ReadAllResponse head;
  PLANTRAIL_RETURN_IF_ERROR(client->Call(&v1::EventStore::Stub::ReadAll,
                                         client->events(), probe, head));
  if (head.head_position() == 0) {
    return absl::FailedPreconditionError("the log is empty: nothing to export");
  }
  PLANTRAIL_RETURN_IF_ERROR(walk(head.head_position()));
  if (!started) {
    // The scope starts after the last event: that event alone shows it.
    writer.Begin(previous->position(), before_previous);
    PLANTRAIL_RETURN_IF_ERROR(add(*previous));
    last = previous->position();
    started = true;
  }
  v1::GetDigestRequest digest_request;
  digest_request.set_position(last);
  v1::GetDigestResponse digest;
  PLANTRAIL_RETURN_IF_ERROR(client->Call(
      &v1::Admin::Stub::GetDigest, client->admin(), digest_request, digest));
  writer.Finish(digest.digest());
  if (!out) {
    return absl::UnavailableError(
        absl::StrCat("--output: cannot write \"", flags.output, "\""));
  }
  if (!flags.output.empty()) {
    context.err() << "exported " << writer.events() << " events ("
                  << writer.links() << " more positions as links) to "
                  << flags.output << ", signed by " << digest.digest().key_id()
                  << "\n";
  }
  return absl::OkStatus();
}

void AddExport(CLI::App& app, Context& context) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* command = app.add_subcommand(
      "export",
      "An audit export: every event of a scope with its hashes, and a signed "
      "digest (check it with verify-export)");
  command->add_option("--area", flags->area,
                      "Only this area's events (and their redactions)");
  command->add_flag("--all", flags->all, "Every stream (the default)");
  command->add_option("--from", flags->from,
                      "Events recorded from this day or time (UTC)");
  command->add_option("--to", flags->to,
                      "Events recorded up to this day (inclusive) or time");
  command->add_option("--format", flags->format, "jsonl (default) or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  command->add_option("--output,-o", flags->output,
                      "Write to this file (default: standard output)");
  command->footer(
      "Examples:\n  plantrail export --area 3.1.1 -o 3.1.1.jsonl\n"
      "  plantrail export --all --from 2026-01-01 --to 2026-06-30 "
      "--format csv -o h1.csv\n"
      "  plantrail verify-export 3.1.1.jsonl --public-key signing.pub");
  context.Action(command,
                 [&context, flags] { return RunExport(context, *flags); });
}

void AddVerifyExport(CLI::App& app, Context& context) {
  struct Flags {
    std::string file, public_key;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "verify-export",
      "Check an export offline: complete, unchanged, signed (no server)");
  command->add_option("FILE", flags->file, "The export (JSON lines or CSV)")
      ->required();
  command->add_option("--public-key", flags->public_key,
                      "The server's signing.pub (PEM): the export's digest "
                      "must be signed by this key");
  command->footer(
      "Example:\n  plantrail verify-export 3.1.1.jsonl --public-key "
      "signing.pub");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(std::string text,
                               Usage(ReadFile(flags->file, "FILE")));
    std::optional<std::string> pinned;
    if (!flags->public_key.empty()) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          std::string pem, Usage(ReadFile(flags->public_key, "--public-key")));
      absl::StatusOr<std::string> key = audit::PublicKeyFromPem(pem);
      if (!key.ok()) {
        return UsageError(absl::StrCat("--public-key: \"", flags->public_key,
                                       "\": ", key.status().message()));
      }
      pinned = *key;
    }
    absl::StatusOr<ExportVerdict> verdict = VerifyExport(text, pinned);
    if (!verdict.ok()) {
      return absl::Status(
          verdict.status().code(),
          absl::StrCat(flags->file, ": ", verdict.status().message()));
    }
    const std::string signed_at =
        audit::DigestToJson(verdict->digest)["signed_at"].get<std::string>();
    if (context.json) {
      nlohmann::ordered_json json = {
          {"ok", true},
          {"scope", verdict->scope.ToJson()},
          {"first_position", verdict->first_position},
          {"last_position", verdict->last_position},
          {"events", verdict->events},
          {"links", verdict->links},
          {"key_id", verdict->digest.key_id()},
          {"key_pinned", verdict->key_pinned},
          {"signed_at", signed_at},
          {"reaches_head", verdict->reaches_head}};
      if (!verdict->unbound_headers.empty()) {
        json["unbound_headers"] = verdict->unbound_headers;
      }
      context.out() << json.dump() << "\n";
      return absl::OkStatus();
    }
    context.out()
        << "export ok: " << verdict->scope.Describe() << "; positions "
        << verdict->first_position << ".." << verdict->last_position << ", "
        << verdict->events << " events in full, " << verdict->links
        << " as links; nothing in scope left out, nothing "
           "changed\n"
        << "signed by " << verdict->digest.key_id()
        << (verdict->key_pinned ? " (the pinned key)" : " (key not pinned)")
        << " at " << signed_at << "; "
        << (verdict->reaches_head ? "it reaches the log's head as of then\n"
            : verdict->scope.to.has_value()
                ? "it runs past the end of its scope\n"
                : absl::StrCat("it covers the log up to position ",
                               verdict->last_position, " (the log had ",
                               verdict->digest.log_head(),
                               " events by then)\n"));
    for (const auto& [position, facts] : verdict->redactions) {
      context.out() << "#" << position << " redacted by " << facts.actor
                    << " at " << facts.recorded_at << " (#" << facts.position
                    << ")" << (facts.reason.empty() ? "" : ", reason: ")
                    << facts.reason << "\n";
    }
    for (uint64_t position : verdict->unbound_headers) {
      context.out() << "#" << position
                    << " has its metadata redacted by a redaction after the "
                       "export's end: what is left of its header is not "
                       "checked\n";
    }
    return absl::OkStatus();
  });
}

}  // namespace

void AddVerifyCommand(CLI::App& parent, Context& context) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* command = parent.add_subcommand(
      "verify",
      "Check the hash chain, every projection's checkpoint, and a saved "
      "digest");
  command->add_option(
      "--digest", flags->digest_file,
      "A digest saved earlier (plantrail digest): prove, recomputing the "
      "chain here, that the log still extends it");
  command->add_option("--public-key", flags->public_key_file,
                      "The server's signing.pub (PEM): the digest must be "
                      "signed by this key");
  command->add_option("--at", flags->at,
                      "A log position a document states (followup report): "
                      "with --hash, check that the chain, recomputed here, "
                      "has that hash there");
  command->add_option("--hash", flags->hash,
                      "The chain hash the document states (hex)");
  const std::string path = parent.get_name() == "plantrail"
                               ? "plantrail verify"
                               : "plantrail " + parent.get_name() + " verify";
  command->footer(absl::StrCat("Examples:\n  ", path, "\n  ", path,
                               " --digest digest.json --public-key "
                               "signing.pub\n  ",
                               path, " --at 1234 --hash 9f86d08...b0f00a08"));
  context.Action(command,
                 [&context, flags] { return RunVerify(context, *flags); });
}

void AddAuditCommands(CLI::App& app, Context& context) {
  AddDigest(app, context);
  AddVerifyCommand(app, context);
  AddExport(app, context);
  AddVerifyExport(app, context);
}

}  // namespace plantrail::cli
