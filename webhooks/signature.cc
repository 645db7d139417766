#include "webhooks/signature.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace plantrail::webhooks {
namespace {

constexpr absl::string_view kSecretPrefix = "whsec_";
constexpr size_t kSecretBytes = 32;

// Equal strings in time that does not depend on where they differ.
bool SameBytes(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

absl::StatusOr<std::string> GenerateSecret() {
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("the CSPRNG gave no bytes for a secret");
  }
  std::string secret = absl::StrCat(
      kSecretPrefix, absl::Base64Escape(absl::string_view(
                         reinterpret_cast<char*>(bytes), sizeof(bytes))));
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return secret;
}

absl::StatusOr<std::string> SecretKey(absl::string_view field,
                                      absl::string_view secret) {
  std::string key;
  if (!absl::ConsumePrefix(&secret, kSecretPrefix) ||
      !absl::Base64Unescape(secret, &key) || key.size() < 24 ||
      key.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        field,
        ": a secret is \"whsec_\" and the base64 of 24 to 64 bytes "
        "[rule: webhook-secret]"));
  }
  return key;
}

std::string Sign(absl::string_view key, absl::string_view id, int64_t timestamp,
                 absl::string_view body) {
  const std::string signed_content =
      absl::StrCat(id, ".", timestamp, ".", body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_content.data()),
       signed_content.size(), mac, &length);
  return absl::StrCat("v1,", absl::Base64Escape(absl::string_view(
                                 reinterpret_cast<const char*>(mac), length)));
}

std::string SignatureHeader(const std::vector<std::string>& keys,
                            absl::string_view id, int64_t timestamp,
                            absl::string_view body) {
  std::vector<std::string> signatures;
  signatures.reserve(keys.size());
  for (const std::string& key : keys) {
    signatures.push_back(Sign(key, id, timestamp, body));
  }
  return absl::StrJoin(signatures, " ");
}

absl::Status Verify(absl::string_view key, absl::string_view id,
                    int64_t timestamp, absl::string_view body,
                    absl::string_view header, int64_t now,
                    int64_t tolerance_seconds) {
  if (std::llabs(now - timestamp) > tolerance_seconds) {
    return absl::PermissionDeniedError(
        absl::StrCat("webhook-timestamp: ", timestamp, " is more than ",
                     tolerance_seconds, " s from now (", now, ")"));
  }
  const std::string expected = Sign(key, id, timestamp, body);
  for (absl::string_view signature :
       absl::StrSplit(header, ' ', absl::SkipEmpty())) {
    if (SameBytes(signature, expected)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "webhook-signature: no signature is the key's for this request");
}

}  // namespace plantrail::webhooks
