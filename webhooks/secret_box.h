// Webhook signing secrets at rest. The server must keep each endpoint's
// secret to sign with it (unlike a password, it cannot keep only a hash),
// so it keeps it sealed with a key of its own, held apart from the data:
// a copy of the data alone (a backup, a replica) then reveals no secret.
//
// AES-256-GCM (OpenSSL EVP): a sealed secret is a 12-byte random nonce,
// the ciphertext and a 16-byte tag. Random nonces are safe for about 2^32
// seals under one key, far more than a server has secrets.
#ifndef PLANTRAIL_WEBHOOKS_SECRET_BOX_H_
#define PLANTRAIL_WEBHOOKS_SECRET_BOX_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace plantrail::webhooks {

// Seals and opens secrets under one key. Thread-safe after construction
// (immutable). A box wipes its key from memory when destroyed (a best
// effort: the strings it came in are the caller's to wipe).
class SecretBox {
 public:
  static constexpr size_t kKeyBytes = 32;
  static constexpr size_t kNonceBytes = 12;
  static constexpr size_t kTagBytes = 16;

  // INVALID_ARGUMENT unless `key` is kKeyBytes bytes (the message gives
  // the length, never the bytes).
  static absl::StatusOr<SecretBox> FromKey(absl::string_view key);

  // kKeyBytes fresh bytes from OpenSSL's CSPRNG (RAND_bytes); INTERNAL
  // when it has none to give.
  static absl::StatusOr<std::string> GenerateKey();

  SecretBox(const SecretBox& other) = default;
  SecretBox& operator=(const SecretBox& other) = default;
  SecretBox(SecretBox&& other) = default;
  SecretBox& operator=(SecretBox&& other) = default;
  ~SecretBox();

  // Names the key without revealing it, so that a sealed secret can say
  // which key opens it (for a key rotation): the hex of the first 8 bytes
  // of SHA-256("plantrail webhook secret key" + key), 16 characters.
  const std::string& key_id() const { return key_id_; }

  // nonce (12 random bytes) || ciphertext || tag (16 bytes): the plaintext's
  // size plus 28 bytes. `context` is authenticated but not stored (GCM's
  // additional data): the endpoint id, say, so that a sealed secret copied
  // to another endpoint does not open there. INTERNAL when OpenSSL fails.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext,
                                   absl::string_view context) const;

  // The plaintext of Seal(plaintext, context). DATA_LOSS when it does not
  // open: another key, another context, altered or truncated bytes (GCM
  // cannot tell which), with a message that holds none of the secret.
  absl::StatusOr<std::string> Open(absl::string_view sealed,
                                   absl::string_view context) const;

 private:
  SecretBox(std::string key, std::string key_id)
      : key_(std::move(key)), key_id_(std::move(key_id)) {}

  std::string key_;
  std::string key_id_;
};

}  // namespace plantrail::webhooks

#endif  // PLANTRAIL_WEBHOOKS_SECRET_BOX_H_
