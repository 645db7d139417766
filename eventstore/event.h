// The values that go into and come out of the event log.
//
// These are plain value types: copyable, movable, no invariants of their own
// beyond what the comments say. The store checks requests against the limits
// in limits.h before anything is written. This header includes only the
// standard library and Abseil: audit/ and the CLI (through record_format.h)
// use it without the store's RocksDB or metrics (the store's counters are in
// event_store_stats.h; tests/layers checks this).
#ifndef PLANTRAIL_EVENTSTORE_EVENT_H_
#define PLANTRAIL_EVENTSTORE_EVENT_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace plantrail::eventstore {

// Sorted by key, so that a record's bytes (and so its hash) do not depend on
// the order a client sent its metadata in.
using Metadata = std::map<std::string, std::string>;

// A SHA-256 digest.
using Hash = std::array<uint8_t, 32>;

// An event as a client proposes it.
struct ProposedEvent {
  // Canonical UUID text; empty means "generate one". Setting it makes the
  // append idempotent (see EventStore::AppendAsync).
  std::string event_id;
  std::string type;
  std::string payload;
  // Empty means "application/octet-stream".
  std::string content_type;
  Metadata metadata;
};

// The version a stream must be at for an append to go ahead.
class ExpectedVersion {
 public:
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };

  static ExpectedVersion Any() { return ExpectedVersion(Kind::kAny, 0); }
  static ExpectedVersion NoStream() {
    return ExpectedVersion(Kind::kNoStream, 0);
  }
  static ExpectedVersion StreamExists() {
    return ExpectedVersion(Kind::kStreamExists, 0);
  }
  // `version` must be >= 1; the store refuses 0 (use NoStream()).
  static ExpectedVersion Exact(uint64_t version) {
    return ExpectedVersion(Kind::kExact, version);
  }

  ExpectedVersion() : ExpectedVersion(Kind::kAny, 0) {}

  Kind kind() const { return kind_; }
  uint64_t version() const { return version_; }

  // Whether a stream whose last version is `current` (0: no stream) passes.
  bool Admits(uint64_t current) const;
  // "any", "no stream", "an existing stream" or "version N".
  std::string ToString() const;

 private:
  ExpectedVersion(Kind kind, uint64_t version)
      : kind_(kind), version_(version) {}

  Kind kind_;
  uint64_t version_;
};

struct AppendRequest {
  std::string stream_id;
  ExpectedVersion expected_version;
  std::vector<ProposedEvent> events;
};

// Where an append landed. Positions and versions are consecutive.
struct AppendResult {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t first_version = 0;
  uint64_t last_version = 0;
  // In request order, generated ids included.
  std::vector<std::string> event_ids;
  // True when this was an idempotent retry: nothing was written.
  bool replayed = false;
};

// An event as the log stores it.
struct RecordedEvent {
  std::string event_id;
  std::string stream_id;
  std::string type;
  std::string payload;
  std::string content_type;
  Metadata metadata;
  // UTC, microsecond precision, never earlier than the previous event's.
  absl::Time recorded_at;
  uint64_t position = 0;
  uint64_t stream_version = 0;
  Hash hash{};
  // SHA-256 of the payload as appended, also after a redaction.
  Hash payload_hash{};
  // The payload was redacted: `payload` is a tombstone (see
  // EventStore::Redact).
  bool redacted = false;
  // Set when a redaction cleared metadata values of the header: SHA-256 of
  // the header as it was appended, which the chain takes in place of
  // SHA-256 of the header as it is now (record_format.h). Unset otherwise.
  std::optional<Hash> header_hash;
};

// One payload a redaction replaces: its hash stays the original's, so the
// chain still verifies, and the record is flagged redacted.
struct PayloadRewrite {
  uint64_t position = 0;
  // What the payload becomes.
  std::string tombstone;
  // The payload the event must hold when the redaction commits (its
  // tombstone so far, for an event already redacted in part), or nullopt:
  // it must not be redacted yet. Two redactions computed from the same
  // payload cannot both commit, so neither brings back what the other took.
  std::optional<std::string> replaces;
};

// A redaction (lawful disposal, personal data): the one change the log ever
// makes to stored events.
struct RedactRequest {
  // The event whose payload goes.
  uint64_t position = 0;
  // What its payload becomes (see PayloadRewrite).
  std::string tombstone;
  std::optional<std::string> replaces;
  // Its metadata keys whose values go: each value becomes
  // record_format::kRedactedValue, the key stays. Every key must be in the
  // event's metadata. The record keeps the hash of the header as appended
  // (RecordedEvent::header_hash), so the chain still verifies, and the
  // first event of `record` gets the metadata
  // record_format::kRedactedHeaderKey, binding the header as the redaction
  // leaves it into the chain. A header is redacted once: clearing more of
  // an already redacted header is refused.
  std::vector<std::string> cleared_metadata;
  // Other events whose payloads are narrowed in the same commit: later
  // events that repeat text of the redacted payload (a revision's "before").
  std::vector<PayloadRewrite> also;
  // The redaction's own record, appended in the same commit: a redaction is
  // never made without an event that says who, when and why.
  AppendRequest record;
};

enum class ReadDirection { kForward, kBackward };

struct ReadStreamRequest {
  std::string stream_id;
  ReadDirection direction = ReadDirection::kForward;
  // 0: the first version (forward) or the last (backward).
  uint64_t from_version = 0;
  // 0: the default page size.
  uint32_t limit = 0;
};

struct StreamPage {
  std::vector<RecordedEvent> events;
  // Where the next page starts; 0 when this page reached the end.
  uint64_t next_version = 0;
  uint64_t last_version = 0;
};

struct ReadAllRequest {
  // 0 means 1.
  uint64_t from_position = 0;
  // 0: the default page size.
  uint32_t limit = 0;
};

struct LogPage {
  std::vector<RecordedEvent> events;
  // Where the next page starts; 0 when this page reached the head.
  uint64_t next_position = 0;
  uint64_t head_position = 0;
};

// A position and the chain hash the log had there, as an earlier, signed
// digest of the log states it (see audit/digest.h).
struct ChainAnchor {
  uint64_t position = 0;
  Hash hash{};
};

struct VerifyOptions {
  // Besides the chain's own consistency, require that the log still holds
  // this hash at this position: an attacker who rewrites an event and
  // recomputes every later hash leaves a consistent chain, but not this one.
  std::optional<ChainAnchor> anchor;
};

// The outcome of walking the hash chain. A broken chain is a finding, not an
// error: errors are for a walk that could not be done.
struct VerifyReport {
  bool ok = true;
  uint64_t events_checked = 0;
  uint64_t head_position = 0;
  Hash head_hash{};
  uint64_t first_broken_position = 0;
  std::string problem;
};

// A record as another store holds it, for replication: the bytes exactly as
// stored (record_format.h), where in its append it came, and what its commit
// rewrote before it.
struct StoredRecord {
  uint64_t position = 0;
  // The record's bytes as stored, so that a copy is byte-identical.
  std::string record;
  // The append the event came in (its event id's entry: the first position
  // of that append and how many events it had), so that idempotent retries
  // are told apart on the copy as on the original.
  uint64_t append_first = 0;
  uint32_t append_count = 0;
  // An earlier record as this record's commit left it (a redaction's
  // tombstone or cleared metadata), with its bytes as stored now.
  struct Rewritten {
    uint64_t position = 0;
    std::string record;
  };
  std::vector<Rewritten> rewritten;
};

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_EVENT_H_
