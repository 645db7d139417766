// The audit export offline: what ExportWriter writes verifies, and every
// way of changing, cutting or thinning it out is caught and named.
#include "clients/cli/audit_export.h"

#include <functional>
#include <sstream>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "audit/chain_check.h"
#include "audit/digest.h"
#include "eventstore/record_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.pb.h"
#include "tests/temp_dir.h"

namespace plantrail::cli {
namespace {

namespace rf = eventstore::record_format;
using ::testing::HasSubstr;
using ::testing::Not;

std::string HexOf(const std::string& bytes) {
  return absl::BytesToHexString(bytes);
}

constexpr absl::Time kStart = absl::FromUnixSeconds(1'760'000'000);

class AuditExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = audit::SigningKey::LoadOrCreate(dir_ / "k", dir_ / "k.pub");
    ASSERT_TRUE(key.ok()) << key.status();
    key_.emplace(*std::move(key));
    // Ten events, a minute apart, in two areas; event 9 redacts event 3.
    eventstore::Hash previous{};
    for (uint64_t position = 1; position <= 10; ++position) {
      v1::RecordedEvent event;
      event.set_position(position);
      event.set_stream_id(position == 9 ? "plantrail-redactions"
                                        : (position % 2 ? "area-a" : "area-b"));
      event.set_stream_version((position + 1) / 2);
      event.set_type(position == 9 ? "PayloadRedacted" : "StatusReported");
      event.set_event_id(absl::StrCat("00000000-0000-4000-8000-0000000000",
                                      position < 10 ? "0" : "", position));
      event.set_content_type("application/json");
      std::string payload =
          absl::StrCat("{\"note\":\"report ", position, "\"}");
      if (position == 9) {
        v1::PayloadRedacted redacted;
        redacted.set_position(3);
        redacted.set_reason("GDPR art. 17");
        payload = redacted.SerializeAsString();
        event.set_content_type(
            "application/x-protobuf; messageType=plantrail.v1.PayloadRedacted");
      }
      (*event.mutable_metadata())["actor"] = "anna";
      if (position == 9) {
        (*event.mutable_metadata())[kRedactsStreamKey] = "area-a";
        (*event.mutable_metadata())[kRedactsPositionKey] = "3";
      }
      const int64_t micros =
          absl::ToUnixMicros(kStart + absl::Minutes(position));
      event.mutable_recorded_at()->set_seconds(micros / 1000000);
      event.mutable_recorded_at()->set_nanos(micros % 1000000 * 1000);
      const eventstore::Hash payload_hash = rf::Sha256(payload);
      event.set_payload_hash(
          std::string(payload_hash.begin(), payload_hash.end()));
      // Event 3 is redacted: a tombstone, its original hash kept.
      if (position == 3) {
        payload = "{}";
        event.set_redacted(true);
      }
      event.set_payload(payload);
      previous = rf::ChainHash(previous, rf::Sha256(audit::HeaderBytes(event)),
                               payload_hash);
      event.set_hash(std::string(previous.begin(), previous.end()));
      events_.push_back(event);
    }
  }

  v1::Digest DigestAt(uint64_t position) {
    const std::string& hash = events_[position - 1].hash();
    eventstore::Hash head{};
    std::copy(hash.begin(), hash.end(), head.begin());
    auto digest =
        audit::SignDigest(*key_, position, head, events_.size(), absl::Now());
    EXPECT_TRUE(digest.ok());
    return *digest;
  }

  // An export of positions first..last with `scope`, as ExportWriter writes.
  std::string Export(ExportScope scope, uint64_t first = 1, uint64_t last = 10,
                     ExportFormat format = ExportFormat::kJsonLines) {
    std::ostringstream out;
    ExportWriter writer(out, format, std::move(scope));
    writer.SetRedactions({{3, *RedactionFactsOf(events_[8])}});
    writer.Begin(
        first, first == 1 ? std::string(32, '\0') : events_[first - 2].hash());
    for (uint64_t position = first; position <= last; ++position) {
      writer.Add(events_[position - 1]);
    }
    writer.Finish(DigestAt(last));
    return out.str();
  }

  absl::StatusOr<ExportVerdict> Verify(const std::string& text) {
    return VerifyExport(text, key_->public_key());
  }

