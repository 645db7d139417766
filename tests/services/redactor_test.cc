// What a redaction does to an event's metadata (services/redactor.h): the
// rule that keeps structure and clears free text, and PrepareRedaction
// against a real log, committed and read back.
#include "services/redactor.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain/event_codec.h"
#include "eventstore/event_store.h"
#include "eventstore/record_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace plantrail::services {
namespace {

namespace rf = eventstore::record_format;
using ::testing::ElementsAre;

constexpr char kKeyed[] =
    "hmac1:5f0c3c2a9d1b7e4f8a6c2d0e1f3b5a7c9e1d3f5b7a9c1e3d5f7b9a1c3e5d7f9b";
// A fingerprint from before they were keyed: a plain SHA-256 of the
// command, which lets anyone test guesses of its text.
constexpr char kUnkeyed[] =
    "9b3e1c7a5d2f4e6a8c0b1d3f5e7a9c2b4d6f8e0a1c3e5b7d9f2a4c6e8b0d1f3a";

TEST(RedactionRuleTest, StructureStaysAndEverythingElseIsCleared) {
  for (const char* key :
       {"actor", "command_id", "correlation_id", "causation_id"}) {
    EXPECT_TRUE(KeepsMetadataValue("hr-notes", key, "anything")) << key;
    EXPECT_TRUE(KeepsMetadataValue("area-3.1", key, "anything")) << key;
  }
  EXPECT_TRUE(KeepsMetadataValue("area-3.1", "command_fingerprint", kKeyed));
  EXPECT_FALSE(KeepsMetadataValue("area-3.1", "command_fingerprint", kUnkeyed));
  EXPECT_FALSE(KeepsMetadataValue("area-3.1", "command_fingerprint", ""));
  // The redactions' own keys name what they redact on their own stream;
  // anywhere else they are a client's text.
  for (const char* key :
       {"redacts_position", "redacts_stream", "redacts_event_id"}) {
    EXPECT_TRUE(KeepsMetadataValue(kRedactionStream, key, "12")) << key;
    EXPECT_FALSE(KeepsMetadataValue("hr-notes", key, "Anna")) << key;
  }
  // An allow-list: a key nobody listed is free text.
  for (const char* key : {"note", "reason", "recorded_at", "Actor", "actor2",
                          "command_fingerprint_2", ""}) {
    EXPECT_FALSE(KeepsMetadataValue("hr-notes", key, "Anna")) << key;
  }

  eventstore::RecordedEvent event;
  event.stream_id = "hr-notes";
  event.metadata = {{"actor", "admin"},
                    {"already", rf::kRedactedValue},
                    {"command_fingerprint", kUnkeyed},
                    {"command_id", "import-7"},
                    {"note", "Anna Svensson's sick leave"},
                    {"redacts_stream", "Anna"}};
  EXPECT_THAT(MetadataToClear(event),
              ElementsAre("command_fingerprint", "note", "redacts_stream"));
}

class RedactionMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = eventstore::EventStore::Open(
        {.path = dir_ / "eventstore",
         .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Appends one event; its position.
  uint64_t Append(const std::string& stream, eventstore::ProposedEvent event) {
    eventstore::AppendRequest request{
        .stream_id = stream,
        .expected_version = eventstore::ExpectedVersion::Any()};
    request.events.push_back(std::move(event));
    auto appended = store_->Append(std::move(request));
    EXPECT_TRUE(appended.ok()) << appended.status();
    return appended.ok() ? appended->first_position : 0;
  }

  // An area's registration as the command service stores it, with
  // `fingerprint`.
  uint64_t Register(const std::string& area_id,
                    const std::string& fingerprint) {
    stored::PlanEvent event;
    stored::AreaRegistered& registered = *event.mutable_area_registered();
    registered.set_area_id(area_id);
    registered.set_title("Lönehantering");
    registered.set_rationale("Ask Anna Svensson, 070-123 45 67");
    domain::EncodedEvent encoded = domain::EncodeEvent(event);
    return Append(absl::StrCat("area-", area_id),
                  {.type = encoded.type,
                   .payload = encoded.payload,
                   .content_type = encoded.content_type,
                   .metadata = {{"actor", "planner@kth"},
                                {"command_fingerprint", fingerprint},
                                {"command_id", "register-" + area_id},
                                {"correlation_id", "import-2026-05"}}});
  }

  // Redacts `position` as Admin.RedactEvent does; the event afterwards.
  eventstore::RecordedEvent Redact(uint64_t position) {
    v1::RedactEventRequest request;
    request.set_position(position);
    request.set_reason("GDPR art. 17, case 2026/7");
    auto redaction =
        PrepareRedaction(*store_, Principal{.name = "admin"}, request);
    EXPECT_TRUE(redaction.ok()) << redaction.status();
    if (redaction.ok()) {
      auto redacted = store_->Redact(*std::move(redaction));
      EXPECT_TRUE(redacted.ok()) << redacted.status();
    }
    auto page = store_->ReadAll({.from_position = position, .limit = 1});
    EXPECT_TRUE(page.ok() && !page->events.empty());
    return page.ok() && !page->events.empty() ? page->events[0]
                                              : eventstore::RecordedEvent{};
  }

  void ExpectTheChainVerifies() {
    auto report = store_->Verify();
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok) << report->problem;
  }

  plantrail::testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
};

TEST_F(RedactionMetadataTest, AnUnkeyedFingerprintIsClearedAKeyedOneKept) {
  const uint64_t unkeyed = Register("3.1.1", kUnkeyed);
  const uint64_t keyed = Register("3.1.2", kKeyed);

  const eventstore::RecordedEvent old_event = Redact(unkeyed);
  EXPECT_EQ(old_event.metadata,
            (eventstore::Metadata{{"actor", "planner@kth"},
                                  {"command_fingerprint", "[redacted]"},
                                  {"command_id", "register-3.1.1"},
                                  {"correlation_id", "import-2026-05"}}));
  EXPECT_TRUE(old_event.header_hash.has_value());

  // Nothing to clear: the header stays as it was appended.
  const eventstore::RecordedEvent new_event = Redact(keyed);
  EXPECT_EQ(new_event.metadata.at("command_fingerprint"), kKeyed);
  EXPECT_EQ(new_event.metadata.at("actor"), "planner@kth");
  EXPECT_FALSE(new_event.header_hash.has_value());
  EXPECT_TRUE(new_event.redacted);
  ExpectTheChainVerifies();
}

TEST_F(RedactionMetadataTest, ACustomEventKeepsItsIdsAndLosesItsText) {
  const uint64_t position =
      Append("hr-notes", {.type = "Note",
                          .payload = "call Anna",
                          .metadata = {{"actor", "admin"},
                                       {"causation_id", "c-9"},
                                       {"note", "Anna Svensson's sick leave"},
                                       {"redacts_stream", "Anna Svensson"}}});
  const eventstore::RecordedEvent before = [&] {
    auto page = store_->ReadAll({.from_position = position, .limit = 1});
    return page->events[0];
  }();
  const eventstore::RecordedEvent after = Redact(position);
  EXPECT_EQ(after.metadata,
            (eventstore::Metadata{{"actor", "admin"},
                                  {"causation_id", "c-9"},
                                  {"note", "[redacted]"},
                                  {"redacts_stream", "[redacted]"}}));
  EXPECT_EQ(after.payload, "");
  EXPECT_EQ(after.header_hash, rf::Sha256(rf::EncodeHeader(before)));
  EXPECT_EQ(after.hash, before.hash);
  // The redaction's own record binds the header it left.
  auto record = store_->ReadAll({.from_position = position + 1, .limit = 1});
  ASSERT_TRUE(record.ok());
  ASSERT_EQ(record->events.size(), 1u);
  EXPECT_EQ(record->events[0].stream_id, kRedactionStream);
  EXPECT_EQ(
      record->events[0].metadata.at(rf::kRedactedHeaderKey),
      rf::EncodeRedactedHeader(
          {.position = position, .hash = rf::Sha256(rf::EncodeHeader(after))}));
  EXPECT_EQ(record->events[0].metadata.at("redacts_stream"), "hr-notes");
  ExpectTheChainVerifies();
}

TEST_F(RedactionMetadataTest,
       AnEventRedactedBeforeMetadataWasClearedLosesItNow) {
  const uint64_t position = Append(
      "hr-notes", {.type = "Note",
                   .payload = "call Anna",
                   .metadata = {{"actor", "admin"},
                                {"note", "Anna Svensson's sick leave"}}});
  // As a redaction of a version before metadata was cleared left it: the
  // payload a tombstone, the metadata as appended.
  v1::RedactEventRequest first;
  first.set_position(position);
  first.set_reason("GDPR art. 17, case 2025/3");
  auto old_redaction =
      PrepareRedaction(*store_, Principal{.name = "admin"}, first);
  ASSERT_TRUE(old_redaction.ok()) << old_redaction.status();
  old_redaction->cleared_metadata.clear();
  auto committed = store_->Redact(*std::move(old_redaction));
  ASSERT_TRUE(committed.ok()) << committed.status();
  const eventstore::RecordedEvent before = [&] {
    auto page = store_->ReadAll({.from_position = position, .limit = 1});
    return page->events[0];
  }();
  ASSERT_TRUE(before.redacted);
  ASSERT_EQ(before.metadata.at("note"), "Anna Svensson's sick leave");

  const eventstore::RecordedEvent after = Redact(position);
  EXPECT_EQ(after.metadata.at("note"), "[redacted]");
  EXPECT_EQ(after.metadata.at("actor"), "admin");
  EXPECT_EQ(after.payload, before.payload);
  EXPECT_EQ(after.hash, before.hash);
  ExpectTheChainVerifies();

  // Nothing is left to take: a further redaction is refused.
  v1::RedactEventRequest again;
  again.set_position(position);
  again.set_reason("once more");
  EXPECT_EQ(PrepareRedaction(*store_, Principal{.name = "admin"}, again)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace plantrail::services
