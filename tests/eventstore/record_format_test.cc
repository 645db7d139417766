#include "eventstore/record_format.h"

#include <random>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "eventstore/uuid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::eventstore::record_format {
namespace {

RecordedEvent SampleEvent() {
  RecordedEvent event;
  event.event_id = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
  event.stream_id = "area-3.1.2";
  event.type = "ScheduleRevised";
  event.payload = R"({"end":"HT23"})";
  event.content_type = "application/json";
  event.metadata = {{"actor", "planner@kth"}, {"reason", "staffing"}};
  event.recorded_at = absl::FromUnixMicros(1'700'000'000'123'456);
  event.position = 42;
  event.stream_version = 7;
  event.payload_hash = Sha256(event.payload);
  event.hash =
      ChainHash(Hash{}, Sha256(EncodeHeader(event)), event.payload_hash);
  return event;
}

TEST(RecordFormatTest, RoundTripsEveryField) {
  const RecordedEvent event = SampleEvent();
  auto decoded = DecodeRecord(EncodeRecord(event));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->event_id, event.event_id);
  EXPECT_EQ(decoded->stream_id, event.stream_id);
  EXPECT_EQ(decoded->type, event.type);
  EXPECT_EQ(decoded->payload, event.payload);
  EXPECT_EQ(decoded->content_type, event.content_type);
  EXPECT_EQ(decoded->metadata, event.metadata);
  EXPECT_EQ(decoded->recorded_at, event.recorded_at);
  EXPECT_EQ(decoded->position, event.position);
  EXPECT_EQ(decoded->stream_version, event.stream_version);
  EXPECT_EQ(decoded->payload_hash, event.payload_hash);
  EXPECT_EQ(decoded->hash, event.hash);
}

TEST(RecordFormatTest, TheHeaderLayoutIsPinned) {
  // Stored events live forever: this pins the bytes the chain hashes, so a
  // change to the layout fails here before it breaks existing logs.
  RecordedEvent event;
  event.event_id = "00000000-0000-4000-8000-000000000001";
  event.stream_id = "s";
  event.type = "T";
  event.content_type = "c";
  event.metadata = {{"k", "v"}};
  event.recorded_at = absl::FromUnixMicros(2);
  event.position = 1;
  event.stream_version = 1;
  const std::string expected = std::string(
      "\0\0\0\0\0\0\0\1"                      // position
      "\0\0\0\0\0\0\0\1"                      // stream version
      "\0\0\0\0\0\0\0\2"                      // recorded at, microseconds
      "\0\0\0\0\0\0\x40\0\x80\0\0\0\0\0\0\1"  // event id
      "\0\0\0\1s"                             // stream id
      "\0\0\0\1T"                             // type
      "\0\0\0\1c"                             // content type
      "\0\0\0\1"                              // metadata count
      "\0\0\0\1k\0\0\0\1v",                   // key, value
      8 + 8 + 8 + 16 + 5 + 5 + 5 + 4 + 10);
  EXPECT_EQ(EncodeHeader(event), expected);
  // And the chain rule (docs/architecture.md), by hand.
  const Hash payload_hash = Sha256("");
  std::string input(32, '\0');
  const Hash header_hash = Sha256(expected);
  input.append(reinterpret_cast<const char*>(header_hash.data()), 32);
  input.append(reinterpret_cast<const char*>(payload_hash.data()), 32);
  EXPECT_EQ(ChainHash(Hash{}, header_hash, payload_hash), Sha256(input));
}

TEST(RecordFormatTest, KnownSha256) {
  const Hash hash = Sha256("abc");
  EXPECT_EQ(hash[0], 0xba);
  EXPECT_EQ(hash[31], 0xad);
}

TEST(RecordFormatTest, EveryTruncationIsRejectedWithoutCrashing) {
  const std::string record = EncodeRecord(SampleEvent());
  for (size_t size = 0; size < record.size(); ++size) {
    auto decoded = DecodeRecord(absl::string_view(record.data(), size));
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << size;
  }
  auto longer = DecodeRecord(record + "x");
  EXPECT_EQ(longer.status().code(), absl::StatusCode::kDataLoss);
}

TEST(RecordFormatTest, RandomCorruptionNeverReadsOutOfBounds) {
  const std::string record = EncodeRecord(SampleEvent());
  std::mt19937 random(7);
  for (int i = 0; i < 5000; ++i) {
    std::string mutated = record;
    for (int flips = 1 + random() % 4; flips > 0; --flips) {
      mutated[random() % mutated.size()] = static_cast<char>(random());
    }
    // Decoding either fails cleanly or yields some event; under ASan an
    // out-of-bounds read would abort here.
    auto decoded = DecodeRecord(mutated);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
    }
  }
}

