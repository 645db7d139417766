// Private to the audit export's two .cc files: audit_export.cc writes an
// export and audit_export_verify.cc reads one back, and both must agree on
// the CSV columns and on what an event line holds. Declared once here so
// the verifier checks a line with the very code that writes it.
#ifndef PLANTRAIL_CLIENTS_CLI_AUDIT_EXPORT_INTERNAL_H_
#define PLANTRAIL_CLIENTS_CLI_AUDIT_EXPORT_INTERNAL_H_

#include <cstddef>
#include <iterator>

#include "nlohmann/json.hpp"
#include "plantrail/v1/event_store.pb.h"

namespace plantrail::cli::internal {

inline constexpr const char* kCsvColumns[] = {
    "record",    "position",      "stream_id",    "version",    "type",
    "event_id",  "recorded_at",   "actor",        "metadata",   "content_type",
    "payload",   "payload_bytes", "payload_hash", "hash",       "redacted",
    "redaction", "header",        "details",      "header_hash"};
// Exports written before headers could be redacted have every column but
// the last.
inline constexpr size_t kCsvColumnsBeforeHeaderHash =
    std::size(kCsvColumns) - 1;

// An event line: what `watch --json` prints, plus the bytes it came from;
// `redaction` only for a redacted event. The verifier rebuilds a line with
// it to check that the readable fields are what the bytes say.
nlohmann::ordered_json EventRecord(
    const v1::RecordedEvent& event,
    const nlohmann::ordered_json& redaction = nlohmann::ordered_json());

}  // namespace plantrail::cli::internal

#endif  // PLANTRAIL_CLIENTS_CLI_AUDIT_EXPORT_INTERNAL_H_
