#include "services/page_token.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plantrail/v1/plan_queries.pb.h"

namespace plantrail::services {
namespace {

using ::testing::HasSubstr;

TEST(PageTokenTest, CarriesTheCursorOfItsListingAndFilters) {
  v1::ListAreasRequest request;
  request.set_support_area("3.4");
  request.set_page_size(5);
  const std::string token = EncodePageToken(
      "areas", request,
      {.snapshot = 42, .now_micros = -7, .offset = 10, .after = "a:b"});
  // The paging fields are no filters: another page size, a new
  // min_position and the token itself keep it valid.
  request.set_page_size(50);
  request.set_min_position(99);
  request.set_page_token(token);
  absl::StatusOr<std::optional<PageCursor>> cursor =
      DecodePageToken("areas", request, token);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  ASSERT_TRUE(cursor->has_value());
  EXPECT_EQ((*cursor)->snapshot, 42u);
  EXPECT_EQ((*cursor)->now_micros, -7);
  EXPECT_EQ((*cursor)->offset, 10u);
  EXPECT_EQ((*cursor)->after, "a:b");
  EXPECT_EQ(*DecodePageToken("areas", request, ""), std::nullopt);
}

TEST(PageTokenTest, RefusesOtherListingsOtherFiltersAndForgeries) {
  v1::ListAreasRequest request;
  request.set_support_area("3.4");
  const std::string token = EncodePageToken("areas", request, {.offset = 5});
  absl::Status other_listing =
      DecodePageToken("decisions", request, token).status();
  EXPECT_EQ(other_listing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other_listing.message(), HasSubstr("page_token"));
  request.set_support_area("2.1");
  absl::Status other_filters =
      DecodePageToken("areas", request, token).status();
  EXPECT_EQ(other_filters.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other_filters.message(), HasSubstr("other filters"));
  for (const char* forged : {"not a token!", "cHQx", "AAAA"}) {
    EXPECT_EQ(DecodePageToken("areas", request, forged).status().code(),
              absl::StatusCode::kInvalidArgument)
        << forged;
  }
}

TEST(PageTokenTest, APageSizeIsCappedNotRefused) {
  EXPECT_EQ(PageSizeOf(0, 100, 1000), 100u);
  EXPECT_EQ(PageSizeOf(7, 100, 1000), 7u);
  EXPECT_EQ(PageSizeOf(1000, 100, 1000), 1000u);
  EXPECT_EQ(PageSizeOf(5000, 100, 1000), 1000u);
}

}  // namespace
}  // namespace plantrail::services
