#include "eventstore/uuid.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"

namespace plantrail::eventstore {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Random bytes from OpenSSL's CSPRNG, drawn a block at a time: each
// RAND_bytes call costs more in OpenSSL 3's locking and DRBG setup than the
// few bytes an id needs.
void FillRandom(uint8_t* out, size_t size) {
  struct Pool {
    uint8_t bytes[1024];
    size_t used = sizeof(bytes);
  };
  thread_local Pool pool;
  while (size > 0) {
    if (pool.used == sizeof(pool.bytes)) {
      // RAND_bytes only fails when the CSPRNG cannot be seeded; ids that
      // might collide are worse than stopping.
      if (RAND_bytes(pool.bytes, sizeof(pool.bytes)) != 1) std::abort();
      pool.used = 0;
    }
    const size_t n = std::min(size, sizeof(pool.bytes) - pool.used);
    std::memcpy(out, pool.bytes + pool.used, n);
    // What was handed out is not kept.
    std::memset(pool.bytes + pool.used, 0, n);
    pool.used += n;
    out += n;
    size -= n;
  }
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
  FillRandom(uuid.data(), uuid.size());
  uuid[6] = (uuid[6] & 0x0f) | 0x40;  // version 4
  uuid[8] = (uuid[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return uuid;
}

Uuid NewTimeOrderedUuid() {
  // The milliseconds shifted left by 12, plus the counter: one number that
  // only grows, so a compare-and-swap keeps ids unique and ordered.
  static std::atomic<uint64_t> last{0};
  const uint64_t now_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  const uint64_t now = now_ms << 12;
  uint64_t previous = last.load(std::memory_order_relaxed);
  uint64_t next = 0;
  do {
    next = now > previous ? now : previous + 1;
  } while (
      !last.compare_exchange_weak(previous, next, std::memory_order_relaxed));
  const uint64_t ms = next >> 12;
  const uint64_t counter = next & 0xfff;
  Uuid uuid;
  FillRandom(uuid.data() + 8, 8);
  for (int i = 0; i < 6; ++i) {
    uuid[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  }
  uuid[6] = static_cast<uint8_t>(0x70 | (counter >> 8));  // version 7
  uuid[7] = static_cast<uint8_t>(counter & 0xff);
  uuid[8] = (uuid[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return uuid;
}

}  // namespace plantrail::eventstore
