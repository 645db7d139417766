// Edits stored records behind the store's back, straight in RocksDB, and
// checks that Verify names the first broken position.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/record_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/eventstore/raw_db.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

namespace plantrail::eventstore {
namespace {

namespace rf = record_format;
using ::plantrail::eventstore::testing::Event;
using ::plantrail::eventstore::testing::OpenStore;
using ::plantrail::eventstore::testing::ReadEverything;
using ::plantrail::eventstore::testing::Request;
using ::testing::HasSubstr;

struct Tampering {
  std::string name;
  std::function<void(RawDb&)> edit;
  uint64_t first_broken;
  std::string problem;
};

void Rewrite(RawDb& db, uint64_t position,
             const std::function<void(RecordedEvent&)>& change) {
  auto event = rf::DecodeRecord(RecordAt(db, position));
  ASSERT_TRUE(event.ok());
  change(*event);
  db.Put(rf::kEventsFamily, rf::PositionKey(position),
         rf::EncodeRecord(*event));
}

std::vector<Tampering> Tamperings() {
  return {
      {"payload byte flipped",
       [](RawDb& db) {
         std::string record = RecordAt(db, 7);
         record.back() ^= 0x01;
         db.Put(rf::kEventsFamily, rf::PositionKey(7), record);
       },
       7, "payload does not match its hash"},
      {"payload and its hash replaced",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) {
           e.payload = "forged";
           e.payload_hash = rf::Sha256(e.payload);
         });
       },
       7, "chain hash does not match"},
      {"type changed",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) { e.type = "Forged"; });
       },
       7, "chain hash does not match"},
      {"recorded time moved",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) {
           e.recorded_at -= absl::Hours(24 * 30);
         });
       },
       7, "chain hash does not match"},
      {"metadata changed",
       [](RawDb& db) {
         Rewrite(db, 7,
                 [](RecordedEvent& e) { e.metadata["actor"] = "mallory"; });
       },
       7, "chain hash does not match"},
      {"record rehashed to fit the forgery",
       [](RawDb& db) {
         auto previous = rf::DecodeRecord(RecordAt(db, 6));
         ASSERT_TRUE(previous.ok());
         Rewrite(db, 7, [&](RecordedEvent& e) {
           e.type = "Forged";
           e.hash = rf::ChainHash(
               previous->hash, rf::Sha256(rf::EncodeHeader(e)), e.payload_hash);
         });
       },
       8, "chain hash does not match"},
      {"record deleted",
       [](RawDb& db) { db.Delete(rf::kEventsFamily, rf::PositionKey(7)); }, 7,
       "position 7 is missing"},
      {"pair of records swapped",
       [](RawDb& db) {
         const std::string sixth = RecordAt(db, 6);
         const std::string seventh = RecordAt(db, 7);
         db.Put(rf::kEventsFamily, rf::PositionKey(6), seventh);
         db.Put(rf::kEventsFamily, rf::PositionKey(7), sixth);
       },
       6, "the record says position 7"},
      {"record garbled",
       [](RawDb& db) {
         db.Put(rf::kEventsFamily, rf::PositionKey(7), "\x01\x00junk");
       },
       7, "corrupt record"},
      {"stream index redirected",
       [](RawDb& db) {
         auto event = rf::DecodeRecord(RecordAt(db, 7));
         ASSERT_TRUE(event.ok());
         db.Put(rf::kStreamsFamily,
                rf::StreamKey(event->stream_id, event->stream_version),
                rf::PositionKey(3));
       },
       7, "stream index does not point at this event"},
  };
}

TEST(TamperTest, VerifyNamesTheFirstBrokenPosition) {
  for (const Tampering& tampering : Tamperings()) {
    SCOPED_TRACE(tampering.name);
    plantrail::testing::TempDir dir;
    {
      auto store = OpenStore(dir.path(), Durability::kNoSync);
      ASSERT_NE(store, nullptr);
      for (int i = 1; i <= 10; ++i) {
        ProposedEvent event =
            Event("StatusReported", absl::StrCat("report ", i));
        event.metadata = {{"actor", "anna"}};
        ASSERT_TRUE(store
                        ->Append(Request(absl::StrCat("area-", i % 3),
                                         ExpectedVersion::Any(), {event}))
                        .ok());
      }
      auto clean = store->Verify();
      ASSERT_TRUE(clean.ok());
      ASSERT_TRUE(clean->ok) << clean->problem;
    }
    {
      RawDb raw(dir.path());
      tampering.edit(raw);
    }
    auto store = RocksDbEventStore::Open(Options{.path = dir.path()});
    ASSERT_TRUE(store.ok()) << store.status();
    auto report = (*store)->Verify();
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_FALSE(report->ok);
    EXPECT_EQ(report->first_broken_position, tampering.first_broken);
    EXPECT_THAT(report->problem, HasSubstr(tampering.problem));
    EXPECT_EQ(report->events_checked, tampering.first_broken - 1);
  }
}

