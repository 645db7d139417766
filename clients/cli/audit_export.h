// Audit exports: every event of a scope with its hashes and a signed digest,
// in a file an auditor can check with no server (`plantrail verify-export`).
//
// One record per line (JSON lines), or per row (CSV, same records):
//   export  {"record":"export","format":"plantrail-export-v1","scope":{..},
//            "first_position":P,"previous_hash":hex}              first
//   event   {"record":"event", the fields of `watch --json`,
//            "redacted":bool,"payload_bytes":base64}               in scope
//            and, when redacted, "redaction":{"position","actor",
//            "recorded_at","reason"}: the redaction's own event, which
//            the file holds too (in full or as a link) unless it came
//            after the export's last position
//   link    {"record":"link","position":N,"header":base64,
//            "payload_hash":hex,"hash":hex}                        the rest
// An event or link whose metadata a redaction cleared also carries
// "header_hash":hex (v1::RecordedEvent.header_hash), which the chain takes
// in place of SHA-256 of its header; others never do, so an export without
// such events is what it was before header redaction existed. CSV has a
// column for it, the last; a file without that column still verifies.
//   digest  {"record":"digest", the fields of a digest file}       last
// Every position from P to the digest's position is there once, in order,
// so the chain can be recomputed from previous_hash to the signed head hash:
// no event can be changed, dropped or slipped in without breaking it. A link
// carries its event's header (stream, time, metadata; never the payload),
// so a verifier can tell it lies outside the scope: an export cannot leave
// out an event of its scope either. The digest's log_head tells whether
// the export reached the log's head when it was signed; an export of an
// open scope taken while appends go on covers the log up to its last
// position, and says so.
#ifndef PLANTRAIL_CLIENTS_CLI_AUDIT_EXPORT_H_
#define PLANTRAIL_CLIENTS_CLI_AUDIT_EXPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "domain/metadata_keys.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/admin.pb.h"
#include "plantrail/v1/event_store.pb.h"

namespace plantrail::cli {

inline constexpr char kExportFormat[] = "plantrail-export-v1";
// Metadata of a redaction event naming the stream of the event it redacts,
// so that an export of that stream includes the redaction.
using domain::kRedactsPositionKey;
using domain::kRedactsStreamKey;

// Which events an export holds in full.
struct ExportScope {
  // Empty: every stream. Else this stream, and the redactions of its events.
  std::string stream;
  // Inclusive bounds on recorded_at.
  std::optional<absl::Time> from;
  std::optional<absl::Time> to;

  bool Contains(const v1::RecordedEvent& event) const;
  bool ContainsTime(absl::Time recorded_at) const;
  nlohmann::ordered_json ToJson() const;
  static absl::StatusOr<ExportScope> FromJson(const nlohmann::json& json);
  // "stream area-3.1.1, recorded from ... to ...", for people.
  std::string Describe() const;
};

enum class ExportFormat { kJsonLines, kCsv };

// Writes an export as its events arrive. Not thread-safe.
// Who redacted an event, when and why: the redaction event's facts.
struct RedactionFacts {
  uint64_t position = 0;
  std::string actor;
  std::string recorded_at;  // RFC 3339, as `recorded_at` of events
  std::string reason;
};

class ExportWriter {
 public:
  ExportWriter(std::ostream& out, ExportFormat format, ExportScope scope);

  // The redactions of the log, by the position they redact, so a redacted
  // event's line says who, when and why.
  void SetRedactions(std::map<uint64_t, RedactionFacts> redactions) {
    redactions_ = std::move(redactions);
  }
  bool KnowsRedactionOf(uint64_t position) const {
    return redactions_.contains(position);
  }

  // The export starts at `first_position`; `previous_hash` (32 bytes) is
  // the chain hash before it.
  void Begin(uint64_t first_position, absl::string_view previous_hash);
  // The next position: in full when in scope, else as a link.
  void Add(const v1::RecordedEvent& event);
  // The signed digest of the last position added.
  void Finish(const v1::Digest& digest);

  uint64_t events() const { return events_; }
  uint64_t links() const { return links_; }

 private:
  void Write(const nlohmann::ordered_json& record);

  std::ostream& out_;
  const ExportFormat format_;
  const ExportScope scope_;
  std::map<uint64_t, RedactionFacts> redactions_;
  uint64_t events_ = 0;
  uint64_t links_ = 0;
};

struct ExportVerdict {
  ExportScope scope;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t events = 0;
  uint64_t links = 0;
  v1::Digest digest;
  bool key_pinned = false;
  // The export reaches the log's head as it was when the digest was signed
  // (digest.log_head()); else, with an open scope, it covers the log up to
  // last_position, the log having grown while it was read.
  bool reaches_head = false;
  // The redacted events in full, by position, with their redaction.
  std::map<uint64_t, RedactionFacts> redactions;
  // Events whose metadata was redacted by a redaction after the export's
  // last position, so the file does not hold the record that binds what is
  // left of their headers (possible only when it does not reach the head).
  std::vector<uint64_t> unbound_headers;
};

// The facts of a PayloadRedacted event (admin.proto) as the log holds it:
// nullopt for any other event.
std::optional<RedactionFacts> RedactionFactsOf(const v1::RecordedEvent& event);

// Checks an export (either format) offline: its form, every event's readable
// fields against its bytes, the chain from previous_hash to the digest, the
// digest's signature (by `pinned_key`, the raw Ed25519 key, when given),
// that nothing in scope is left out, and the scope's bounds.
// kInvalidArgument: not an export at all. kDataLoss: changed or incomplete,
// naming the line and what is wrong.
absl::StatusOr<ExportVerdict> VerifyExport(
    absl::string_view text, const std::optional<std::string>& pinned_key);

}  // namespace plantrail::cli

#endif  // PLANTRAIL_CLIENTS_CLI_AUDIT_EXPORT_H_
