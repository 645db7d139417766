// The audit export's offline verifier (`plantrail verify-export`): reads an
// export back, in either format, and checks it with no server. Apart from
// the writer (audit_export.cc) because an auditor's check is a job of its
// own; it rebuilds each event line with the writer's own EventRecord
// (audit_export_internal.h), so the two cannot drift apart.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "audit/chain_check.h"
#include "audit/digest.h"
#include "audit/signing_key.h"
#include "clients/cli/audit_export.h"
#include "clients/cli/audit_export_internal.h"
#include "eventstore/event.h"
#include "google/protobuf/util/time_util.h"
#include "import/csv.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/admin.pb.h"
#include "plantrail/v1/event_store.pb.h"

namespace plantrail::cli {
namespace {

using ::google::protobuf::util::TimeUtil;
using internal::EventRecord;
using internal::kCsvColumns;
using internal::kCsvColumnsBeforeHeaderHash;
using plan_import::CsvRecord;
using plan_import::ReadCsv;
using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

struct Record {
  int line = 0;
  Json json;
};

absl::Status Malformed(int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

absl::Status Broken(int line, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("line ", line, ": ", what));
}

absl::StatusOr<std::vector<Record>> ReadJsonLines(absl::string_view text) {
  std::vector<Record> records;
  int line = 0;
  for (absl::string_view row : absl::StrSplit(text, '\n')) {
    ++line;
    if (row.empty()) continue;
    Json json = Json::parse(row, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) return Malformed(line, "not a JSON object");
    records.push_back({line, std::move(json)});
  }
  return records;
}

// A CSV row back into the record its JSON line would be.
absl::StatusOr<Json> RowRecord(const std::vector<std::string>& header,
                               const CsvRecord& row) {
  if (row.cells.size() != header.size()) {
    return Malformed(
        row.line, absl::StrCat("has ", row.cells.size(), " cells, the header ",
                               header.size()));
  }
  std::map<std::string, std::string> cells;
  for (size_t i = 0; i < header.size(); ++i) cells[header[i]] = row.cells[i];
  auto parse = [&row](const std::string& text,
                      const char* column) -> absl::StatusOr<Json> {
    Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      return Malformed(row.line, absl::StrCat(column, ": not JSON"));
    }
    return json;
  };
  auto number = [&row](const std::string& text,
                       const char* column) -> absl::StatusOr<Json> {
    uint64_t value;
    if (!absl::SimpleAtoi(text, &value)) {
      return Malformed(row.line, absl::StrCat(column, ": not a number"));
    }
    return Json(value);
  };
  const std::string& kind = cells["record"];
  if (kind == "export" || kind == "digest") {
    absl::StatusOr<Json> details = parse(cells["details"], "details");
    if (!details.ok()) return details.status();
    if (!details->is_object()) {
      return Malformed(row.line, "details: not a JSON object");
    }
    Json record = {{"record", kind}};
    record.update(*details);
    return record;
  }
  if (kind == "link") {
    absl::StatusOr<Json> position = number(cells["position"], "position");
    if (!position.ok()) return position.status();
    Json record = {{"record", kind},
                   {"position", *position},
                   {"header", cells["header"]},
                   {"payload_hash", cells["payload_hash"]},
                   {"hash", cells["hash"]}};
    if (!cells["header_hash"].empty()) {
      record["header_hash"] = cells["header_hash"];
    }
    return record;
  }
  if (kind != "event") {
    return Malformed(row.line,
                     absl::StrCat("record: unknown kind \"", kind, "\""));
  }
  Json record = {{"record", kind}};
  for (const char* column : {"position", "version"}) {
    absl::StatusOr<Json> value = number(cells[column], column);
    if (!value.ok()) return value.status();
    record[column] = *value;
  }
  for (const char* column : {"metadata", "payload"}) {
    absl::StatusOr<Json> value = parse(cells[column], column);
    if (!value.ok()) return value.status();
    record[column] = *value;
  }
  for (const char* column :
       {"stream_id", "type", "event_id", "recorded_at", "actor", "content_type",
        "payload_bytes", "payload_hash", "hash"}) {
    record[column] = cells[column];
  }
  if (!cells["header_hash"].empty()) {
    record["header_hash"] = cells["header_hash"];
  }
  if (cells["redacted"] != "true" && cells["redacted"] != "false") {
    return Malformed(row.line, "redacted: must be true or false");
  }
  record["redacted"] = cells["redacted"] == "true";
  if (record["redacted"] == true) {
    absl::StatusOr<Json> redaction = parse(cells["redaction"], "redaction");
    if (!redaction.ok()) return redaction.status();
    record["redaction"] = *redaction;
  }
  return record;
}

absl::StatusOr<std::vector<Record>> ReadCsvRecords(absl::string_view text) {
  absl::StatusOr<std::vector<CsvRecord>> rows = ReadCsv(text);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Malformed(1, "no header row");
  const std::vector<std::string>& header = rows->front().cells;
  const std::vector<std::string> columns(std::begin(kCsvColumns),
                                         std::end(kCsvColumns));
  if (header != columns &&
      header !=
          std::vector<std::string>(
              columns.begin(), columns.begin() + kCsvColumnsBeforeHeaderHash)) {
    return Malformed(1, absl::StrCat("the header is not the export's: ",
                                     absl::StrJoin(kCsvColumns, ",")));
  }
  std::vector<Record> records;
  for (size_t i = 1; i < rows->size(); ++i) {
    absl::StatusOr<Json> record = RowRecord(header, (*rows)[i]);
    if (!record.ok()) return record.status();
    records.push_back({(*rows)[i].line, *std::move(record)});
  }
  return records;
}

absl::StatusOr<std::string> HexField(const Json& json, const char* field,
                                     size_t bytes, int line) {
  if (!json.contains(field) || !json[field].is_string()) {
    return Malformed(line, absl::StrCat(field, ": missing"));
  }
  const std::string text = json[field].get<std::string>();
  if (text.size() != 2 * bytes ||
      !std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return Malformed(line, absl::StrCat(field, ": must be ", 2 * bytes,
                                        " lower-case hex digits"));
  }
  return absl::HexStringToBytes(text);
}

absl::StatusOr<std::string> StringField(const Json& json, const char* field,
                                        int line) {
  if (!json.contains(field) || !json[field].is_string()) {
    return Malformed(line, absl::StrCat(field, ": missing (a string)"));
  }
  return json[field].get<std::string>();
}

absl::StatusOr<uint64_t> NumberField(const Json& json, const char* field,
                                     int line) {
  if (!json.contains(field) || !json[field].is_number_unsigned()) {
    return Malformed(line, absl::StrCat(field, ": missing (a number)"));
  }
  return json[field].get<uint64_t>();
}

// The event a record states, rebuilt from its bytes and header fields; its
// readable fields must be exactly what those say.
absl::StatusOr<v1::RecordedEvent> EventFromRecord(const Record& record) {
  const Json& json = record.json;
  const int line = record.line;
  v1::RecordedEvent event;
  absl::StatusOr<uint64_t> position = NumberField(json, "position", line);
  absl::StatusOr<uint64_t> version = NumberField(json, "version", line);
  if (!position.ok()) return position.status();
  if (!version.ok()) return version.status();
  event.set_position(*position);
  event.set_stream_version(*version);
  for (auto [field, setter] : std::initializer_list<
           std::pair<const char*, std::string* (v1::RecordedEvent::*)()>>{
           {"stream_id", &v1::RecordedEvent::mutable_stream_id},
           {"type", &v1::RecordedEvent::mutable_type},
           {"event_id", &v1::RecordedEvent::mutable_event_id},
           {"content_type", &v1::RecordedEvent::mutable_content_type}}) {
    absl::StatusOr<std::string> value = StringField(json, field, line);
    if (!value.ok()) return value.status();
    *(event.*setter)() = *value;
  }
  absl::StatusOr<std::string> recorded_at =
      StringField(json, "recorded_at", line);
  if (!recorded_at.ok()) return recorded_at.status();
  if (!TimeUtil::FromString(*recorded_at, event.mutable_recorded_at())) {
    return Malformed(line, "recorded_at: not an RFC 3339 time");
  }
  if (!json.contains("metadata") || !json["metadata"].is_object()) {
    return Malformed(line, "metadata: missing (an object)");
  }
  for (const auto& [key, value] : json["metadata"].items()) {
    if (!value.is_string()) {
      return Malformed(line, absl::StrCat("metadata.", key, ": not a string"));
    }
    (*event.mutable_metadata())[key] = value.get<std::string>();
  }
  absl::StatusOr<std::string> bytes = StringField(json, "payload_bytes", line);
  if (!bytes.ok()) return bytes.status();
  if (!absl::Base64Unescape(*bytes, event.mutable_payload())) {
    return Malformed(line, "payload_bytes: not base64");
  }
  absl::StatusOr<std::string> payload_hash =
      HexField(json, "payload_hash", 32, line);
  absl::StatusOr<std::string> hash = HexField(json, "hash", 32, line);
  if (!payload_hash.ok()) return payload_hash.status();
  if (!hash.ok()) return hash.status();
  event.set_payload_hash(*payload_hash);
  event.set_hash(*hash);
  if (json.contains("header_hash")) {
    absl::StatusOr<std::string> header_hash =
        HexField(json, "header_hash", 32, line);
    if (!header_hash.ok()) return header_hash.status();
    event.set_header_hash(*header_hash);
  }
  if (!json.contains("redacted") || !json["redacted"].is_boolean()) {
    return Malformed(line, "redacted: missing (true or false)");
  }
  event.set_redacted(json["redacted"].get<bool>());
  if (event.redacted() &&
      (!json.contains("redaction") || !json["redaction"].is_object())) {
    return Malformed(line, "redaction: missing for a redacted event");
  }
  // Every readable field (actor, the decoded payload, ...) must be what the
  // bytes say: an auditor reads those, not the base64. (The redaction's
  // facts are checked against its own event.)
  const Json expected = Json::parse(
      EventRecord(event, event.redacted()
                             ? OrderedJson::parse(json["redaction"].dump())
                             : OrderedJson())
          .dump());
  for (const auto& [key, value] : expected.items()) {
    if (!json.contains(key) || json[key] != value) {
      return Broken(line, absl::StrCat("position ", event.position(), ": ", key,
                                       " is not what the event's bytes say"));
    }
  }
  for (const auto& [key, value] : json.items()) {
    if (!expected.contains(key)) {
      return Broken(line, absl::StrCat("position ", event.position(),
                                       ": an unknown field \"", key, "\""));
    }
  }
  return event;
}

absl::StatusOr<v1::RecordedEvent> EventFromLink(const Record& record) {
  const Json& json = record.json;
  const int line = record.line;
  absl::StatusOr<uint64_t> position = NumberField(json, "position", line);
  absl::StatusOr<std::string> header = StringField(json, "header", line);
  absl::StatusOr<std::string> payload_hash =
      HexField(json, "payload_hash", 32, line);
  absl::StatusOr<std::string> hash = HexField(json, "hash", 32, line);
  for (const absl::Status& status : {position.status(), header.status(),
                                     payload_hash.status(), hash.status()}) {
    if (!status.ok()) return status;
  }
  std::string bytes;
  if (!absl::Base64Unescape(*header, &bytes)) {
    return Malformed(line, "header: not base64");
  }
  absl::StatusOr<v1::RecordedEvent> event = audit::FromHeaderBytes(bytes);
  if (!event.ok()) {
    return Broken(line, absl::StrCat("header: ", event.status().message()));
  }
  if (event->position() != *position) {
    return Broken(line,
                  absl::StrCat("the header says position ", event->position(),
                               ", the line ", *position));
  }
  event->set_payload_hash(*payload_hash);
  event->set_hash(*hash);
  if (json.contains("header_hash")) {
    absl::StatusOr<std::string> header_hash =
        HexField(json, "header_hash", 32, line);
    if (!header_hash.ok()) return header_hash.status();
    event->set_header_hash(*header_hash);
  }
  // A link has no payload: only its hash goes into the chain.
  event->set_redacted(true);
  return event;
}

}  // namespace

