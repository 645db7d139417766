#include "eventstore/record_format.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "eventstore/uuid.h"

namespace plantrail::eventstore::record_format {
namespace {

// OpenSSL 3's one-shot SHA256() looks the algorithm up (EVP_MD_fetch) and
// allocates a context on every call, which cost more than the hashing of
// an event's few hundred bytes: the algorithm is fetched once, and each
// thread keeps its context.
Hash Sha256Of(const void* data, size_t size) {
  static const EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Context context;
  Hash out;
  unsigned int size_out = 0;
  // Only fails when OpenSSL cannot allocate: a chain hash that might be
  // wrong is worse than stopping.
  if (kSha256 == nullptr || context.ctx == nullptr ||
      EVP_DigestInit_ex2(context.ctx, kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.ctx, data, size) != 1 ||
      EVP_DigestFinal_ex(context.ctx, out.data(), &size_out) != 1 ||
      size_out != out.size()) {
    std::abort();
  }
  return out;
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt record: ", what));
}

void AppendString(std::string& out, absl::string_view value) {
  AppendU32(out, static_cast<uint32_t>(value.size()));
  out.append(value.data(), value.size());
}

bool ConsumeBytes(absl::string_view& in, size_t n, absl::string_view& out) {
  if (in.size() < n) return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

bool ConsumeString(absl::string_view& in, std::string& out) {
  uint32_t size;
  absl::string_view bytes;
  if (!ConsumeU32(in, size) || !ConsumeBytes(in, size, bytes)) return false;
  out.assign(bytes.data(), bytes.size());
  return true;
}

bool ConsumeHash(absl::string_view& in, Hash& out) {
  absl::string_view bytes;
  if (!ConsumeBytes(in, out.size(), bytes)) return false;
  std::memcpy(out.data(), bytes.data(), out.size());
  return true;
}

absl::Status DecodeHeaderInto(absl::string_view in, RecordedEvent& event) {
  uint64_t recorded_at_us;
  absl::string_view id_bytes;
  if (!ConsumeU64(in, event.position) ||
      !ConsumeU64(in, event.stream_version) ||
      !ConsumeU64(in, recorded_at_us) || !ConsumeBytes(in, 16, id_bytes) ||
      !ConsumeString(in, event.stream_id) || !ConsumeString(in, event.type) ||
      !ConsumeString(in, event.content_type)) {
    return Corrupt("header is truncated");
  }
  Uuid id;
  std::memcpy(id.data(), id_bytes.data(), id.size());
  event.event_id = FormatUuid(id);
  // The years 1 to 9999, what a protobuf Timestamp holds: the store stamps
  // events with its clock, so a time outside them is damage, and passing it
  // on would abort whatever converts it (protobuf CHECKs the range).
  constexpr int64_t kFirstMicros = -62135596800LL * 1000000;
  constexpr int64_t kLastMicros = 253402300799LL * 1000000 + 999999;
  const int64_t recorded_at = static_cast<int64_t>(recorded_at_us);
  if (recorded_at < kFirstMicros || recorded_at > kLastMicros) {
    return Corrupt("recorded_at is outside the years 1 to 9999");
  }
  event.recorded_at = absl::FromUnixMicros(recorded_at);
  uint32_t count;
  if (!ConsumeU32(in, count)) return Corrupt("metadata count is truncated");
  for (uint32_t i = 0; i < count; ++i) {
    std::string key, value;
    if (!ConsumeString(in, key) || !ConsumeString(in, value)) {
      return Corrupt("metadata is truncated");
    }
    if (!event.metadata.empty() && key <= event.metadata.rbegin()->first) {
      return Corrupt("metadata keys are not sorted and distinct");
    }
    event.metadata.emplace_hint(event.metadata.end(), std::move(key),
                                std::move(value));
  }
  if (!in.empty()) return Corrupt("header has trailing bytes");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RecordView> ViewRecord(absl::string_view in) {
  if (in.size() < 2) return Corrupt("shorter than its format and flags");
  if (static_cast<uint8_t>(in[0]) != kRecordFormat) {
    return Corrupt(
        absl::StrCat("unknown record format ", static_cast<uint8_t>(in[0])));
  }
  RecordView parts;
  parts.flags = static_cast<uint8_t>(in[1]);
  if ((parts.flags & ~(kFlagRedacted | kFlagHeaderRedacted)) != 0) {
    return Corrupt("unknown flags");
  }
  in.remove_prefix(2);
  uint32_t header_size, payload_size;
  if (!ConsumeU32(in, header_size) ||
      !ConsumeBytes(in, header_size, parts.header)) {
    return Corrupt("record is truncated");
  }
  if ((parts.flags & kFlagHeaderRedacted) != 0) {
    Hash header_hash;
    if (!ConsumeHash(in, header_hash)) return Corrupt("record is truncated");
    parts.header_hash = header_hash;
  }
  if (!ConsumeHash(in, parts.payload_hash) || !ConsumeHash(in, parts.hash) ||
      !ConsumeU32(in, payload_size) ||
      !ConsumeBytes(in, payload_size, parts.payload)) {
    return Corrupt("record is truncated");
  }
  if (!in.empty()) return Corrupt("record has trailing bytes");
  return parts;
}

void AppendU32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += static_cast<char>(value >> shift & 0xff);
  }
}

void AppendU64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out += static_cast<char>(value >> shift & 0xff);
  }
}

