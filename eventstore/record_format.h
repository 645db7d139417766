// The bytes the log keeps in RocksDB. Stored events live forever, so this
// layout only grows: a new layout gets a new format byte, and the decoder
// keeps reading every older one.
//
// All integers are big-endian, so that keys sort numerically.
//
// Column families and their keys:
//   events        position:u64                   -> record
//   streams       stream_id 0x00 version:u64     -> position:u64
//   stream_heads  stream_id                      -> version:u64 position:u64
//   event_ids     event_id:16                    -> position:u64
//                                                   append_first:u64
//                                                   append_count:u32
//   meta          "format"                       -> u32 (kStoreFormat)
//                 "cursor/" name                 -> position:u64 owner
//                 "rewrite/" position:u64        -> position:u64*
//
// A cursor's owner is the rest of its value (a principal's name; empty for
// none, and absent in what versions before owners wrote, which read the
// first 8 bytes only).
//
// A rewrite entry names the earlier records that the commit of the record
// at its position rewrote (a redaction's), so that replication can ship
// them with it (see event_store.h, ReadStoredRecords). Redactions written
// before the entry existed have none; a copy made since holds their
// records as redacted already.
//
// Stream ids never contain 0x00 (limits.h), so the keys of one stream are
// contiguous in `streams`. `event_ids` remembers which append an event came
// in, so an idempotent retry can be told from a partial reuse of ids.
//
// A record in `events`:
//   record       := format:u8 flags:u8 header_len:u32 header
//                   [header_hash:32]            (only with flags bit 1)
//                   payload_hash:32 hash:32 payload_len:u32 payload
//   header       := position:u64 stream_version:u64 recorded_at_us:i64
//                   event_id:16 str(stream_id) str(type) str(content_type)
//                   metadata_count:u32 (str(key) str(value))*
//   str          := len:u32 byte*
//   format       := 1
//   flags        := bit 0 (0x01) set: payload redacted (reserved for lawful
//                   disposal; the payload is a tombstone, payload_hash is
//                   the original's).
//                   bit 1 (0x02) set: header redacted. A redaction cleared
//                   metadata values: each such value is now kRedactedValue,
//                   every key stays, and header_hash is SHA-256 of the
//                   header as appended. Nothing else of the header changes
//                   (position, version, time, id, stream, type, content
//                   type are structure, not personal data).
//                   Other bits must be 0.
// Metadata entries are sorted by key and distinct, so one event has exactly
// one header encoding. The layout only grew with bit 1: a record without
// it has exactly the bytes it had before, and decodes as before.
//
// The chain:
//   hash(n) = SHA-256(hash(n-1) || header_hash(n) || payload_hash(n))
//   header_hash(n) = the stored header_hash when bit 1 is set,
//                    else SHA-256(header(n))
//   payload_hash(n) = SHA-256(payload(n));  hash(0) = 32 zero bytes.
// Hashing the header and the payload apart lets a payload be redacted later
// while the chain still verifies; keeping the header's original hash does
// the same for its metadata. The flags byte is outside the chain. Which
// metadata a redaction clears is the caller's rule (services/redactor.h);
// the store only ever replaces values by kRedactedValue.
//
// The stored header_hash alone would leave what remains of a redacted
// header (its actor, type, time, ...) outside the chain. So the redaction
// binds it: the first event of the redaction's own record, appended in the
// same commit and chained like any, carries the metadata
//   kRedactedHeaderKey = decimal(position) ":" hex(SHA-256(header as left))
// and Verify requires exactly one such entry, later in the log, for every
// record with bit 1, matching its stored header. No append may set that key
// itself. A header is redacted once.
#ifndef PLANTRAIL_EVENTSTORE_RECORD_FORMAT_H_
#define PLANTRAIL_EVENTSTORE_RECORD_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eventstore/event.h"

