// Standard Webhooks 1.0 signatures (https://www.standardwebhooks.com): what
// a receiver checks with the library it already has. A secret is
// "whsec_" + base64 of 32 random bytes; a request carries `webhook-id`,
// `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
// space-separated list of "v1,<base64 HMAC-SHA256 of id.timestamp.body>",
// one per secret in force (two while a secret is being rotated).
//
// Pure functions but for GenerateSecret (the CSPRNG); thread-safe.
#ifndef PLANTRAIL_WEBHOOKS_SIGNATURE_H_
#define PLANTRAIL_WEBHOOKS_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace plantrail::webhooks {

// A new secret, "whsec_" + base64 of 32 bytes from OpenSSL's CSPRNG.
absl::StatusOr<std::string> GenerateSecret();

// The key bytes of a secret ("whsec_..."); INVALID_ARGUMENT naming `field`
// for anything else.
absl::StatusOr<std::string> SecretKey(absl::string_view field,
                                      absl::string_view secret);

// "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>".
std::string Sign(absl::string_view key, absl::string_view id, int64_t timestamp,
                 absl::string_view body);

// The `webhook-signature` header: one signature per key, in order.
std::string SignatureHeader(const std::vector<std::string>& keys,
                            absl::string_view id, int64_t timestamp,
                            absl::string_view body);

// A receiver's check: some signature of `header` is `key`'s for the
// request, and `timestamp` is within `tolerance_seconds` of `now` (replays
// of old requests are refused). PERMISSION_DENIED saying which failed.
absl::Status Verify(absl::string_view key, absl::string_view id,
                    int64_t timestamp, absl::string_view body,
                    absl::string_view header, int64_t now,
                    int64_t tolerance_seconds = 300);

}  // namespace plantrail::webhooks

#endif  // PLANTRAIL_WEBHOOKS_SIGNATURE_H_
