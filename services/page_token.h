// Page tokens of the listings: opaque to clients, tied to the listing and
// to the filters they were issued for, and carrying what the next page
// needs to go on from the first page's view, so that paging holds while
// others write:
//  - the snapshot: the log position the first page was read at (a listing
//    shows what existed then, e.g. ListAreas folds areas changed since
//    back to it and leaves out areas registered since);
//  - the first page's clock, for filters relative to now (overdue, stale);
//  - where the next page starts: an offset into that fixed view, or the
//    last key given, for listings ordered by an immutable key.
// A token is refused (INVALID_ARGUMENT, naming page_token) when it is not
// one of this listing's, or comes with other filters than its first page.
//
// Thread safety: plain functions of their arguments.
#ifndef PLANTRAIL_SERVICES_PAGE_TOKEN_H_
#define PLANTRAIL_SERVICES_PAGE_TOKEN_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace plantrail::services {

struct PageCursor {
  uint64_t snapshot = 0;
  int64_t now_micros = 0;
  uint64_t offset = 0;
  std::string after;
};

// `filters`: the request as sent, page fields and all; the fields named
// page_token, page_size and min_position do not count as filters.
std::string EncodePageToken(absl::string_view listing,
                            const google::protobuf::Message& filters,
                            const PageCursor& cursor);

// nullopt for an empty token: the first page.
absl::StatusOr<std::optional<PageCursor>> DecodePageToken(
    absl::string_view listing, const google::protobuf::Message& filters,
    absl::string_view token);

// Every listing's page: 100 unless asked, at most 1,000.
inline constexpr uint32_t kDefaultPageSize = 100;
inline constexpr uint32_t kMaxPageSize = 1000;

// The page size to use: `default_size` for 0, at most `max_size` (a
// larger request gets the largest page, not an error).
uint32_t PageSizeOf(uint32_t requested,
                    uint32_t default_size = kDefaultPageSize,
                    uint32_t max_size = kMaxPageSize);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PAGE_TOKEN_H_