namespace plantrail::eventstore::record_format {

inline constexpr uint8_t kRecordFormat = 1;
inline constexpr uint32_t kStoreFormat = 1;
inline constexpr uint8_t kFlagRedacted = 0x01;
inline constexpr uint8_t kFlagHeaderRedacted = 0x02;
// What a cleared metadata value becomes: a fixed text (not empty, so a
// reader tells a cleared value from one that was empty; fixed, so nothing
// of the old value's length is left).
inline constexpr char kRedactedValue[] = "[redacted]";
// The metadata key by which a redaction's record binds the header it left
// (see above); only the store sets it.
inline constexpr char kRedactedHeaderKey[] = "redacted_header";

inline constexpr char kEventsFamily[] = "events";
inline constexpr char kStreamsFamily[] = "streams";
inline constexpr char kStreamHeadsFamily[] = "stream_heads";
inline constexpr char kEventIdsFamily[] = "event_ids";
inline constexpr char kMetaFamily[] = "meta";
inline constexpr char kFormatKey[] = "format";
inline constexpr char kCursorKeyPrefix[] = "cursor/";

void AppendU32(std::string& out, uint32_t value);
void AppendU64(std::string& out, uint64_t value);
// Reads a big-endian integer from the front of `in` and drops it; false if
// `in` is too short.
bool ConsumeU32(absl::string_view& in, uint32_t& value);
bool ConsumeU64(absl::string_view& in, uint64_t& value);

std::string PositionKey(uint64_t position);
inline constexpr char kRewriteKeyPrefix[] = "rewrite/";
std::string RewriteKey(uint64_t position);
std::string EncodePositions(const std::vector<uint64_t>& positions);
absl::StatusOr<std::vector<uint64_t>> DecodePositions(absl::string_view value);
absl::StatusOr<uint64_t> DecodePositionKey(absl::string_view key);
std::string StreamKey(absl::string_view stream_id, uint64_t version);
// The smallest key after every key of `stream_id` in `streams`.
std::string StreamKeyEnd(absl::string_view stream_id);

struct StreamHead {
  uint64_t version = 0;
  uint64_t last_position = 0;
};
std::string EncodeStreamHead(const StreamHead& head);
absl::StatusOr<StreamHead> DecodeStreamHead(absl::string_view value);

// Where an event id was written, and the append it came in.
struct EventIdEntry {
  uint64_t position = 0;
  uint64_t append_first = 0;
  uint32_t append_count = 0;
};
std::string EncodeEventIdEntry(const EventIdEntry& entry);
absl::StatusOr<EventIdEntry> DecodeEventIdEntry(absl::string_view value);

// The header bytes of `event` (everything but payload and hashes).
// `event.event_id` must be canonical UUID text.
std::string EncodeHeader(const RecordedEvent& event);

// The header fields of an event (no payload, no hashes) from its header
// bytes; kDataLoss when they do not decode. Never reads out of bounds.
absl::StatusOr<RecordedEvent> DecodeHeader(absl::string_view header);

// The full record. `event.hash` and `event.payload_hash` must be set;
// `event.redacted` sets the redacted flag, `event.header_hash` the header
// redacted flag (and is stored).
std::string EncodeRecord(const RecordedEvent& event);
// The same, with `header` already encoded: EncodeHeader(event), which the
// caller has hashed (the log's append path encodes a header once).
std::string EncodeRecord(const RecordedEvent& event, absl::string_view header);

// Decodes a record, checking its structure (not its hashes). Never reads
// out of bounds, whatever the bytes.
absl::StatusOr<RecordedEvent> DecodeRecord(absl::string_view bytes);

// A record split into its parts, viewing `record`'s bytes (which must
// outlive it). Checks the structure of the record, not of the header.
struct RecordView {
  uint8_t flags = 0;
  absl::string_view header;
  // Only when the header was redacted (kFlagHeaderRedacted).
  std::optional<Hash> header_hash;
  Hash payload_hash{};
  Hash hash{};
  absl::string_view payload;
};
absl::StatusOr<RecordView> ViewRecord(absl::string_view record);

Hash Sha256(absl::string_view bytes);
// Lower-case hex, 64 digits.
std::string HexOf(const Hash& hash);
// SHA-256(previous || header_hash || payload_hash).
Hash ChainHash(const Hash& previous, const Hash& header_hash,
               const Hash& payload_hash);
// The header hash the chain takes for an event or a record: the stored one
// when its header was redacted, else SHA-256 of its header bytes.
Hash HeaderHash(const RecordedEvent& event);
Hash HeaderHash(const RecordView& record);

// A kRedactedHeaderKey value: the position of a redacted header and the
// SHA-256 of that header as the redaction left it.
struct RedactedHeader {
  uint64_t position = 0;
  Hash hash{};
};
std::string EncodeRedactedHeader(const RedactedHeader& redacted);
// kDataLoss unless `value` is exactly what EncodeRedactedHeader writes.
absl::StatusOr<RedactedHeader> DecodeRedactedHeader(absl::string_view value);

}  // namespace plantrail::eventstore::record_format

#endif  // PLANTRAIL_EVENTSTORE_RECORD_FORMAT_H_
