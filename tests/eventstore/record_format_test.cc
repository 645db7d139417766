#include "eventstore/record_format.h"

#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

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

// The pinned header of TheHeaderLayoutIsPinned, as an event.
RecordedEvent PinnedEvent() {
  RecordedEvent event;
  event.event_id = "00000000-0000-4000-8000-000000000001";
  event.stream_id = "s";
  event.type = "T";
  event.content_type = "c";
  event.metadata = {{"k", "v"}};
  event.recorded_at = absl::FromUnixMicros(2);
  event.position = 1;
  event.stream_version = 1;
  event.payload = "p";
  event.payload_hash = Sha256(event.payload);
  event.hash =
      ChainHash(Hash{}, Sha256(EncodeHeader(event)), event.payload_hash);
  return event;
}

std::string Bytes(const Hash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

// The header of PinnedEvent with its metadata value, as
// TheHeaderLayoutIsPinned spells it.
std::string PinnedHeader(absl::string_view value) {
  return std::string(
             "\0\0\0\0\0\0\0\1"                      // position
             "\0\0\0\0\0\0\0\1"                      // stream version
             "\0\0\0\0\0\0\0\2"                      // recorded at
             "\0\0\0\0\0\0\x40\0\x80\0\0\0\0\0\0\1"  // event id
             "\0\0\0\1s"                             // stream id
             "\0\0\0\1T"                             // type
             "\0\0\0\1c"                             // content type
             "\0\0\0\1"                              // metadata count
             "\0\0\0\1k",                            // key
             8 + 8 + 8 + 16 + 5 + 5 + 5 + 4 + 5) +
         std::string(3, '\0') + static_cast<char>(value.size()) +
         std::string(value);
}

TEST(RecordFormatTest, TheRecordLayoutIsPinned) {
  // A record as every version wrote it before headers could be redacted
  // (flags 0, then 0x01 once its payload is redacted): still these bytes,
  // still decoded to the same event, still chained by SHA-256 of its header.
  RecordedEvent event = PinnedEvent();
  const std::string header = PinnedHeader("v");
  ASSERT_EQ(header.size(), 69u);
  const std::string expected = std::string("\x01\x00\0\0\0\x45", 6) + header +
                               Bytes(event.payload_hash) + Bytes(event.hash) +
                               std::string("\0\0\0\1p", 5);
  EXPECT_EQ(EncodeRecord(event), expected);
  auto decoded = DecodeRecord(expected);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->metadata, event.metadata);
  EXPECT_FALSE(decoded->redacted);
  EXPECT_FALSE(decoded->header_hash.has_value());
  EXPECT_EQ(HeaderHash(*decoded), Sha256(header));
  auto view = ViewRecord(expected);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(HeaderHash(*view), Sha256(header));

  std::string redacted = expected;
  redacted[1] = 0x01;
  decoded = DecodeRecord(redacted);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->redacted);
  EXPECT_FALSE(decoded->header_hash.has_value());
  EXPECT_EQ(EncodeRecord(*decoded), redacted);
}

TEST(RecordFormatTest, AHeaderRedactedRecordIsPinned) {
  // Flags bit 1: the header as a redaction left it (the value "v" is now
  // "[redacted]"), then the SHA-256 of the header as appended, which the
  // chain takes instead, then the rest as before.
  const RecordedEvent appended = PinnedEvent();
  RecordedEvent event = appended;
  event.metadata["k"] = kRedactedValue;
  event.header_hash = Sha256(PinnedHeader("v"));
  event.payload = "";
  event.redacted = true;
  const std::string header = PinnedHeader("[redacted]");
  ASSERT_EQ(header.size(), 78u);
  const std::string expected =
      std::string("\x01\x03\0\0\0\x4e", 6) + header +
      Bytes(*event.header_hash) + Bytes(appended.payload_hash) +
      Bytes(appended.hash) + std::string("\0\0\0\0", 4);
  EXPECT_EQ(EncodeHeader(event), header);
  EXPECT_EQ(EncodeRecord(event), expected);
  auto decoded = DecodeRecord(expected);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->metadata.at("k"), "[redacted]");
  EXPECT_EQ(decoded->header_hash, Sha256(PinnedHeader("v")));
  EXPECT_TRUE(decoded->redacted);
  EXPECT_EQ(decoded->hash, appended.hash);
  // The chain, by hand: the kept header hash, not the header's own.
  EXPECT_EQ(ChainHash(Hash{}, HeaderHash(*decoded), decoded->payload_hash),
            appended.hash);
  auto view = ViewRecord(expected);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->header, header);
  EXPECT_EQ(view->header_hash, Sha256(PinnedHeader("v")));
  EXPECT_EQ(HeaderHash(*view), Sha256(PinnedHeader("v")));
  // Bit 1 without bit 0 reads too (the flags are independent).
  std::string header_only = expected;
  header_only[1] = 0x02;
  decoded = DecodeRecord(header_only);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_FALSE(decoded->redacted);
  EXPECT_EQ(EncodeRecord(*decoded), header_only);
}

