// Event ids: 128-bit UUIDs, stored as 16 bytes and shown in canonical
// lower-case 8-4-4-4-12 text.
#ifndef PLANTRAIL_EVENTSTORE_UUID_H_
#define PLANTRAIL_EVENTSTORE_UUID_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace plantrail::eventstore {

using Uuid = std::array<uint8_t, 16>;

// Accepts canonical text in either case; nothing else (no braces, no urn:).
absl::StatusOr<Uuid> ParseUuid(absl::string_view text);
std::string FormatUuid(const Uuid& uuid);
// A random (version 4) UUID from OpenSSL's CSPRNG. Thread-safe.
Uuid NewRandomUuid();
// A time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix milliseconds,
// a 12-bit counter within the millisecond, then 62 random bits from
// OpenSSL's CSPRNG. Ids made in one process increase strictly in the order
// they are made, across threads: the log gives them to the events it
// assigns ids to, so its id index takes them in (nearly) key order, which
// is what RocksDB's memtable and SST files are fast at, instead of at
// random places. When more than 4,096 ids are made in a millisecond, the
// timestamp runs ahead of the clock until it catches up (the RFC allows
// it). Thread-safe, lock-free.
Uuid NewTimeOrderedUuid();

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_UUID_H_
