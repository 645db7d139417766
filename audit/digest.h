// Signed digests of the log: what the server signs, how it is written to a
// file an auditor keeps, and how anyone checks one with no server.
//
// The signed bytes are a short text (see SignedText), so any Ed25519 tool
// can check a digest; docs/auditors-guide.md shows how with openssl.
#ifndef PLANTRAIL_AUDIT_DIGEST_H_
#define PLANTRAIL_AUDIT_DIGEST_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/signing_key.h"
#include "eventstore/event.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/admin.pb.h"

namespace plantrail::audit {

inline constexpr char kDigestFormat[] = "plantrail-digest-v1";

// The text an Ed25519 signature of a digest covers:
//   plantrail-digest-v1\n
//   position: <decimal>\n
//   head_hash: <64 lower-case hex>\n
//   log_head: <decimal>\n
//   signed_at: <YYYY-MM-DDTHH:MM:SS.ffffffZ>\n
//   key_id: <key id>\n
std::string SignedText(const v1::Digest& digest);

// UTC at microseconds, as SignedText writes it.
std::string DigestTime(absl::Time time);

// A digest of `head_hash` at `position`, with the log's head then,
// signed now (microseconds) by `key`.
absl::StatusOr<v1::Digest> SignDigest(const SigningKey& key, uint64_t position,
                                      const eventstore::Hash& head_hash,
                                      uint64_t log_head, absl::Time now);

// OK when the digest is well formed, its key id is its public key's and its
// signature verifies. kInvalidArgument names the field that fails.
absl::Status CheckDigest(const v1::Digest& digest);

// The file `plantrail digest` writes: one JSON object with "format",
// "position", "head_hash" (hex), "log_head", "signed_at" (as signed), "key_id",
// "public_key" (hex) and "signature" (hex).
nlohmann::ordered_json DigestToJson(const v1::Digest& digest);
// kInvalidArgument naming the field that is missing or malformed. Checks
// the form, not the signature (CheckDigest).
absl::StatusOr<v1::Digest> DigestFromJson(const nlohmann::json& json);

// A 32-byte hash from proto bytes; kInvalidArgument naming `field` when it
// is not 32 bytes.
absl::StatusOr<eventstore::Hash> HashFromBytes(absl::string_view bytes,
                                               absl::string_view field);

}  // namespace plantrail::audit

#endif  // PLANTRAIL_AUDIT_DIGEST_H_
