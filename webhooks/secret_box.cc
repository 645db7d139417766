#include "webhooks/secret_box.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace plantrail::webhooks {
namespace {

constexpr absl::string_view kKeyIdPrefix = "plantrail webhook secret key";
constexpr size_t kKeyIdBytes = 8;

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const {
    EVP_CIPHER_CTX_free(context);
  }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

const unsigned char* Bytes(absl::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

unsigned char* MutableBytes(std::string& text) {
  return reinterpret_cast<unsigned char*>(text.data());
}

// EVP lengths are ints.
bool FitsInt(absl::string_view text) {
  return text.size() <= static_cast<size_t>(INT_MAX);
}

absl::Status SealError(absl::string_view step) {
  return absl::InternalError(
      absl::StrCat("sealing a secret failed in OpenSSL (", step, ")"));
}

// One message for every way a sealed secret fails to open: GCM cannot tell
// them apart, and a message that did could help an attacker.
absl::Status OpenError() {
  return absl::DataLossError(
      "a sealed secret does not open: another key or endpoint sealed it, or "
      "its bytes were altered");
}

}  // namespace

absl::StatusOr<SecretBox> SecretBox::FromKey(absl::string_view key) {
  if (key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a secret box key is ", kKeyBytes, " bytes, not ", key.size()));
  }
  std::string named = absl::StrCat(kKeyIdPrefix, key);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  const int digested = EVP_Digest(named.data(), named.size(), digest,
                                  &digest_length, EVP_sha256(), nullptr);
  OPENSSL_cleanse(named.data(), named.size());
  if (digested != 1 || digest_length < kKeyIdBytes) {
    return absl::InternalError("SHA-256 failed in OpenSSL (key id)");
  }
  return SecretBox(std::string(key),
                   absl::BytesToHexString(absl::string_view(
                       reinterpret_cast<const char*>(digest), kKeyIdBytes)));
}

absl::StatusOr<std::string> SecretBox::GenerateKey() {
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(MutableBytes(key), static_cast<int>(key.size())) != 1) {
    return absl::InternalError("the CSPRNG gave no bytes for a key");
  }
  return key;
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

absl::StatusOr<std::string> SecretBox::Seal(absl::string_view plaintext,
                                            absl::string_view context) const {
  // The sealed size, too, is to fit in an int.
  if (!FitsInt(context) || plaintext.size() > static_cast<size_t>(INT_MAX) -
                                                  kNonceBytes - kTagBytes) {
    return absl::InvalidArgumentError("a secret to seal is too large");
  }
  std::string sealed(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  unsigned char* nonce = MutableBytes(sealed);
  unsigned char* ciphertext = nonce + kNonceBytes;
  unsigned char* tag = ciphertext + plaintext.size();
  if (RAND_bytes(nonce, static_cast<int>(kNonceBytes)) != 1) {
    return absl::InternalError("the CSPRNG gave no bytes for a nonce");
  }

  const CipherContext cipher(EVP_CIPHER_CTX_new());
  if (cipher == nullptr) return SealError("EVP_CIPHER_CTX_new");
  // 12 bytes is GCM's default nonce length, so no EVP_CTRL_GCM_SET_IVLEN.
  if (EVP_EncryptInit_ex(cipher.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                         nonce) != 1) {
    return SealError("EVP_EncryptInit_ex");
  }
  int length = 0;
  if (!context.empty() &&
      EVP_EncryptUpdate(cipher.get(), nullptr, &length, Bytes(context),
                        static_cast<int>(context.size())) != 1) {
    return SealError("EVP_EncryptUpdate, context");
  }
  if (EVP_EncryptUpdate(cipher.get(), ciphertext, &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      static_cast<size_t>(length) != plaintext.size()) {
    return SealError("EVP_EncryptUpdate");
  }
  // GCM is a stream mode: Final writes nothing, but must be called.
  if (EVP_EncryptFinal_ex(cipher.get(), ciphertext + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_GET_TAG,
                          static_cast<int>(kTagBytes), tag) != 1) {
    return SealError("EVP_EncryptFinal_ex");
  }
  return sealed;
}

absl::StatusOr<std::string> SecretBox::Open(absl::string_view sealed,
                                            absl::string_view context) const {
  if (sealed.size() < kNonceBytes + kTagBytes || !FitsInt(sealed) ||
      !FitsInt(context)) {
    return OpenError();
  }
  const unsigned char* nonce = Bytes(sealed);
  const size_t ciphertext_size = sealed.size() - kNonceBytes - kTagBytes;
  const unsigned char* ciphertext = nonce + kNonceBytes;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; it only reads.
  std::string tag(sealed.substr(kNonceBytes + ciphertext_size));

  const CipherContext cipher(EVP_CIPHER_CTX_new());
  if (cipher == nullptr) {
    return absl::InternalError("OpenSSL failed (EVP_CIPHER_CTX_new)");
  }
  if (EVP_DecryptInit_ex(cipher.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                         nonce) != 1) {
    return absl::InternalError("OpenSSL failed (EVP_DecryptInit_ex)");
  }
  int length = 0;
  if (!context.empty() &&
      EVP_DecryptUpdate(cipher.get(), nullptr, &length, Bytes(context),
                        static_cast<int>(context.size())) != 1) {
    return OpenError();
  }
  std::string plaintext(ciphertext_size, '\0');
  if (EVP_DecryptUpdate(cipher.get(), MutableBytes(plaintext), &length,
                        ciphertext, static_cast<int>(ciphertext_size)) != 1 ||
      static_cast<size_t>(length) != ciphertext_size ||
      EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_SET_TAG,
                          static_cast<int>(kTagBytes), tag.data()) != 1 ||
      // The tag is checked here; until it passes, the plaintext is not to
      // be trusted or kept.
      EVP_DecryptFinal_ex(cipher.get(), MutableBytes(plaintext) + length,
                          &length) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return OpenError();
  }
  return plaintext;
}

}  // namespace plantrail::webhooks