TEST(RecordFormatTest, UnknownFormatsAndFlagsAreRejected) {
  std::string record = EncodeRecord(SampleEvent());
  record[0] = 2;
  EXPECT_EQ(DecodeRecord(record).status().code(), absl::StatusCode::kDataLoss);
  record = EncodeRecord(SampleEvent());
  record[1] = 0x02;
  EXPECT_EQ(DecodeRecord(record).status().code(), absl::StatusCode::kDataLoss);
}

// A time a protobuf Timestamp cannot hold made the server abort when it
// converted it (found by fuzz/stored_event_fuzzer.cc): it is damage, and
// the record is refused as such.
TEST(RecordFormatTest, ATimeOutsideTheYears1To9999IsDamage) {
  RecordedEvent event = SampleEvent();
  event.recorded_at = absl::FromCivil(
      absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  EXPECT_TRUE(DecodeRecord(EncodeRecord(event)).ok());
  event.recorded_at += absl::Seconds(1);
  auto decoded = DecodeRecord(EncodeRecord(event));
  ASSERT_FALSE(decoded.ok());
  EXPECT_TRUE(absl::IsDataLoss(decoded.status())) << decoded.status();
  EXPECT_THAT(std::string(decoded.status().message()),
              ::testing::HasSubstr("recorded_at"));
  event.recorded_at = absl::FromCivil(absl::CivilSecond(0, 12, 31, 0, 0, 0),
                                      absl::UTCTimeZone());
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(EncodeRecord(event)).status()));
}

TEST(RecordFormatTest, KeysSortNumerically) {
  EXPECT_LT(PositionKey(255), PositionKey(256));
  EXPECT_LT(PositionKey(1), PositionKey(uint64_t{1} << 40));
  EXPECT_LT(StreamKey("a", 9), StreamKey("a", 10));
  // All of stream "a" sorts before stream "a-b" and "a0".
  EXPECT_LT(StreamKey("a", ~uint64_t{0}), StreamKey("a-b", 1));
  EXPECT_LT(StreamKey("a", ~uint64_t{0}), StreamKeyEnd("a"));
  EXPECT_LT(StreamKeyEnd("a"), StreamKey("a-b", 0));
}

TEST(UuidTest, ParsesAndFormatsCanonicalText) {
  auto id = ParseUuid("0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(FormatUuid(*id), "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
  EXPECT_FALSE(ParseUuid("0f1e2d3c4b5a49788695a4b3c2d1e0f9").ok());
  EXPECT_FALSE(ParseUuid("{0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9}").ok());
  EXPECT_FALSE(ParseUuid("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0fg").ok());
  EXPECT_FALSE(ParseUuid("0f1e2d3c+4b5a-4978-8695-a4b3c2d1e0f9").ok());
  const Uuid random = NewRandomUuid();
  EXPECT_EQ(random[6] >> 4, 4);
  EXPECT_EQ(random[8] >> 6, 2);
  EXPECT_NE(random, NewRandomUuid());
}

}  // namespace
}  // namespace plantrail::eventstore::record_format
