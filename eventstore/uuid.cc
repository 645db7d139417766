#include "eventstore/uuid.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "absl/status/status.h"

namespace plantrail::eventstore {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<Uuid> ParseUuid(absl::string_view text) {
  if (text.size() != 36) {
    return absl::InvalidArgumentError("a UUID has 36 characters");
  }
  Uuid uuid;
  size_t out = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') {
        return absl::InvalidArgumentError("a UUID has dashes at 9, 14, 19, 24");
      }
      ++i;
      continue;
    }
    const int high = HexValue(text[i]);
    const int low = HexValue(text[i + 1]);
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError("a UUID has hex digits only");
    }
    uuid[out++] = static_cast<uint8_t>(high << 4 | low);
    i += 2;
  }
  return uuid;
}

std::string FormatUuid(const Uuid& uuid) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kDigits[uuid[i] >> 4];
    text += kDigits[uuid[i] & 0xf];
  }
  return text;
}

Uuid NewRandomUuid() {
  Uuid uuid;
  // RAND_bytes only fails when the CSPRNG cannot be seeded; ids that might
  // collide are worse than stopping.
  if (RAND_bytes(uuid.data(), static_cast<int>(uuid.size())) != 1) {
    std::abort();
  }
  uuid[6] = (uuid[6] & 0x0f) | 0x40;  // version 4
  uuid[8] = (uuid[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return uuid;
}

}  // namespace plantrail::eventstore
