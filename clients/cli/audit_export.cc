// The audit export's writing side: an export's scope and ExportWriter,
// which the `export` command drives while it reads the log. Apart from the
// offline verifier (audit_export_verify.cc), which never talks to a server
// and shares with this file only what audit_export_internal.h declares.
#include "clients/cli/audit_export.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "audit/chain_check.h"
#include "audit/digest.h"
#include "clients/cli/audit_export_internal.h"
#include "clients/cli/commands_util.h"
#include "domain/metadata_keys.h"
#include "google/protobuf/util/time_util.h"
#include "import/csv.h"

namespace plantrail::cli {
namespace {

using ::google::protobuf::util::TimeUtil;
using internal::EventRecord;
using internal::kCsvColumns;
using plan_import::CsvCell;
using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

std::string TimeText(absl::Time time) {
  return absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone());
}

std::string Hex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes);
}

// Who redacted an event, when and why, as its event line carries them.
OrderedJson FactsJson(const RedactionFacts& facts) {
  return {{"position", facts.position},
          {"actor", facts.actor},
          {"recorded_at", facts.recorded_at},
          {"reason", facts.reason}};
}

OrderedJson LinkRecord(const v1::RecordedEvent& event) {
  OrderedJson record = {
      {"record", "link"},
      {"position", event.position()},
      {"header", absl::Base64Escape(audit::HeaderBytes(event))},
      {"payload_hash", Hex(event.payload_hash())},
      {"hash", Hex(event.hash())}};
  if (!event.header_hash().empty()) {
    record["header_hash"] = Hex(event.header_hash());
  }
  return record;
}

}  // namespace

namespace internal {

// An event line; `redaction` only for a redacted event.
OrderedJson EventRecord(const v1::RecordedEvent& event,
                        const OrderedJson& redaction) {
  OrderedJson record = {{"record", "event"}};
  const OrderedJson fields = EventJson(event);
  for (const auto& [key, value] : fields.items()) record[key] = value;
  // Only for an event whose metadata a redaction cleared.
  if (!event.header_hash().empty()) {
    record["header_hash"] = Hex(event.header_hash());
  }
  record["redacted"] = event.redacted();
  if (event.redacted()) record["redaction"] = redaction;
  record["payload_bytes"] = absl::Base64Escape(event.payload());
  return record;
}

}  // namespace internal

std::optional<RedactionFacts> RedactionFactsOf(const v1::RecordedEvent& event) {
  if (event.type() != v1::PayloadRedacted::descriptor()->name() ||
      event.metadata().find(kRedactsPositionKey) == event.metadata().end()) {
    return std::nullopt;
  }
  RedactionFacts facts;
  facts.position = event.position();
  auto actor = event.metadata().find(domain::kActorKey);
  if (actor != event.metadata().end()) facts.actor = actor->second;
  facts.recorded_at = TimeUtil::ToString(event.recorded_at());
  v1::PayloadRedacted payload;
  // A link has no payload: its reason is known only from the full event.
  if (!event.payload().empty() && payload.ParseFromString(event.payload())) {
    facts.reason = payload.reason();
  }
  return facts;
}

// --- ExportScope -----------------------------------------------------------

bool ExportScope::ContainsTime(absl::Time recorded_at) const {
  return (!from.has_value() || recorded_at >= *from) &&
         (!to.has_value() || recorded_at <= *to);
}

bool ExportScope::Contains(const v1::RecordedEvent& event) const {
  if (!ContainsTime(audit::TimeOf(event.recorded_at()))) return false;
  if (stream.empty() || event.stream_id() == stream) return true;
  auto redacts = event.metadata().find(kRedactsStreamKey);
  return redacts != event.metadata().end() && redacts->second == stream;
}

nlohmann::ordered_json ExportScope::ToJson() const {
  return {{"stream", stream},
          {"from", from.has_value() ? Json(TimeText(*from)) : Json()},
          {"to", to.has_value() ? Json(TimeText(*to)) : Json()}};
}

absl::StatusOr<ExportScope> ExportScope::FromJson(const nlohmann::json& json) {
  ExportScope scope;
  if (!json.is_object() || !json.contains("stream") ||
      !json["stream"].is_string()) {
    return absl::InvalidArgumentError("scope.stream: missing");
  }
  scope.stream = json["stream"].get<std::string>();
  for (auto [field, bound] :
       {std::pair{"from", &scope.from}, std::pair{"to", &scope.to}}) {
    if (!json.contains(field) || json[field].is_null()) continue;
    absl::Time time;
    std::string error;
    if (!json[field].is_string() ||
        !absl::ParseTime(absl::RFC3339_full, json[field].get<std::string>(),
                         &time, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("scope.", field, ": not an RFC 3339 time"));
    }
    *bound = time;
  }
  return scope;
}

std::string ExportScope::Describe() const {
  std::string text =
      stream.empty() ? "every stream" : absl::StrCat("stream ", stream);
  if (from.has_value()) absl::StrAppend(&text, ", from ", TimeText(*from));
  if (to.has_value()) absl::StrAppend(&text, ", to ", TimeText(*to));
  return text;
}

// --- ExportWriter ----------------------------------------------------------

ExportWriter::ExportWriter(std::ostream& out, ExportFormat format,
                           ExportScope scope)
    : out_(out), format_(format), scope_(std::move(scope)) {}

void ExportWriter::Write(const nlohmann::ordered_json& record) {
  if (format_ == ExportFormat::kJsonLines) {
    out_ << record.dump() << "\n";
    return;
  }
  std::map<std::string, std::string> cells;
  const std::string kind = record["record"].get<std::string>();
  cells["record"] = kind;
  if (kind == "export" || kind == "digest") {
    OrderedJson details = record;
    details.erase("record");
    cells["details"] = details.dump();
  } else {
    for (const auto& [key, value] : record.items()) {
      if (key == "record") continue;
      // metadata and payload stay JSON text, whatever their type, so a
      // reader parses them back to the same values.
      const bool json_text = key == "metadata" || key == "payload";
      cells[key] = value.is_string() && !json_text ? value.get<std::string>()
                                                   : value.dump();
    }
  }
  std::vector<std::string> row;
  for (const char* column : kCsvColumns) row.push_back(CsvCell(cells[column]));
  out_ << absl::StrJoin(row, ",") << "\n";
}

void ExportWriter::Begin(uint64_t first_position,
                         absl::string_view previous_hash) {
  if (format_ == ExportFormat::kCsv) {
    out_ << absl::StrJoin(kCsvColumns, ",") << "\n";
  }
  Write({{"record", "export"},
         {"format", kExportFormat},
         {"scope", scope_.ToJson()},
         {"first_position", first_position},
         {"previous_hash", Hex(previous_hash)}});
}

void ExportWriter::Add(const v1::RecordedEvent& event) {
  if (scope_.Contains(event)) {
    OrderedJson redaction;
    if (event.redacted()) {
      auto facts = redactions_.find(event.position());
      redaction = facts == redactions_.end() ? OrderedJson::object()
                                             : FactsJson(facts->second);
    }
    Write(EventRecord(event, redaction));
    ++events_;
  } else {
    Write(LinkRecord(event));
    ++links_;
  }
}

void ExportWriter::Finish(const v1::Digest& digest) {
  OrderedJson record = {{"record", "digest"}};
  const OrderedJson fields = audit::DigestToJson(digest);
  for (const auto& [key, value] : fields.items()) record[key] = value;
  Write(record);
  out_.flush();
}

}  // namespace plantrail::cli