// Writes ten events, lets `edit` rewrite the database behind the store's
// back, and returns the store's verdict anchored at the digest of position
// 8 taken before the edit.
VerifyReport VerifyAgainstSavedDigest(const std::function<void(RawDb&)>& edit,
                                      bool anchored = true) {
  plantrail::testing::TempDir dir;
  ChainAnchor saved;
  {
    auto store = OpenStore(dir.path(), Durability::kNoSync);
    for (int i = 1; i <= 10; ++i) {
      EXPECT_TRUE(
          store
              ->Append(Request(
                  absl::StrCat("area-", i % 3), ExpectedVersion::Any(),
                  {Event("StatusReported", absl::StrCat("report ", i))}))
              .ok());
    }
    auto hash = store->HashAt(8);
    EXPECT_TRUE(hash.ok());
    saved = {.position = 8, .hash = *hash};
  }
  {
    RawDb raw(dir.path());
    edit(raw);
  }
  auto store = RocksDbEventStore::Open(Options{.path = dir.path()});
  EXPECT_TRUE(store.ok()) << store.status();
  VerifyOptions options;
  if (anchored) options.anchor = saved;
  auto report = (*store)->Verify(options);
  EXPECT_TRUE(report.ok()) << report.status();
  return *report;
}

// An attacker without the signing key rewrites event 5 and recomputes the
// hash of every event after it: the chain is consistent again, and only a
// digest saved before catches it.
void ForgeAndRecompute(RawDb& db) {
  RewriteAndRechain(db, 5, [](RecordedEvent& event) {
    event.payload = "report 5, as the attacker would have it";
  });
}

TEST(TamperTest, ARecomputedChainPassesAloneButNotAgainstASavedDigest) {
  const VerifyReport alone =
      VerifyAgainstSavedDigest(ForgeAndRecompute, /*anchored=*/false);
  EXPECT_TRUE(alone.ok) << alone.problem;
  const VerifyReport anchored = VerifyAgainstSavedDigest(ForgeAndRecompute);
  EXPECT_FALSE(anchored.ok);
  EXPECT_EQ(anchored.first_broken_position, 8u);
  EXPECT_THAT(anchored.problem, HasSubstr("the digest says"));
  EXPECT_THAT(anchored.problem, HasSubstr("chain recomputed"));
}

TEST(TamperTest, ATailTruncatedBelowASavedDigestIsCaught) {
  auto truncate = [](RawDb& db) {
    for (uint64_t position = 7; position <= 10; ++position) {
      db.Delete(rf::kEventsFamily, rf::PositionKey(position));
    }
  };
  // Alone, a shorter log is a consistent log.
  EXPECT_TRUE(VerifyAgainstSavedDigest(truncate, /*anchored=*/false).ok);
  const VerifyReport anchored = VerifyAgainstSavedDigest(truncate);
  EXPECT_FALSE(anchored.ok);
  EXPECT_EQ(anchored.first_broken_position, 7u);
  EXPECT_THAT(anchored.problem,
              HasSubstr("the log ends at position 6, before the digest's "
                        "position 8"));
}

TEST(TamperTest, AnUntouchedLogExtendsItsSavedDigest) {
  const VerifyReport report = VerifyAgainstSavedDigest([](RawDb&) {});
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.head_position, 10u);
}