absl::StatusOr<ExportVerdict> VerifyExport(
    absl::string_view text, const std::optional<std::string>& pinned_key) {
  const bool csv = absl::StartsWith(text, "record,");
  absl::StatusOr<std::vector<Record>> records =
      csv ? ReadCsvRecords(text) : ReadJsonLines(text);
  if (!records.ok()) return records.status();
  if (records->empty() ||
      records->front().json.value("record", "") != "export") {
    return absl::InvalidArgumentError(
        "not a plantrail export: it does not begin with its export record");
  }
  const Record& head = records->front();
  if (head.json.value("format", "") != kExportFormat) {
    return Malformed(head.line,
                     absl::StrCat("format: must be \"", kExportFormat, "\""));
  }
  ExportVerdict verdict;
  absl::StatusOr<ExportScope> scope =
      ExportScope::FromJson(head.json.value("scope", Json()));
  if (!scope.ok()) return Malformed(head.line, scope.status().message());
  verdict.scope = *scope;
  absl::StatusOr<uint64_t> first =
      NumberField(head.json, "first_position", head.line);
  if (!first.ok()) return first.status();
  absl::StatusOr<std::string> previous =
      HexField(head.json, "previous_hash", 32, head.line);
  if (!previous.ok()) return previous.status();
  if (*first == 0) return Malformed(head.line, "first_position: must be >= 1");
  eventstore::Hash anchor{};
  std::copy(previous->begin(), previous->end(), anchor.begin());
  if (*first == 1 && anchor != eventstore::Hash{}) {
    return Broken(head.line,
                  "the log's first event follows no hash, but "
                  "previous_hash is not zero");
  }
  verdict.first_position = *first;

  audit::ChainCheck chain(*first - 1, anchor);
  std::optional<absl::Time> first_time, last_time;
  // Redacted events with the facts their lines state, and the redaction
  // events the file holds (in full or as links), by the position they
  // redact.
  std::map<uint64_t, std::pair<int, Json>> redacted;
  std::map<uint64_t, std::pair<RedactionFacts, bool>> redactions_seen;
  const Record* digest_record = nullptr;
  for (size_t i = 1; i < records->size(); ++i) {
    const Record& record = (*records)[i];
    const std::string kind = record.json.value("record", "");
    if (digest_record != nullptr) {
      return Broken(record.line, "a record after the digest");
    }
    if (kind == "digest") {
      digest_record = &record;
      continue;
    }
    absl::StatusOr<v1::RecordedEvent> event =
        kind == "event" ? EventFromRecord(record)
        : kind == "link"
            ? EventFromLink(record)
            : absl::StatusOr<v1::RecordedEvent>(Malformed(
                  record.line,
                  absl::StrCat("record: unknown kind \"", kind, "\"")));
    if (!event.ok()) return event.status();
    if (absl::Status added = chain.Add(*event); !added.ok()) {
      return Broken(record.line, added.message());
    }
    if (std::optional<RedactionFacts> facts = RedactionFactsOf(*event)) {
      auto target = event->metadata().find(kRedactsPositionKey);
      uint64_t position = 0;
      if (target != event->metadata().end() &&
          absl::SimpleAtoi(target->second, &position)) {
        redactions_seen[position] = {*facts, kind == "event"};
      }
    }
    const absl::Time time = audit::TimeOf(event->recorded_at());
    if (last_time.has_value() && time < *last_time) {
      return Broken(record.line, absl::StrCat("position ", event->position(),
                                              " was recorded before the "
                                              "event ahead of it"));
    }
    if (!first_time.has_value()) first_time = time;
    last_time = time;
    if (kind == "link") {
      ++verdict.links;
      if (verdict.scope.Contains(*event)) {
        return Broken(record.line,
                      absl::StrCat("position ", event->position(),
                                   " is in the export's scope (",
                                   verdict.scope.Describe(),
                                   ") but only its link is here: the export "
                                   "leaves it out"));
      }
      continue;
    }
    ++verdict.events;
    if (event->redacted()) {
      redacted[event->position()] = {record.line, record.json["redaction"]};
    }
  }
  if (digest_record == nullptr) {
    return absl::DataLossError(
        "the export ends without its signed digest: it was cut short");
  }
  Json digest_json = digest_record->json;
  digest_json.erase("record");
  digest_json["format"] = audit::kDigestFormat;
  absl::StatusOr<v1::Digest> digest = audit::DigestFromJson(digest_json);
  if (!digest.ok())
    return Malformed(digest_record->line, digest.status().message());
  if (absl::Status signed_ok = audit::CheckDigest(*digest); !signed_ok.ok()) {
    return Broken(digest_record->line,
                  absl::StrCat("the digest: ", signed_ok.message()));
  }
  if (pinned_key.has_value()) {
    verdict.key_pinned = true;
    if (*pinned_key != digest->public_key()) {
      return Broken(digest_record->line,
                    absl::StrCat("the digest is signed by ", digest->key_id(),
                                 ", not by the pinned key ",
                                 audit::KeyIdOf(*pinned_key)));
    }
  }
  if (digest->position() != chain.position()) {
    return Broken(digest_record->line,
                  absl::StrCat("the digest signs position ", digest->position(),
                               " but the export ends at ", chain.position()));
  }
  if (absl::string_view(reinterpret_cast<const char*>(chain.hash().data()),
                        chain.hash().size()) != digest->head_hash()) {
    return Broken(digest_record->line,
                  "the chain recomputed from the export does not end at the "
                  "digest's signed hash: events were changed, added or "
                  "removed");
  }
  verdict.last_position = chain.position();
  verdict.digest = *digest;
  verdict.reaches_head = chain.position() == digest->log_head();
  // A redacted header is bound by its redaction's record, committed with
  // it: only an export that ends before the log's head may lack it.
  for (const auto& [position, hash] : chain.unbound_headers()) {
    if (verdict.reaches_head) {
      return absl::DataLossError(
          absl::StrCat("position ", position,
                       ": the header is marked redacted but no redaction's "
                       "record in the export binds it"));
    }
    verdict.unbound_headers.push_back(position);
  }

  // The scope's edges: nothing in scope before the first position or after
  // the last.
  if (verdict.scope.from.has_value() && verdict.first_position > 1 &&
      first_time.has_value() && *first_time >= *verdict.scope.from) {
    return absl::DataLossError(absl::StrCat(
        "the export starts at position ", verdict.first_position,
        ", which is not before its scope's start: events before it may be "
        "missing"));
  }
  // With an end (--to), nothing of the scope may lie after the export: it
  // ends with an event past the scope, or at the log's head when signed.
  // Without one, the export covers the log up to its last position, which
  // the verdict states (the log may have grown since it was read).
  const bool ends_after_scope = verdict.scope.to.has_value() &&
                                last_time.has_value() &&
                                *last_time > *verdict.scope.to;
  if (verdict.scope.to.has_value() && !verdict.reaches_head &&
      !ends_after_scope) {
    return absl::DataLossError(absl::StrCat(
        "the export ends at position ", verdict.last_position,
        " but the log had ", digest->log_head(),
        " events when it was signed, and its scope does not end before "
        "them: events after it may be missing"));
  }
  // A redacted event's line says who redacted it, when and why; the
  // redaction's own event, chained in the file unless it came after the
  // file's end, must say the same.
  for (const auto& [position, stated] : redacted) {
    const auto& [line, json] = stated;
    RedactionFacts facts;
    if (json.contains("position") && json["position"].is_number_unsigned()) {
      facts.position = json["position"].get<uint64_t>();
    }
    facts.actor = json.value("actor", "");
    facts.recorded_at = json.value("recorded_at", "");
    facts.reason = json.value("reason", "");
    auto seen = redactions_seen.find(position);
    if (seen == redactions_seen.end()) {
      if (facts.position > verdict.last_position) {
        verdict.redactions[position] = facts;
        continue;
      }
      return Broken(line, absl::StrCat("position ", position,
                                       " is marked redacted but the export "
                                       "holds no redaction event for it"));
    }
    const auto& [found, in_full] = seen->second;
    if (found.position != facts.position || found.actor != facts.actor ||
        found.recorded_at != facts.recorded_at ||
        (in_full && found.reason != facts.reason)) {
      return Broken(line, absl::StrCat("position ", position,
                                       ": its redaction is not what the "
                                       "redaction's own event (position ",
                                       found.position, ") says"));
    }
    verdict.redactions[position] = in_full ? found : facts;
  }
  return verdict;
}

}  // namespace plantrail::cli
