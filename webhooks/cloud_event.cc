#include "webhooks/cloud_event.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/streams.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/plan_events.pb.h"

namespace plantrail::webhooks {
namespace {

// The payload as proto3 JSON of its API twin; nullopt when this version
// does not know the type or the bytes do not parse.
std::optional<nlohmann::ordered_json> DataOf(
    const eventstore::RecordedEvent& event) {
  // The plan events' twins are linked in (and so in the generated pool)
  // only when named.
  static const google::protobuf::FileDescriptor* const kPlanEvents =
      v1::PlanEvent::descriptor()->file();
  const google::protobuf::Descriptor* descriptor =
      kPlanEvents->pool()->FindMessageTypeByName(
          absl::StrCat("plantrail.v1.", event.type));
  if (descriptor == nullptr) return std::nullopt;
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          descriptor);
  if (prototype == nullptr) return std::nullopt;
  std::unique_ptr<google::protobuf::Message> message(prototype->New());
  if (!message->ParseFromString(event.payload)) return std::nullopt;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(*message, &json, options)
           .ok()) {
    return std::nullopt;
  }
  return nlohmann::ordered_json::parse(json, nullptr, false);
}

std::string SubjectOf(absl::string_view stream_id, absl::string_view plan_id) {
  const domain::PlanStreamName name = domain::ParseStreamName(stream_id);
  const std::string plan = absl::StrCat("plans/", plan_id);
  switch (name.kind) {
    case domain::PlanStreamName::Kind::kArea:
      return absl::StrCat(plan, "/areas/", name.id);
    case domain::PlanStreamName::Kind::kDecision:
      return absl::StrCat(plan, "/decisions/", name.id);
    case domain::PlanStreamName::Kind::kPlan:
      return plan;
    case domain::PlanStreamName::Kind::kNone:
      break;
  }
  return std::string(stream_id);
}

}  // namespace

std::string CloudEventJson(const eventstore::RecordedEvent& event,
                           absl::string_view server,
                           absl::string_view plan_id) {
  nlohmann::ordered_json json;
  json["specversion"] = "1.0";
  json["id"] = event.event_id;
  json["source"] = absl::StrCat("plantrail://", server, "/plans/", plan_id);
  json["type"] = absl::StrCat("plantrail.", event.type);
  json["subject"] = SubjectOf(event.stream_id, plan_id);
  json["time"] = absl::FormatTime("%Y-%m-%d%ET%H:%M:%E6SZ", event.recorded_at,
                                  absl::UTCTimeZone());
  json["plantrailposition"] = absl::StrCat(event.position);
  json["plantrailstream"] = event.stream_id;
  json["plantrailversion"] = absl::StrCat(event.stream_version);
  if (std::optional<nlohmann::ordered_json> data = DataOf(event);
      data.has_value() && !data->is_discarded()) {
    json["datacontenttype"] = "application/json";
    json["data"] = *std::move(data);
  } else {
    json["datacontenttype"] = event.content_type.empty()
                                  ? std::string("application/octet-stream")
                                  : event.content_type;
    json["data_base64"] = absl::Base64Escape(event.payload);
  }
  return json.dump();
}

}  // namespace plantrail::webhooks
