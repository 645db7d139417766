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
//
// A cursor's owner is the rest of its value (a principal's name; empty for
// none, and absent in what versions before owners wrote, which read the
// first 8 bytes only).
//
// Stream ids never contain 0x00 (limits.h), so the keys of one stream are
// contiguous in `streams`. `event_ids` remembers which append an event came
// in, so an idempotent retry can be told from a partial reuse of ids.
//
// A record in `events`:
//   record       := format:u8 flags:u8 header_len:u32 header
//                   payload_hash:32 hash:32 payload_len:u32 payload
//   header       := position:u64 stream_version:u64 recorded_at_us:i64
//                   event_id:16 str(stream_id) str(type) str(content_type)
//                   metadata_count:u32 (str(key) str(value))*
//   str          := len:u32 byte*
//   format       := 1
//   flags        := bit 0 set: payload redacted (reserved for lawful
//                   disposal; the payload is a tombstone, payload_hash is
//                   the original's). Other bits must be 0.
// Metadata entries are sorted by key and distinct, so one event has exactly
// one header encoding.
//
// The chain:
//   hash(n) = SHA-256(hash(n-1) || SHA-256(header(n)) || payload_hash(n))
//   payload_hash(n) = SHA-256(payload(n));  hash(0) = 32 zero bytes.
// Hashing the header and the payload apart lets a payload be redacted later
// while the chain still verifies. The flags byte is outside the chain.
#ifndef PLANTRAIL_EVENTSTORE_RECORD_FORMAT_H_
#define PLANTRAIL_EVENTSTORE_RECORD_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eventstore/event.h"

namespace plantrail::eventstore::record_format {

inline constexpr uint8_t kRecordFormat = 1;
inline constexpr uint32_t kStoreFormat = 1;
inline constexpr uint8_t kFlagRedacted = 0x01;

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
// `event.redacted` sets the redacted flag.
std::string EncodeRecord(const RecordedEvent& event);

// Decodes a record, checking its structure (not its hashes). Never reads
// out of bounds, whatever the bytes.
absl::StatusOr<RecordedEvent> DecodeRecord(absl::string_view bytes);

// A record split into its parts, viewing `record`'s bytes (which must
// outlive it). Checks the structure of the record, not of the header.
struct RecordView {
  uint8_t flags = 0;
  absl::string_view header;
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

}  // namespace plantrail::eventstore::record_format

#endif  // PLANTRAIL_EVENTSTORE_RECORD_FORMAT_H_