  // Event 3 had a note in its metadata, which its redaction (event 9)
  // cleared: its header keeps the hash it was appended with, event 9 binds
  // what is left of it, and the chain is as the log computes it.
  void RedactTheHeaderOf3() {
    auto bytes = [](const eventstore::Hash& hash) {
      return std::string(hash.begin(), hash.end());
    };
    v1::RecordedEvent& redacted = events_[2];
    (*redacted.mutable_metadata())["note"] = "Anna Svensson's sick leave";
    redacted.set_header_hash(bytes(rf::Sha256(audit::HeaderBytes(redacted))));
    (*redacted.mutable_metadata())["note"] = rf::kRedactedValue;
    (*events_[8].mutable_metadata())[rf::kRedactedHeaderKey] =
        rf::EncodeRedactedHeader(
            {.position = 3, .hash = rf::Sha256(audit::HeaderBytes(redacted))});
    eventstore::Hash previous{};
    for (v1::RecordedEvent& event : events_) {
      auto stored = audit::FromProto(event);
      ASSERT_TRUE(stored.ok()) << stored.status();
      previous = rf::ChainHash(previous, rf::HeaderHash(*stored),
                               stored->payload_hash);
      event.set_hash(bytes(previous));
    }
  }

  plantrail::testing::TempDir dir_;
  std::optional<audit::SigningKey> key_;
  std::vector<v1::RecordedEvent> events_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  return absl::StrJoin(lines, "\n") + "\n";
}

TEST_F(AuditExportTest, AWholeLogExportVerifiesInBothFormats) {
  for (ExportFormat format : {ExportFormat::kJsonLines, ExportFormat::kCsv}) {
    auto verdict = Verify(Export({}, 1, 10, format));
    ASSERT_TRUE(verdict.ok()) << verdict.status();
    EXPECT_EQ(verdict->first_position, 1u);
    EXPECT_EQ(verdict->last_position, 10u);
    EXPECT_EQ(verdict->events, 10u);
    EXPECT_EQ(verdict->links, 0u);
    EXPECT_TRUE(verdict->key_pinned);
    EXPECT_TRUE(verdict->reaches_head);
  }
}

TEST_F(AuditExportTest, AnAreaExportHoldsItsEventsAndItsRedactions) {
  const std::string text = Export({.stream = "area-a"});
  auto verdict = Verify(text);
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  // Positions 1, 3, 5, 7 (area-a) and 9 (the redaction of 3).
  EXPECT_EQ(verdict->events, 5u);
  EXPECT_EQ(verdict->links, 5u);
  // A link reveals the header, never the payload.
  EXPECT_THAT(text, Not(HasSubstr("report 2")));
  EXPECT_THAT(text, HasSubstr("report 1"));
}

TEST_F(AuditExportTest, AnEventOfTheScopeTurnedIntoALinkIsCaught) {
  std::ostringstream out;
  // Written with the wider scope's links but claiming the narrower one.
  ExportWriter writer(out, ExportFormat::kJsonLines, {.stream = "area-b"});
  writer.SetRedactions({{3, *RedactionFactsOf(events_[8])}});
  writer.Begin(1, std::string(32, '\0'));
  for (const auto& event : events_) writer.Add(event);
  writer.Finish(DigestAt(10));
  std::string text = out.str();
  text.replace(text.find("area-b"), 6, "area-a");
  auto verdict = Verify(text);
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(verdict.status().message(),
              HasSubstr("position 1 is in the export's scope (stream "
                        "area-a) but only its link is here"));
}

TEST_F(AuditExportTest, EveryKindOfChangeIsCaughtAndNamed) {
  const std::vector<std::string> lines = Lines(Export({}));
  struct Change {
    std::string name;
    std::function<void(std::vector<std::string>&)> edit;
    std::string problem;
  };
  auto replace = [](std::string& line, const std::string& from,
                    const std::string& to) {
    const size_t at = line.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    line.replace(at, from.size(), to);
  };
  const std::vector<Change> changes = {
      {"actor",
       [&](auto& l) {
         replace(l[4], "\"actor\":\"anna\"", "\"actor\":\"eve\"");
       },
       "line 5: position 4: actor is not what the event's bytes say"},
      {"readable payload",
       [&](auto& l) {
         replace(l[4], "\"note\":\"report 4\"", "\"note\":\"report four\"");
       },
       "payload is not what the event's bytes say"},
      {"payload bytes and readable payload",
       [&](auto& l) {
         // {"note":"report 4"} -> {"note":"report 5"}, consistently.
         replace(l[4], "\"note\":\"report 4\"", "\"note\":\"report 5\"");
         replace(l[4], "eyJub3RlIjoicmVwb3J0IDQifQ==",
                 "eyJub3RlIjoicmVwb3J0IDUifQ==");
       },
       "position 4: the payload does not match its hash"},
      {"a line dropped", [](auto& l) { l.erase(l.begin() + 4); },
       "position 4 is missing"},
      {"two lines swapped", [](auto& l) { std::swap(l[4], l[5]); },
       "position 4 is missing"},
      {"the digest cut off", [](auto& l) { l.pop_back(); },
       "ends without its signed digest"},
      {"a record after the digest", [&](auto& l) { l.push_back(l[3]); },
       "a record after the digest"},
      {"the signature",
       [&](auto& l) {
         const size_t at = l.back().find("\"signature\":\"") + 13;
         l.back()[at] = l.back()[at] == '0' ? '1' : '0';
       },
       "signature"},
      {"the tail cut, the digest kept",
       [](auto& l) { l.erase(l.begin() + 9, l.begin() + 11); },
       "the digest signs position 10 but the export ends at 8"},
  };
  for (const Change& change : changes) {
    SCOPED_TRACE(change.name);
    std::vector<std::string> edited = lines;
    change.edit(edited);
    auto verdict = Verify(Join(edited));
    EXPECT_FALSE(verdict.ok());
    EXPECT_THAT(verdict.status().message(), HasSubstr(change.problem));
  }
}

TEST_F(AuditExportTest, AForeignKeyOrNoExportAtAllIsRefused) {
  auto other = audit::SigningKey::LoadOrCreate(dir_ / "o", dir_ / "o.pub");
  ASSERT_TRUE(other.ok());
  auto foreign = VerifyExport(Export({}), other->public_key());
  EXPECT_THAT(foreign.status().message(), HasSubstr("not by the pinned key"));
  EXPECT_EQ(VerifyExport("hello\n", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      VerifyExport("{\"record\":\"event\"}\n", std::nullopt).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditExportTest, TheScopesEdgesMustBeShown) {
  const absl::Time from = kStart + absl::Minutes(4);
  const absl::Time to = kStart + absl::Minutes(6);
  // Right: from the event before the start to the one after the end.
  auto right = Verify(Export({.from = from, .to = to}, 3, 7));
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_EQ(right->events, 3u);
  EXPECT_EQ(right->links, 2u);
  EXPECT_FALSE(right->reaches_head);
  // Starting inside the scope hides what came before.
  auto late = Verify(Export({.from = from, .to = to}, 4, 7));
  EXPECT_THAT(late.status().message(),
              HasSubstr("not before its scope's start"));
  // Stopping inside the scope (or short of the head) hides what came after.
  auto early = Verify(Export({.from = from, .to = to}, 3, 6));
  EXPECT_THAT(early.status().message(), HasSubstr("events after it may be "
                                                  "missing"));
  // An open scope read while the log grew covers it up to its last
  // position, and says so.
  auto short_of_head = Verify(Export({}, 1, 8));
  ASSERT_TRUE(short_of_head.ok()) << short_of_head.status();
  EXPECT_FALSE(short_of_head->reaches_head);
  EXPECT_EQ(short_of_head->last_position, 8u);
  // A scope with an end must show its end, or reach the head.
  auto open_end = Verify(Export({.to = kStart + absl::Minutes(9)}, 1, 8));
  EXPECT_THAT(open_end.status().message(),
              HasSubstr("the log had 10 events when it was signed"));
}

TEST_F(AuditExportTest, ARedactedEventSaysWhoRedactedItWhenAndWhy) {
  auto verdict = Verify(Export({}));
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  ASSERT_EQ(verdict->redactions.size(), 1u);
  EXPECT_EQ(verdict->redactions[3].position, 9u);
  EXPECT_EQ(verdict->redactions[3].actor, "anna");
  EXPECT_EQ(verdict->redactions[3].reason, "GDPR art. 17");
  // The line's claim must be the redaction event's.
  std::vector<std::string> lines = Lines(Export({}));
  const size_t at = lines[3].find("GDPR art. 17");
  ASSERT_NE(at, std::string::npos);
  lines[3].replace(at, 12, "a whim");
  auto edited = Verify(Join(lines));
  EXPECT_THAT(edited.status().message(),
              HasSubstr("line 4: position 3: its redaction is not what the "
                        "redaction's own event (position 9) says"));
  // In an export that ends before the redaction, the line's facts stand
  // alone (the redaction came later).
  auto before = Verify(Export({.to = kStart + absl::Minutes(7)}, 1, 8));
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->redactions[3].position, 9u);
}

TEST_F(AuditExportTest, ARedactedEventNeedsItsRedactionInTheExport) {
  // An export that ends before the redaction, its line claiming a
  // redaction inside the file where there is none.
  std::vector<std::string> lines =
      Lines(Export({.to = kStart + absl::Minutes(7)}, 1, 8));
  const size_t at = lines[3].find("\"position\":9");
  ASSERT_NE(at, std::string::npos) << lines[3];
  lines[3].replace(at, 12, "\"position\":7");
  auto verdict = Verify(Join(lines));
  EXPECT_THAT(verdict.status().message(),
              HasSubstr("position 3 is marked redacted but the export holds "
                        "no redaction event for it"));
}

TEST_F(AuditExportTest, AnExportAfterAHeaderRedactionVerifies) {
  RedactTheHeaderOf3();
  for (ExportFormat format : {ExportFormat::kJsonLines, ExportFormat::kCsv}) {
    // In full (the whole log, area-a) and as a link (area-b).
    for (const std::string stream : {"", "area-a", "area-b"}) {
      SCOPED_TRACE(absl::StrCat(stream, format == ExportFormat::kCsv));
      const std::string text = Export({.stream = stream}, 1, 10, format);
      EXPECT_THAT(text, Not(HasSubstr("sick leave")));
      EXPECT_THAT(text, HasSubstr(HexOf(events_[2].header_hash())));
      auto verdict = Verify(text);
      ASSERT_TRUE(verdict.ok()) << verdict.status();
      EXPECT_TRUE(verdict->unbound_headers.empty());
    }
  }
}

TEST_F(AuditExportTest, WhatIsLeftOfARedactedHeaderIsCheckedToo) {
  RedactTheHeaderOf3();
  auto replace = [](std::string& line, const std::string& from,
                    const std::string& to) {
    const size_t at = line.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    line.replace(at, from.size(), to);
  };
  const std::string header_hash = HexOf(events_[2].header_hash());
  const std::vector<
      std::pair<std::string, std::function<void(std::vector<std::string>&)>>>
      changes = {
          {"position 3: the redacted header is not the one its redaction "
           "recorded (position 9)",
           [&](auto& l) {
             replace(l[3], "\"actor\":\"anna\"", "\"actor\":\"eve\"");
             replace(l[3], "\"actor\":\"anna\"", "\"actor\":\"eve\"");
           }},
          {"position 3: the chain hash does not follow",
           [&](auto& l) {
             replace(l[3], header_hash, std::string(header_hash.size(), '0'));
           }},
          {"position 3: the chain hash does not follow",
           [&](auto& l) {
             replace(l[3],
                     absl::StrCat(",\"header_hash\":\"", header_hash, "\""),
                     "");
           }},
          {"header_hash: must be 64 lower-case hex digits",
           [&](auto& l) { replace(l[3], header_hash, "abc"); }},
      };
  const std::vector<std::string> lines = Lines(Export({}));
  for (const auto& [problem, edit] : changes) {
    SCOPED_TRACE(problem);
    std::vector<std::string> edited = lines;
    edit(edited);
    auto verdict = Verify(Join(edited));
    EXPECT_FALSE(verdict.ok());
    EXPECT_THAT(verdict.status().message(), HasSubstr(problem));
  }
  // An export that ends before the redaction's record cannot check what is
  // left of the header, and says so.
  auto before = Verify(Export({}, 1, 8));
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_THAT(before->unbound_headers, ::testing::ElementsAre(3u));
}

TEST_F(AuditExportTest, ACsvExportFromBeforeHeaderHashesStillVerifies) {
  // Written before the header_hash column existed: one column fewer.
  std::vector<std::string> lines = Lines(Export({}, 1, 10, ExportFormat::kCsv));
  ASSERT_TRUE(absl::EndsWith(lines[0], ",header_hash"));
  lines[0].resize(lines[0].size() - std::string(",header_hash").size());
  for (size_t i = 1; i < lines.size(); ++i) {
    ASSERT_TRUE(absl::EndsWith(lines[i], ",")) << lines[i];
    lines[i].pop_back();
  }
  auto verdict = Verify(Join(lines));
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdict->events, 10u);
  lines[0] += ",extra";
  EXPECT_EQ(Verify(Join(lines)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plantrail::cli
