#include "services/page_token.h"

#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace plantrail::services {
namespace {

constexpr char kVersion[] = "pt1";

// FNV-1a over the filters' deterministic encoding: the same filters give
// the same fingerprint in every process and after a restart (absl::Hash is
// seeded per process).
std::string FiltersFingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> filters(request.New());
  filters->CopyFrom(request);
  const google::protobuf::Reflection& reflection = *filters->GetReflection();
  for (const char* paging : {"page_token", "page_size", "min_position"}) {
    if (const google::protobuf::FieldDescriptor* field =
            filters->GetDescriptor()->FindFieldByName(paging)) {
      reflection.ClearField(filters.get(), field);
    }
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    filters->SerializeToCodedStream(&coded);
  }
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return absl::StrCat(absl::Hex(hash, absl::kZeroPad16));
}

absl::Status NotOurs() {
  return absl::InvalidArgumentError(
      "page_token: not a token this server issued for this listing; start "
      "again without one");
}

}  // namespace

std::string EncodePageToken(absl::string_view listing,
                            const google::protobuf::Message& filters,
                            const PageCursor& cursor) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kVersion, "\n", listing, "\n", FiltersFingerprint(filters),
                   "\n", cursor.snapshot, "\n", cursor.now_micros, "\n",
                   cursor.offset, "\n", cursor.after));
}

absl::StatusOr<std::optional<PageCursor>> DecodePageToken(
    absl::string_view listing, const google::protobuf::Message& filters,
    absl::string_view token) {
  if (token.empty()) return std::nullopt;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return NotOurs();
  // The last part, `after`, is a key, which holds no line break.
  std::vector<absl::string_view> parts = absl::StrSplit(raw, '\n');
  PageCursor cursor;
  if (parts.size() != 7 || parts[0] != kVersion || parts[1] != listing ||
      !absl::SimpleAtoi(parts[3], &cursor.snapshot) ||
      !absl::SimpleAtoi(parts[4], &cursor.now_micros) ||
      !absl::SimpleAtoi(parts[5], &cursor.offset)) {
    return NotOurs();
  }
  if (parts[2] != FiltersFingerprint(filters)) {
    return absl::InvalidArgumentError(
        "page_token: was issued for other filters (or another order); a "
        "listing's pages keep the filters of its first page, so start again "
        "without a token");
  }
  cursor.after = std::string(parts[6]);
  return cursor;
}

uint32_t PageSizeOf(uint32_t requested, uint32_t default_size,
                    uint32_t max_size) {
  if (requested == 0) return default_size;
  return requested < max_size ? requested : max_size;
}

}  // namespace plantrail::services