bool ConsumeU32(absl::string_view& in, uint32_t& value) {
  if (in.size() < 4) return false;
  value = 0;
  for (int i = 0; i < 4; ++i) value = value << 8 | static_cast<uint8_t>(in[i]);
  in.remove_prefix(4);
  return true;
}

bool ConsumeU64(absl::string_view& in, uint64_t& value) {
  if (in.size() < 8) return false;
  value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | static_cast<uint8_t>(in[i]);
  in.remove_prefix(8);
  return true;
}

std::string PositionKey(uint64_t position) {
  std::string key;
  AppendU64(key, position);
  return key;
}

std::string RewriteKey(uint64_t position) {
  std::string key = kRewriteKeyPrefix;
  AppendU64(key, position);
  return key;
}

std::string EncodePositions(const std::vector<uint64_t>& positions) {
  std::string value;
  for (uint64_t position : positions) AppendU64(value, position);
  return value;
}

absl::StatusOr<std::vector<uint64_t>> DecodePositions(absl::string_view value) {
  std::vector<uint64_t> positions;
  if (value.size() % 8 != 0) {
    return absl::DataLossError("corrupt rewrite entry");
  }
  uint64_t position;
  while (ConsumeU64(value, position)) positions.push_back(position);
  return positions;
}

absl::StatusOr<uint64_t> DecodePositionKey(absl::string_view key) {
  uint64_t position;
  if (key.size() != 8 || !ConsumeU64(key, position)) {
    return Corrupt("an events key is not 8 bytes");
  }
  return position;
}

std::string StreamKey(absl::string_view stream_id, uint64_t version) {
  std::string key(stream_id);
  key += '\0';
  AppendU64(key, version);
  return key;
}

std::string StreamKeyEnd(absl::string_view stream_id) {
  std::string key(stream_id);
  key += '\x01';
  return key;
}

std::string EncodeStreamHead(const StreamHead& head) {
  std::string value;
  AppendU64(value, head.version);
  AppendU64(value, head.last_position);
  return value;
}

absl::StatusOr<StreamHead> DecodeStreamHead(absl::string_view value) {
  StreamHead head;
  if (value.size() != 16 || !ConsumeU64(value, head.version) ||
      !ConsumeU64(value, head.last_position)) {
    return Corrupt("a stream head is not 16 bytes");
  }
  return head;
}

std::string EncodeEventIdEntry(const EventIdEntry& entry) {
  std::string value;
  AppendU64(value, entry.position);
  AppendU64(value, entry.append_first);
  AppendU32(value, entry.append_count);
  return value;
}

absl::StatusOr<EventIdEntry> DecodeEventIdEntry(absl::string_view value) {
  EventIdEntry entry;
  if (value.size() != 20 || !ConsumeU64(value, entry.position) ||
      !ConsumeU64(value, entry.append_first) ||
      !ConsumeU32(value, entry.append_count)) {
    return Corrupt("an event id entry is not 20 bytes");
  }
  return entry;
}

