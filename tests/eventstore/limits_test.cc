// Every input rule fails with INVALID_ARGUMENT naming the field and the rule,
// and writes nothing.
#include "eventstore/limits.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

namespace plantrail::eventstore {
namespace {

using ::plantrail::eventstore::testing::Event;
using ::plantrail::eventstore::testing::OpenStore;
using ::plantrail::eventstore::testing::Request;
using ::testing::HasSubstr;

struct BadAppend {
  std::string name;
  AppendRequest request;
  std::string field;
  std::string rule;
};

ProposedEvent WithMetadata(Metadata metadata) {
  ProposedEvent event = Event("A", "");
  event.metadata = std::move(metadata);
  return event;
}

std::vector<BadAppend> BadAppends() {
  const auto any = ExpectedVersion::Any();
  Metadata many;
  for (int i = 0; i < 65; ++i) many[absl::StrCat("k", i)] = "v";
  Metadata big;
  for (int i = 0; i < 20; ++i)
    big[absl::StrCat("k", i)] = std::string(1000, 'v');
  ProposedEvent odd_content = Event("A", "");
  odd_content.content_type = "text/plain\n";
  std::vector<ProposedEvent> too_many(1001, Event("A", ""));
  std::vector<ProposedEvent> too_heavy(9,
                                       Event("A", std::string(1 << 20, 'x')));
  return {
      {"empty stream id", Request("", any, {Event("A", "")}), "stream_id",
       "must not be empty"},
      {"long stream id", Request(std::string(129, 'a'), any, {Event("A", "")}),
       "stream_id", "at most 128"},
      {"stream id with space", Request("area 1", any, {Event("A", "")}),
       "stream_id", "[A-Za-z0-9][A-Za-z0-9._:@-]*"},
      {"stream id with NUL",
       Request(std::string("a\0b", 3), any, {Event("A", "")}), "stream_id",
       "\\x00"},
      {"stream id starting with dash", Request("-a", any, {Event("A", "")}),
       "stream_id", "must match"},
      {"no events", Request("s", any, {}), "events", "must not be empty"},
      {"too many events", Request("s", any, too_many), "events",
       "at most 1000 events"},
      {"empty type", Request("s", any, {Event("", "")}), "events[0].type",
       "must not be empty"},
      {"type with space", Request("s", any, {Event("A", ""), Event("B x", "")}),
       "events[1].type", "[A-Za-z][A-Za-z0-9._-]*"},
      {"type starting with digit", Request("s", any, {Event("1A", "")}),
       "events[0].type", "must match"},
      {"long type", Request("s", any, {Event(std::string(129, 'A'), "")}),
       "events[0].type", "at most 128"},
      {"bad event id", Request("s", any, {Event("A", "", "not-a-uuid")}),
       "events[0].event_id", "must be a UUID"},
      {"duplicate event id",
       Request("s", any,
               {Event("A", "", "11111111-1111-4111-8111-111111111111"),
                Event("A", "", "11111111-1111-4111-8111-111111111111")}),
       "events[1].event_id", "more than once"},
      {"payload too big",
       Request("s", any, {Event("A", std::string((1 << 20) + 1, 'x'))}),
       "events[0].payload", "at most 1048576 bytes"},
      {"append too big", Request("s", any, too_heavy), "events",
       "at most 8388608 bytes"},
      {"content type not printable", Request("s", any, {odd_content}),
       "events[0].content_type", "printable ASCII"},
      {"too many metadata entries", Request("s", any, {WithMetadata(many)}),
       "events[0].metadata", "at most 64 entries"},
      {"metadata key syntax",
       Request("s", any, {WithMetadata({{"a key", "v"}})}),
       "events[0].metadata[\"a key\"]", "[A-Za-z0-9._-]+"},
      {"metadata value size",
       Request("s", any, {WithMetadata({{"k", std::string(1025, 'v')}})}),
       "events[0].metadata[\"k\"]", "at most 1024 bytes"},
      {"metadata total size", Request("s", any, {WithMetadata(big)}),
       "events[0].metadata", "at most 16384 bytes"},
      {"exact version 0",
       Request("s", ExpectedVersion::Exact(0), {Event("A", "")}),
       "expected_version.exact", "at least 1"},
  };
}

TEST(LimitsTest, EachRuleNamesItsFieldAndWritesNothing) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  for (const BadAppend& bad : BadAppends()) {
    absl::Status status = store->Append(bad.request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad.name;
    EXPECT_THAT(status.message(), HasSubstr(bad.field + ": ")) << bad.name;
    EXPECT_THAT(status.message(), HasSubstr(bad.rule)) << bad.name;
  }
  EXPECT_EQ(store->HeadPosition(), 0u);
  EXPECT_EQ(store->GetStats().rejected_appends, BadAppends().size());
}

TEST(LimitsTest, AcceptsWhatIsJustInsideEveryLimit) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path(), Durability::kNoSync);
  ASSERT_NE(store, nullptr);
  Metadata full;
  for (int i = 0; i < 16; ++i) {
    full[absl::StrCat("key.", i)] = std::string(1024 - 8, 'v');
  }
  ProposedEvent heavy = Event(std::string(128, 'T'), std::string(1 << 20, 'x'));
  heavy.metadata = full;
  heavy.content_type = std::string(128, 'c');
  auto result = store->Append(
      Request(std::string(128, 's'), ExpectedVersion::Any(), {heavy}));
  EXPECT_TRUE(result.ok()) << result.status();
  std::vector<ProposedEvent> thousand(1000, Event("A", ""));
  EXPECT_TRUE(
      store->Append(Request("area-1:x@y_z.2", ExpectedVersion::Any(), thousand))
          .ok());
}

TEST(LimitsTest, PageSizesAreBounded) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->Append(Request("s", ExpectedVersion::Any(), {Event("A", "")}))
          .ok());
  absl::Status all = store->ReadAll({.limit = 1001}).status();
  EXPECT_EQ(all.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(all.message(), HasSubstr("limit: must be at most 1000"));
  absl::Status stream =
      store->ReadStream({.stream_id = "s", .limit = 5000}).status();
  EXPECT_EQ(stream.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(stream.message(), HasSubstr("limit: must be at most 1000"));
  absl::Status bad_stream = store->ReadStream({.stream_id = "a b"}).status();
  EXPECT_EQ(bad_stream.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_stream.message(), HasSubstr("stream_id: "));
  EXPECT_TRUE(store->ReadAll({.limit = 1000}).ok());
}

TEST(LimitsTest, LargePagesStopAtTheByteBudget) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path(), Durability::kNoSync);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store
                    ->Append(Request("s", ExpectedVersion::Any(),
                                     {Event("A", std::string(1 << 20, 'x'))}))
                    .ok());
  }
  auto page = store->ReadAll({.limit = 1000});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 2u);  // 2 MiB budget
  EXPECT_EQ(page->next_position, 3u);
  auto stream = store->ReadStream({.stream_id = "s"});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->events.size(), 2u);
  EXPECT_EQ(stream->next_version, 3u);
}

}  // namespace
}  // namespace plantrail::eventstore
