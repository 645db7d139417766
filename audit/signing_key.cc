#include "audit/signing_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace plantrail::audit {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

absl::StatusOr<std::string> RawPublicKey(EVP_PKEY* key) {
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("the key is not an Ed25519 key");
  }
  std::string raw(32, '\0');
  size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(
          key, reinterpret_cast<unsigned char*>(raw.data()), &size) != 1 ||
      size != raw.size()) {
    return absl::InternalError("cannot read the Ed25519 public key");
  }
  return raw;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `bytes` to `path` with `mode`, fsync'd, via a temporary name, so a
// crash leaves either no file or the whole one.
absl::Status WriteFileDurably(const std::string& path, absl::string_view bytes,
                              mode_t mode) {
  const std::string temporary = path + ".tmp";
  const int fd =
      open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  bool written = fd >= 0 && fchmod(fd, mode) == 0 &&
                 write(fd, bytes.data(), bytes.size()) ==
                     static_cast<ssize_t>(bytes.size()) &&
                 fsync(fd) == 0;
  if (fd >= 0) written = close(fd) == 0 && written;
  written = written && rename(temporary.c_str(), path.c_str()) == 0;
  if (written) {
    const std::string directory =
        std::filesystem::path(path).parent_path().string();
    const int dir_fd =
        open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_CLOEXEC);
    written = dir_fd >= 0 && fsync(dir_fd) == 0;
    if (dir_fd >= 0) close(dir_fd);
  }
  if (!written) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PemOf(EVP_PKEY* key, bool private_half) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  const int ok = private_half
                     ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr,
                                                nullptr, 0, nullptr, nullptr)
                     : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1) return absl::InternalError("cannot encode the signing key");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

SigningKey::SigningKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {
  public_key_ = RawPublicKey(key_.get()).value_or("");
  key_id_ = KeyIdOf(public_key_);
}

absl::StatusOr<SigningKey> SigningKey::LoadOrCreate(
    const std::string& private_path, const std::string& public_path) {
  struct stat info;
  if (stat(private_path.c_str(), &info) == 0) {
    if ((info.st_mode & 077) != 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the signing key is readable by others (mode %04o); "
          "chmod 600 it",
          private_path, info.st_mode & 07777));
    }
    absl::StatusOr<std::string> pem = ReadFile(private_path);
    if (!pem.ok()) return pem.status();
    BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    EVP_PKEY* key =
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
      EVP_PKEY_free(key);
      return absl::FailedPreconditionError(
          absl::StrCat(private_path, ": not an Ed25519 private key in PEM"));
    }
    std::shared_ptr<EVP_PKEY> owned = Own(key);
    // The public half is only a convenience copy; put it back if it went.
    if (!std::filesystem::exists(public_path)) {
      absl::StatusOr<std::string> public_pem = PemOf(key, false);
      if (!public_pem.ok()) return public_pem.status();
      if (absl::Status status =
              WriteFileDurably(public_path, *public_pem, 0644);
          !status.ok()) {
        return status;
      }
    }
    return SigningKey(std::move(owned));
  }
  if (errno != ENOENT) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot stat ", private_path, ": ", std::strerror(errno)));
  }
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr) {
    return absl::InternalError("cannot generate an Ed25519 key");
  }
  std::shared_ptr<EVP_PKEY> key = Own(raw);
  absl::StatusOr<std::string> private_pem = PemOf(key.get(), true);
  absl::StatusOr<std::string> public_pem = PemOf(key.get(), false);
  if (!private_pem.ok()) return private_pem.status();
  if (!public_pem.ok()) return public_pem.status();
  // The public half first: a crash between the two leaves no private key,
  // and the next start makes a new pair and overwrites it.
  if (absl::Status status = WriteFileDurably(public_path, *public_pem, 0644);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = WriteFileDurably(private_path, *private_pem, 0600);
      !status.ok()) {
    return status;
  }
  return SigningKey(std::move(key));
}

absl::StatusOr<std::string> SigningKey::Sign(absl::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signature(64, '\0');
  size_t size = signature.size();
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) !=
          1 ||
      EVP_DigestSign(ctx.get(),
                     reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    return absl::InternalError("cannot sign with the Ed25519 key");
  }
  signature.resize(size);
  return signature;
}

std::string KeyIdOf(absl::string_view public_key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(public_key.data()),
         public_key.size(), digest);
  return absl::StrCat("ed25519:",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(digest), 8)));
}

absl::Status VerifySignature(absl::string_view public_key,
                             absl::string_view message,
                             absl::string_view signature) {
  if (public_key.size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "public_key: an Ed25519 key has 32 bytes, not ", public_key.size()));
  }
  std::shared_ptr<EVP_PKEY> key = Own(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (key == nullptr || ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) !=
          1) {
    return absl::InvalidArgumentError("public_key: not a valid Ed25519 key");
  }
  if (EVP_DigestVerify(ctx.get(),
                       reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature: not a valid signature of this digest by key ",
                     KeyIdOf(public_key)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PublicKeyFromPem(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError("not a PEM public or private key");
  }
  std::shared_ptr<EVP_PKEY> owned = Own(key);
  return RawPublicKey(key);
}

}  // namespace plantrail::audit
