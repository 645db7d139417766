// Stored plan events live forever: their bytes must keep decoding, and keep
// folding to the same state, in every later version.
#include "domain/event_codec.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/evolve.h"
#include "domain/redaction.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/domain/domain_test_util.h"

namespace plantrail::domain {
namespace {

using ::plantrail::domain::testing::Pb;

TEST(EventCodecTest, EveryEventTypeRoundTrips) {
  const google::protobuf::OneofDescriptor* oneof =
      stored::PlanEvent::descriptor()->FindOneofByName("event");
  ASSERT_EQ(oneof->field_count(), 17);
  for (int i = 0; i < oneof->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = oneof->field(i);
    stored::PlanEvent event;
    event.GetReflection()->MutableMessage(&event, field);
    const EncodedEvent encoded = EncodeEvent(event);
    EXPECT_EQ(encoded.type, field->message_type()->name());
    EXPECT_EQ(encoded.type, EventType(event));
    EXPECT_EQ(
        encoded.content_type,
        "application/x-protobuf; messageType=plantrail.v1." + encoded.type);
    absl::StatusOr<stored::PlanEvent> decoded =
        DecodeEvent(encoded.type, encoded.payload);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->event_case(), event.event_case());
  }
}

TEST(EventCodecTest, RefusesUnknownTypesAndBadBytes) {
  EXPECT_EQ(DecodeEvent("Nonsense", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeEvent("StatusReported", "\xff\xff\xff").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(EventCodecTest, AFoldReadsATypeItDoesNotKnowAsAnEmptyEvent) {
  // What a newer server wrote: the server's projections and the CLI's
  // import both fold it as a version and nothing else.
  absl::StatusOr<stored::PlanEvent> newer = DecodeForFold("SomethingNewer",
                                                          "\x0a\x03"
                                                          "abc");
  ASSERT_TRUE(newer.ok()) << newer.status();
  EXPECT_EQ(newer->event_case(), stored::PlanEvent::EVENT_NOT_SET);
  stored::AreaState area;
  area.set_area_id("3.1");
  area.set_title("Kept");
  EvolveArea(area, *newer, {.version = 2});
  EXPECT_EQ(area.version(), 2u);
  EXPECT_EQ(area.title(), "Kept");
  // A known type that does not parse is lost data, not a newer type.
  EXPECT_EQ(DecodeForFold("StatusReported", "\xff\xff\xff").status().code(),
            absl::StatusCode::kDataLoss);
  stored::PlanEvent reported;
  reported.mutable_status_reported()->mutable_report()->set_narrative("ok");
  const EncodedEvent encoded = EncodeEvent(reported);
  EXPECT_TRUE(DecodeForFold(encoded.type, encoded.payload).ok());
}

TEST(EventCodecTest, EncodingIsDeterministic) {
  const auto event = Pb<stored::PlanEvent>(R"pb(
    units_changed {
      participating_after: [ "A", "B" ]
      reason: "r"
    }
  )pb");
  EXPECT_EQ(EncodeEvent(event).payload, EncodeEvent(event).payload);
}

// Bytes as version 1 of plantrail stored them. If this test fails, a field
// was renumbered or retyped: add a new field or event instead (and an
// upcaster in domain/), never change these.
constexpr char kStoredRegistered[] =
    "0a05332e342e3212185368617265642066696e616e6369616c2070726f63657373"
    "1a03332e34320c4f6e652070726f636573732e3a0e46696e616e6365206f666669"
    "63654a13080210e70f18043a0a617072696c20323032335216080210e70f180c3a"
    "0d646563656d62657220323032335802";
constexpr char kStoredReport[] =
    "0a31080310021a144f6e6520737570706c696572206973206c6174652215080110"
    "e20f1801200a3a0a323031382d30312d3130";

TEST(EventCodecTest, StoredBytesStillFoldToTheSameState) {
  // Built here only to show what the pinned bytes say.
  const auto registered = Pb<stored::PlanEvent>(R"pb(
    area_registered {
      area_id: "3.4.2"
      title: "Shared financial process"
      support_area: "3.4"
      desired_effect: "One process."
      participating_units: "Finance office"
      planned_start {
        precision: PLAN_DATE_PRECISION_MONTH
        year: 2023
        month: 4
        text: "april 2023"
      }
      planned_end {
        precision: PLAN_DATE_PRECISION_MONTH
        year: 2023
        month: 12
        text: "december 2023"
      }
      phase: PHASE_PLANNED
    }
  )pb");
  EXPECT_EQ(absl::BytesToHexString(EncodeEvent(registered).payload),
            kStoredRegistered);
  const auto report = Pb<stored::PlanEvent>(R"pb(
    status_reported {
      report {
        phase: PHASE_IN_PROGRESS
        health: HEALTH_AT_RISK
        narrative: "One supplier is late"
        reported_on {
          precision: PLAN_DATE_PRECISION_DAY
          year: 2018
          month: 1
          day: 10
          text: "2018-01-10"
        }
      }
    }
  )pb");
  EXPECT_EQ(absl::BytesToHexString(EncodeEvent(report).payload), kStoredReport);

  stored::AreaState state;
  absl::StatusOr<stored::PlanEvent> first =
      DecodeEvent("AreaRegistered", absl::HexStringToBytes(kStoredRegistered));
  ASSERT_TRUE(first.ok()) << first.status();
  EvolveArea(state, *first, EventContext{.position = 1, .version = 1});
  absl::StatusOr<stored::PlanEvent> second =
      DecodeEvent("StatusReported", absl::HexStringToBytes(kStoredReport));
  ASSERT_TRUE(second.ok()) << second.status();
  EvolveArea(state, *second, EventContext{.position = 2, .version = 2});

  EXPECT_EQ(state.area_id(), "3.4.2");
  EXPECT_EQ(state.title(), "Shared financial process");
  EXPECT_EQ(state.baseline_start().text(), "april 2023");
  EXPECT_EQ(state.planned_end().month(), 12);
  EXPECT_EQ(state.phase(), stored::PHASE_IN_PROGRESS);
  EXPECT_EQ(state.health(), stored::HEALTH_AT_RISK);
  EXPECT_EQ(state.latest_report().reported_on().text(), "2018-01-10");
  EXPECT_EQ(state.version(), 2u);
}

// Follow-up rounds as this version stores them (the plan's stream).
constexpr char kStoredRoundOpened[] =
    "0a7e0a07323031382d30311219c385746572726170706f7274206a616e75617269"
    "20323031381a1d4261726e2d206f636820757462696c646e696e67736ec3a46d6e"
    "64656e2215080110e20f1801200a3a0a323031382d30312d31303201313201323a"
    "1cc385746572726170706f727420617620c3a57467c3a4726465726e61";
constexpr char kStoredRoundClosed[] =
    "0a07323031382d3031120d54696c6c206ec3a46d6e64656e";

TEST(EventCodecTest, StoredRoundBytesStillFoldToTheSameRound) {
  const auto opened = Pb<stored::PlanEvent>(R"pb(
    follow_up_opened {
      round {
        round_id: "2018-01"
        title: "Återrapport januari 2018"
        body: "Barn- och utbildningsnämnden"
        report_date {
          precision: PLAN_DATE_PRECISION_DAY
          year: 2018
          month: 1
          day: 10
          text: "2018-01-10"
        }
        expected_area_ids: [ "1", "2" ]
        request: "Återrapport av åtgärderna"
      }
    }
  )pb");
  EXPECT_EQ(absl::BytesToHexString(EncodeEvent(opened).payload),
            kStoredRoundOpened);
  const auto closed = Pb<stored::PlanEvent>(R"pb(
    follow_up_closed { round_id: "2018-01" note: "Till nämnden" }
  )pb");
  EXPECT_EQ(absl::BytesToHexString(EncodeEvent(closed).payload),
            kStoredRoundClosed);

  stored::PlanState plan;
  absl::StatusOr<stored::PlanEvent> first =
      DecodeEvent("FollowUpOpened", absl::HexStringToBytes(kStoredRoundOpened));
  ASSERT_TRUE(first.ok()) << first.status();
  EvolvePlan(plan, *first, EventContext{.position = 5, .version = 2});
  absl::StatusOr<stored::PlanEvent> second =
      DecodeEvent("FollowUpClosed", absl::HexStringToBytes(kStoredRoundClosed));
  ASSERT_TRUE(second.ok()) << second.status();
  EvolvePlan(plan, *second, EventContext{.position = 9, .version = 3});
  ASSERT_EQ(plan.rounds_size(), 1);
  const stored::FollowUpRound& round = plan.rounds(0);
  EXPECT_EQ(round.round_id(), "2018-01");
  EXPECT_EQ(round.report_date().day(), 10);
  EXPECT_EQ(round.expected_area_ids_size(), 2);
  EXPECT_EQ(round.opened_position(), 5u);
  EXPECT_TRUE(round.closed());
  EXPECT_EQ(round.closed_position(), 9u);
  EXPECT_EQ(round.closing_note(), "Till nämnden");
}

TEST(EvolveTest, UnknownEventsStillAdvanceTheVersion) {
  stored::AreaState state;
  EvolveArea(state, stored::PlanEvent(),
             EventContext{.position = 7, .version = 3, .actor = "a"});
  EXPECT_EQ(state.version(), 3u);
  EXPECT_EQ(state.position(), 7u);
  EXPECT_EQ(state.updated_by(), "a");
}

// Found by fuzz/stored_event_fuzzer.cc: a damaged record's time beyond what a
// Timestamp holds (years 1 to 9999) made protobuf's TimeUtil abort the
// process in evolve. Evolve never fails: the time is clamped.
TEST(EvolveTest, ATimeNoTimestampHoldsIsClamped) {
  using google::protobuf::util::TimeUtil;
  for (const absl::Time time :
       {absl::FromUnixMicros(std::numeric_limits<int64_t>::max()),
        absl::InfiniteFuture(),
        absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0),
                        absl::UTCTimeZone())}) {
    stored::AreaState area;
    EvolveArea(area, stored::PlanEvent(), {.version = 1, .recorded_at = time});
    EXPECT_EQ(area.updated_at().seconds(), TimeUtil::kTimestampMaxSeconds);
    EXPECT_EQ(area.updated_at().nanos(), 999'999'000);
  }
  for (const absl::Time time :
       {absl::FromUnixMicros(std::numeric_limits<int64_t>::min()),
        absl::InfinitePast()}) {
    stored::DecisionState decision;
    stored::PlanEvent recorded;
    recorded.mutable_decision_recorded()->set_decision_id("D-1");
    EvolveDecision(decision, recorded, {.version = 1, .recorded_at = time});
    EXPECT_EQ(decision.recorded_at().seconds(), TimeUtil::kTimestampMinSeconds);
    EXPECT_EQ(decision.recorded_at().nanos(), 0);
  }
  // Times a Timestamp holds are kept to the microsecond.
  stored::AreaState area;
  EvolveArea(area, stored::PlanEvent(),
             {.version = 1,
              .recorded_at = absl::FromUnixMicros(1'700'000'000'123'456)});
  EXPECT_EQ(area.updated_at().seconds(), 1'700'000'000);
  EXPECT_EQ(area.updated_at().nanos(), 123'456'000);
}

TEST(RedactionTest, ARevisionLosesTheRedactedTextItRepeatsAndNothingElse) {
  const auto registered = Pb<stored::PlanEvent>(R"pb(
    area_registered {
      area_id: "rd"
      title: "Payroll"
      rationale: "Anna asked"
      desired_effect: "faster"
    }
  )pb");
  const auto revised = Pb<stored::PlanEvent>(R"pb(
    area_details_revised {
      before { rationale: "Anna asked" title: "Payroll" }
      after { rationale: "Payroll must close faster" title: "Payroll" }
      reason: "rephrased"
    }
  )pb");
  const std::vector<std::string> texts = FreeTexts(registered);
  EXPECT_EQ(texts, (std::vector<std::string>{"Anna asked", "faster"}));

  const stored::PlanEvent narrowed = WithoutTexts(revised, texts);
  const stored::AreaDetailsRevised& details = narrowed.area_details_revised();
  EXPECT_TRUE(details.before().has_rationale());
  EXPECT_EQ(details.before().rationale(), "");
  EXPECT_EQ(details.before().title(), "Payroll");
  EXPECT_EQ(details.after().rationale(), "Payroll must close faster");
  EXPECT_EQ(details.reason(), "rephrased");
  // An event that does not repeat the text is left as it is.
  EXPECT_EQ(EncodeEvent(WithoutTexts(registered, {"other"})).payload,
            EncodeEvent(registered).payload);
}

}  // namespace
}  // namespace plantrail::domain
