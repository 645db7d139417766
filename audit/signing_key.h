// The server's Ed25519 signing key, kept as two files in its data
// directory: the private key (PKCS#8 PEM, mode 0600, never leaves the
// machine but in a backup) and its public half (SubjectPublicKeyInfo PEM),
// which auditors pin.
//
// Thread safety: a SigningKey is immutable once loaded; Sign may be called
// from any thread concurrently (OpenSSL 3 keys are shareable for signing).
#ifndef PLANTRAIL_AUDIT_SIGNING_KEY_H_
#define PLANTRAIL_AUDIT_SIGNING_KEY_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace plantrail::audit {

class SigningKey {
 public:
  // Loads the private key at `private_path`, or, when there is none,
  // creates one there (0600, fsync'd, written to a temporary name and
  // renamed so a crash leaves no half key) and writes its public half to
  // `public_path`. Refuses a private key that others may read, the way ssh
  // does. kFailedPrecondition names the file and what is wrong with it.
  static absl::StatusOr<SigningKey> LoadOrCreate(
      const std::string& private_path, const std::string& public_path);

  // The raw 32-byte Ed25519 public key.
  const std::string& public_key() const { return public_key_; }
  // "ed25519:" and 16 hex digits (KeyIdOf).
  const std::string& key_id() const { return key_id_; }

  // The 64-byte Ed25519 signature of `message`.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

 private:
  explicit SigningKey(std::shared_ptr<EVP_PKEY> key);

  std::shared_ptr<EVP_PKEY> key_;
  std::string public_key_;
  std::string key_id_;
};

// "ed25519:" and the first 16 hex digits of SHA-256(public_key).
std::string KeyIdOf(absl::string_view public_key);

// OK when `signature` is `public_key`'s Ed25519 signature of `message`;
// kInvalidArgument otherwise (a bad key, a bad signature).
absl::Status VerifySignature(absl::string_view public_key,
                             absl::string_view message,
                             absl::string_view signature);

// The raw public key of a PEM public key (signing.pub) or of a PEM private
// key; kInvalidArgument if it is neither or not Ed25519.
absl::StatusOr<std::string> PublicKeyFromPem(absl::string_view pem);

}  // namespace plantrail::audit

#endif  // PLANTRAIL_AUDIT_SIGNING_KEY_H_