TEST(RecordFormatTest, ARedactedHeaderBindingHasOneSpelling) {
  const RedactedHeader binding{.position = 42, .hash = Sha256("x")};
  const std::string text = EncodeRedactedHeader(binding);
  EXPECT_EQ(text, "42:" + HexOf(Sha256("x")));
  auto decoded = DecodeRedactedHeader(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->position, 42u);
  EXPECT_EQ(decoded->hash, Sha256("x"));
  const std::string hex = HexOf(Sha256("x"));
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  for (const std::string& bad :
       {std::string(""), std::string("42"), "42" + hex, "042:" + hex,
        "+42:" + hex, "-1:" + hex, "42:" + upper, "42:" + hex.substr(1),
        "42:" + hex + "0", "x:" + hex, ":" + hex}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(DecodeRedactedHeader(bad).status().code(),
              absl::StatusCode::kDataLoss);
  }
}

TEST(RecordFormatTest, KnownSha256) {
  const Hash hash = Sha256("abc");
  EXPECT_EQ(hash[0], 0xba);
  EXPECT_EQ(hash[31], 0xad);
}

// SampleEvent after a redaction that cleared its "reason".
RecordedEvent HeaderRedactedSample() {
  RecordedEvent event = SampleEvent();
  event.header_hash = Sha256(EncodeHeader(event));
  event.metadata["reason"] = kRedactedValue;
  event.payload = "{}";
  event.redacted = true;
  return event;
}

TEST(RecordFormatTest, EveryTruncationIsRejectedWithoutCrashing) {
  for (const std::string& record :
       {EncodeRecord(SampleEvent()), EncodeRecord(HeaderRedactedSample())}) {
    for (size_t size = 0; size < record.size(); ++size) {
      auto decoded = DecodeRecord(absl::string_view(record.data(), size));
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << size;
    }
    auto longer = DecodeRecord(record + "x");
    EXPECT_EQ(longer.status().code(), absl::StatusCode::kDataLoss);
  }
}

void RandomlyCorrupt(const std::string& record) {
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

TEST(RecordFormatTest, RandomCorruptionNeverReadsOutOfBounds) {
  for (const std::string& record :
       {EncodeRecord(SampleEvent()), EncodeRecord(HeaderRedactedSample())}) {
    RandomlyCorrupt(record);
  }
}

TEST(RecordFormatTest, UnknownFormatsAndFlagsAreRejected) {
  std::string record = EncodeRecord(SampleEvent());
  record[0] = 2;
  EXPECT_EQ(DecodeRecord(record).status().code(), absl::StatusCode::kDataLoss);
  for (const char flags : {'\x04', '\x05', '\x07', '\x80'}) {
    record = EncodeRecord(SampleEvent());
    record[1] = flags;
    EXPECT_EQ(DecodeRecord(record).status().code(), absl::StatusCode::kDataLoss)
        << static_cast<int>(flags);
  }
  // Bit 1 on a record without a header hash: 32 bytes short.
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

// The log's own ids increase in the order they are made, across threads
// (its id index takes them in key order), and stay unique when many are
// made in one millisecond.
TEST(UuidTest, TimeOrderedIdsIncreaseAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<Uuid>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kPerThread; ++i) {
        made[t].push_back(NewTimeOrderedUuid());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<Uuid> all;
  for (const std::vector<Uuid>& ids : made) {
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(ids[i][6] >> 4, 7);
      EXPECT_EQ(ids[i][8] >> 6, 2);
      // Within a thread, each id is above the one before (bytes compare as
      // RocksDB's default comparator does).
      if (i > 0) {
        ASSERT_LT(ids[i - 1], ids[i]) << i;
      }
    }
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
  // The first 48 bits are the Unix time in milliseconds.
  const Uuid now = NewTimeOrderedUuid();
  uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = ms << 8 | now[i];
  EXPECT_NEAR(static_cast<double>(ms),
              static_cast<double>(absl::ToUnixMillis(absl::Now())), 60000);
}

}  // namespace
}  // namespace plantrail::eventstore::record_format
