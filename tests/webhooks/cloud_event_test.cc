// The CloudEvents body of a plan event: the attributes receivers read, the
// payload as proto3 JSON of its API twin, and what an unknown type becomes.
#include "webhooks/cloud_event.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "domain/event_codec.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::webhooks {
namespace {

eventstore::RecordedEvent Reported() {
  stored::PlanEvent event;
  stored::StatusReport& report =
      *event.mutable_status_reported()->mutable_report();
  report.set_phase(stored::PHASE_IN_PROGRESS);
  report.set_health(stored::HEALTH_AT_RISK);
  report.set_narrative("Waiting for Ladok");
  report.set_round_id("2024-03");
  const domain::EncodedEvent encoded = domain::EncodeEvent(event);
  eventstore::RecordedEvent recorded;
  recorded.event_id = "0b8f1e0a-5a8e-4d3c-9c41-6f1f3c1d2e7a";
  recorded.stream_id = "area-kth-vs-2023:3.1.3";
  recorded.type = encoded.type;
  recorded.payload = encoded.payload;
  recorded.content_type = encoded.content_type;
  recorded.recorded_at = absl::FromUnixMicros(1'709'280'000'123'456);
  recorded.position = 4'294'967'301;  // beyond a CloudEvents integer
  recorded.stream_version = 7;
  return recorded;
}

TEST(CloudEventTest, APlanEventInStructuredMode) {
  const nlohmann::json json = nlohmann::json::parse(
      CloudEventJson(Reported(), "plantrail.kth.se", "kth-vs-2023"));
  EXPECT_EQ(json["specversion"], "1.0");
  EXPECT_EQ(json["id"], "0b8f1e0a-5a8e-4d3c-9c41-6f1f3c1d2e7a");
  EXPECT_EQ(json["source"], "plantrail://plantrail.kth.se/plans/kth-vs-2023");
  EXPECT_EQ(json["type"], "plantrail.StatusReported");
  EXPECT_EQ(json["subject"], "plans/kth-vs-2023/areas/3.1.3");
  EXPECT_EQ(json["time"], "2024-03-01T08:00:00.123456Z");
  EXPECT_EQ(json["datacontenttype"], "application/json");
  EXPECT_EQ(json["plantrailposition"], "4294967301");
  EXPECT_EQ(json["plantrailstream"], "area-kth-vs-2023:3.1.3");
  EXPECT_EQ(json["plantrailversion"], "7");
  const nlohmann::json& report = json["data"]["report"];
  EXPECT_EQ(report["phase"], "PHASE_IN_PROGRESS");
  EXPECT_EQ(report["health"], "HEALTH_AT_RISK");
  EXPECT_EQ(report["narrative"], "Waiting for Ladok");
  EXPECT_EQ(report["round_id"], "2024-03");
  EXPECT_FALSE(json.contains("data_base64"));
}

TEST(CloudEventTest, ATypeThisVersionDoesNotKnowTravelsAsItsBytes) {
  eventstore::RecordedEvent recorded = Reported();
  recorded.type = "SomethingNewer";
  recorded.content_type =
      "application/x-protobuf; messageType=plantrail.v1.SomethingNewer";
  recorded.stream_id = "plan-kth-vs-2023";
  const nlohmann::json json =
      nlohmann::json::parse(CloudEventJson(recorded, "h", "kth-vs-2023"));
  EXPECT_EQ(json["type"], "plantrail.SomethingNewer");
  EXPECT_EQ(json["subject"], "plans/kth-vs-2023");
  EXPECT_EQ(json["datacontenttype"], recorded.content_type);
  EXPECT_EQ(json["data_base64"], absl::Base64Escape(recorded.payload));
  EXPECT_FALSE(json.contains("data"));
}

}  // namespace
}  // namespace plantrail::webhooks
