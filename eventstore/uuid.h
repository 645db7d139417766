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

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_UUID_H_
