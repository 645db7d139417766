// A plan event as a CloudEvents 1.0 JSON event in structured mode
// (https://github.com/cloudevents/spec, JSON format): the body a webhook
// delivers, which receivers read with the CloudEvents SDK they have.
//
//   specversion  "1.0"
//   id           the event's id (a UUID, stable across retries: a receiver
//                drops duplicates by it)
//   source       "plantrail://<server>/plans/<plan_id>"
//   type         "plantrail.<EventType>", e.g. "plantrail.StatusReported"
//   subject      the area, decision or plan: "plans/<plan>/areas/<area>",
//                ".../decisions/<id>", "plans/<plan>"
//   time         the recorded time, RFC 3339, UTC, microseconds
//   datacontenttype  "application/json"
//   data         the payload as proto3 JSON of its API twin
//                (plantrail.v1.<EventType>, field names as in the .proto);
//                `data_base64` with the stored bytes for a type this
//                version cannot decode
//   plantrailposition, plantrailstream, plantrailversion  extension
//                attributes: the log position, the stream and its version
//                (strings: CloudEvents integers are 32-bit)
//
// Pure; thread-safe.
#ifndef PLANTRAIL_WEBHOOKS_CLOUD_EVENT_H_
#define PLANTRAIL_WEBHOOKS_CLOUD_EVENT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "eventstore/event.h"

namespace plantrail::webhooks {

// `plan_id` is the plan the event belongs to (resolved by the caller: the
// streams of the plan that holds the unplanned areas do not name it).
std::string CloudEventJson(const eventstore::RecordedEvent& event,
                           absl::string_view server, absl::string_view plan_id);

}  // namespace plantrail::webhooks

#endif  // PLANTRAIL_WEBHOOKS_CLOUD_EVENT_H_