std::string EncodeHeader(const RecordedEvent& event) {
  std::string out;
  out.reserve(64 + event.stream_id.size() + event.type.size() +
              event.content_type.size());
  AppendU64(out, event.position);
  AppendU64(out, event.stream_version);
  AppendU64(out, static_cast<uint64_t>(absl::ToUnixMicros(event.recorded_at)));
  const absl::StatusOr<Uuid> id = ParseUuid(event.event_id);
  const Uuid bytes = id.ok() ? *id : Uuid{};
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  AppendString(out, event.stream_id);
  AppendString(out, event.type);
  AppendString(out, event.content_type);
  AppendU32(out, static_cast<uint32_t>(event.metadata.size()));
  for (const auto& [key, value] : event.metadata) {
    AppendString(out, key);
    AppendString(out, value);
  }
  return out;
}

std::string EncodeRecord(const RecordedEvent& event) {
  return EncodeRecord(event, EncodeHeader(event));
}

std::string EncodeRecord(const RecordedEvent& event, absl::string_view header) {
  std::string out;
  out.reserve(2 + 4 + header.size() + 96 + 4 + event.payload.size());
  out += static_cast<char>(kRecordFormat);
  out += static_cast<char>((event.redacted ? kFlagRedacted : 0) |
                           (event.header_hash ? kFlagHeaderRedacted : 0));
  AppendString(out, header);
  if (event.header_hash) {
    out.append(reinterpret_cast<const char*>(event.header_hash->data()), 32);
  }
  out.append(reinterpret_cast<const char*>(event.payload_hash.data()), 32);
  out.append(reinterpret_cast<const char*>(event.hash.data()), 32);
  AppendString(out, event.payload);
  return out;
}

absl::StatusOr<RecordedEvent> DecodeHeader(absl::string_view header) {
  RecordedEvent event;
  PLANTRAIL_RETURN_IF_ERROR(DecodeHeaderInto(header, event));
  return event;
}

absl::StatusOr<RecordedEvent> DecodeRecord(absl::string_view bytes) {
  PLANTRAIL_ASSIGN_OR_RETURN(RecordView parts, ViewRecord(bytes));
  RecordedEvent event;
  PLANTRAIL_RETURN_IF_ERROR(DecodeHeaderInto(parts.header, event));
  event.payload.assign(parts.payload.data(), parts.payload.size());
  event.payload_hash = parts.payload_hash;
  event.hash = parts.hash;
  event.redacted = (parts.flags & kFlagRedacted) != 0;
  event.header_hash = parts.header_hash;
  return event;
}

Hash Sha256(absl::string_view bytes) {
  return Sha256Of(bytes.data(), bytes.size());
}

std::string HexOf(const Hash& hash) {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(hash.data()), hash.size()));
}

Hash ChainHash(const Hash& previous, const Hash& header_hash,
               const Hash& payload_hash) {
  unsigned char input[96];
  std::memcpy(input, previous.data(), 32);
  std::memcpy(input + 32, header_hash.data(), 32);
  std::memcpy(input + 64, payload_hash.data(), 32);
  return Sha256Of(input, sizeof(input));
}

Hash HeaderHash(const RecordedEvent& event) {
  return event.header_hash ? *event.header_hash : Sha256(EncodeHeader(event));
}

Hash HeaderHash(const RecordView& record) {
  return record.header_hash ? *record.header_hash : Sha256(record.header);
}

std::string EncodeRedactedHeader(const RedactedHeader& redacted) {
  return absl::StrCat(redacted.position, ":", HexOf(redacted.hash));
}

absl::StatusOr<RedactedHeader> DecodeRedactedHeader(absl::string_view value) {
  RedactedHeader redacted;
  const size_t colon = value.find(':');
  const absl::string_view hex =
      colon == absl::string_view::npos ? "" : value.substr(colon + 1);
  const bool is_hex =
      hex.size() == 2 * redacted.hash.size() &&
      hex.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
  if (is_hex && absl::SimpleAtoi(value.substr(0, colon), &redacted.position)) {
    const std::string bytes = absl::HexStringToBytes(hex);
    std::memcpy(redacted.hash.data(), bytes.data(), redacted.hash.size());
    // One spelling only (no sign, leading zeros or upper-case digits).
    if (EncodeRedactedHeader(redacted) == value) return redacted;
  }
  return Corrupt(absl::StrCat("a ", kRedactedHeaderKey,
                              " value is not <position>:<64 hex digits>"));
}

}  // namespace plantrail::eventstore::record_format