// Ten events with a note in their metadata; event 7's note redacted (its
// record, binding the header it left, is position 11). Then `edit` behind
// the store's back, and Verify's verdict.
VerifyReport VerifyARedactedHeader(const std::function<void(RawDb&)>& edit) {
  plantrail::testing::TempDir dir;
  {
    auto store = OpenStore(dir.path(), Durability::kNoSync);
    for (int i = 1; i <= 10; ++i) {
      ProposedEvent event = Event("Note", absl::StrCat("note ", i));
      event.metadata = {{"actor", "anna"},
                        {"note", absl::StrCat("Anna's sick leave ", i)}};
      EXPECT_TRUE(
          store->Append(Request("hr-notes", ExpectedVersion::Any(), {event}))
              .ok());
    }
    EXPECT_TRUE(store
                    ->Redact(RedactRequest{
                        .position = 7,
                        .tombstone = "",
                        .cleared_metadata = {"note"},
                        .record = Request("plantrail-redactions",
                                          ExpectedVersion::Any(),
                                          {Event("PayloadRedacted", "why")})})
                    .ok());
    auto clean = store->Verify();
    EXPECT_TRUE(clean.ok() && clean->ok) << clean->problem;
  }
  {
    RawDb raw(dir.path());
    edit(raw);
  }
  auto store = RocksDbEventStore::Open(Options{.path = dir.path()});
  EXPECT_TRUE(store.ok()) << store.status();
  auto report = (*store)->Verify();
  EXPECT_TRUE(report.ok()) << report.status();
  return *report;
}

TEST(TamperTest, ARedactedHeaderIsBoundByItsKeptHashAndItsRedaction) {
  const std::vector<Tampering> tamperings = {
      {"what is left of the redacted header changed",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) { e.metadata["actor"] = "eve"; });
       },
       7, "the redacted header is not the one its redaction recorded"},
      {"the redacted value put back",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) {
           e.metadata["note"] = "Anna's sick leave 7";
         });
       },
       7, "the redacted header is not the one its redaction recorded"},
      {"a redacted header's type changed",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) { e.type = "Forged"; });
       },
       7, "the redacted header is not the one its redaction recorded"},
      {"the kept header hash changed",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) { e.header_hash->at(5) ^= 1; });
       },
       7, "chain hash does not match"},
      {"the kept header hash dropped (flag bit 1 cleared)",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) { e.header_hash.reset(); });
       },
       7, "chain hash does not match"},
      {"another header redacted without a redaction",
       [](RawDb& db) {
         Rewrite(db, 4, [](RecordedEvent& e) {
           e.header_hash = rf::Sha256(rf::EncodeHeader(e));
           e.metadata["actor"] = "eve";
         });
       },
       4, "no redaction's record binds it"},
      {"the redaction's binding rewritten to fit",
       [](RawDb& db) {
         Rewrite(db, 7, [](RecordedEvent& e) { e.metadata["actor"] = "eve"; });
         auto redacted = rf::DecodeRecord(RecordAt(db, 7));
         ASSERT_TRUE(redacted.ok());
         Rewrite(db, 11, [&](RecordedEvent& e) {
           e.metadata[rf::kRedactedHeaderKey] = rf::EncodeRedactedHeader(
               {.position = 7,
                .hash = rf::Sha256(rf::EncodeHeader(*redacted))});
         });
       },
       11, "chain hash does not match"},
  };
  for (const Tampering& tampering : tamperings) {
    SCOPED_TRACE(tampering.name);
    const VerifyReport report = VerifyARedactedHeader(tampering.edit);
    EXPECT_FALSE(report.ok);
    EXPECT_EQ(report.first_broken_position, tampering.first_broken);
    EXPECT_THAT(report.problem, HasSubstr(tampering.problem));
    EXPECT_EQ(report.events_checked, tampering.first_broken - 1);
  }
  const VerifyReport untouched = VerifyARedactedHeader([](RawDb&) {});
  EXPECT_TRUE(untouched.ok) << untouched.problem;
  EXPECT_EQ(untouched.head_position, 11u);
}

TEST(TamperTest, HashAtReadsTheStoredHashAndStopsAtTheHead) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path(), Durability::kNoSync);
  auto appended = store->Append(
      Request("area-1", ExpectedVersion::Any(), {Event("T", "x")}));
  ASSERT_TRUE(appended.ok());
  auto events = ReadEverything(*store);
  auto hash = store->HashAt(1);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(*hash, events[0].hash);
  EXPECT_EQ(store->HashAt(2).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace plantrail::eventstore
