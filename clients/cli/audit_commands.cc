// What an auditor runs: `digest` (a signed statement of the log's head, to
// keep), `verify` (the chain, every projection's checkpoint, and, given a
// saved digest, a proof recomputed here that the log still extends it) and
// `admin backup`.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "audit/chain_check.h"
#include "audit/digest.h"
#include "audit/signing_key.h"
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
  audit::ChainCheck chain;
  v1::ReadAllRequest request;
  request.set_from_position(1);
  request.set_limit(1000);
  do {
    v1::ReadAllResponse page;
    PLANTRAIL_RETURN_IF_ERROR(client.Call(&v1::EventStore::Stub::ReadAll,
                                          client.events(), request, page));
    for (const v1::RecordedEvent& proto : page.events()) {
      absl::StatusOr<eventstore::RecordedEvent> event = audit::FromProto(proto);
      absl::Status added = event.ok() ? chain.Add(*event) : event.status();
      if (!added.ok()) return fail(std::string(added.message()));
      finding.recomputed = chain.position();
      const absl::string_view hash(
          reinterpret_cast<const char*>(chain.hash().data()),
          chain.hash().size());
      if (chain.position() == digest.position() && hash != digest.head_hash()) {
        return fail(absl::StrCat(
            "position ", digest.position(), " now has chain hash ",
            ShortHex(hash), "..., the digest says ",
            ShortHex(digest.head_hash()),
            "...: events at or before it were changed (and the chain "
            "recomputed)"));
      }
    }
    request.set_from_position(page.next_position());
  } while (request.from_position() != 0);
  if (chain.position() < digest.position()) {
    return fail(absl::StrCat("the log ends at position ", chain.position(),
                             ", before the digest's position ",
                             digest.position(),
                             ": events it covered are gone"));
  }
  return finding;
}

absl::Status RunVerify(Context& context, const VerifyFlags& flags) {
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
  const std::string path = parent.get_name() == "plantrail"
                               ? "plantrail verify"
                               : "plantrail " + parent.get_name() + " verify";
  command->footer(absl::StrCat("Examples:\n  ", path, "\n  ", path,
                               " --digest digest.json --public-key "
                               "signing.pub"));
  context.Action(command,
                 [&context, flags] { return RunVerify(context, *flags); });
}

void AddAuditCommands(CLI::App& app, Context& context) {
  AddDigest(app, context);
  AddVerifyCommand(app, context);
  AddBackup(Group(app, "admin", "Operate the server"), context);
}

}  // namespace plantrail::cli
