#include "eventstore/limits.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/quote.h"
#include "common/status_macros.h"
#include "eventstore/event.h"
#include "eventstore/record_format.h"
#include "eventstore/uuid.h"

namespace plantrail::eventstore {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string Quote(absl::string_view text) { return QuoteForMessage(text); }

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

absl::Status CheckLength(absl::string_view field, absl::string_view value,
                         size_t max, absl::string_view unit) {
  if (value.empty()) return Invalid(field, "must not be empty");
  if (value.size() > max) {
    return Invalid(field, absl::StrCat("must be at most ", max, " ", unit,
                                       " (got ", value.size(), ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateEventType(absl::string_view field, absl::string_view type,
                               const Limits& limits) {
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLength(field, type, limits.max_event_type_length, "characters"));
  bool ok = IsAlpha(type[0]);
  for (char c : type)
    ok = ok && (IsAlnum(c) || c == '.' || c == '_' || c == '-');
  if (!ok) {
    return Invalid(field, absl::StrCat(Quote(type),
                                       " must match [A-Za-z][A-Za-z0-9._-]*"));
  }
  return absl::OkStatus();
}

absl::Status ValidateContentType(absl::string_view field,
                                 absl::string_view content_type,
                                 const Limits& limits) {
  if (content_type.empty()) return absl::OkStatus();
  PLANTRAIL_RETURN_IF_ERROR(CheckLength(
      field, content_type, limits.max_content_type_length, "characters"));
  for (char c : content_type) {
    if (c < 0x20 || c > 0x7e) {
      return Invalid(
          field, absl::StrCat(Quote(content_type), " must be printable ASCII"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ValidateMetadata(absl::string_view field,
                                        const Metadata& metadata,
                                        const Limits& limits) {
  if (metadata.size() > limits.max_metadata_entries) {
    return Invalid(
        field, absl::StrCat("must have at most ", limits.max_metadata_entries,
                            " entries (got ", metadata.size(), ")"));
  }
  size_t bytes = 0;
  for (const auto& [key, value] : metadata) {
    const std::string key_field = absl::StrCat(field, "[", Quote(key), "]");
    if (key.empty() || key.size() > limits.max_metadata_key_length) {
      return Invalid(key_field, absl::StrCat("key must be 1 to ",
                                             limits.max_metadata_key_length,
                                             " characters"));
    }
    for (char c : key) {
      if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') {
        return Invalid(key_field, "key must match [A-Za-z0-9._-]+");
      }
    }
    if (key == record_format::kRedactedHeaderKey) {
      return Invalid(key_field,
                     "key is the log's own (a redaction's record of the "
                     "header it redacts)");
    }
    if (value.size() > limits.max_metadata_value_bytes) {
      return Invalid(key_field,
                     absl::StrCat("value must be at most ",
                                  limits.max_metadata_value_bytes,
                                  " bytes (got ", value.size(), ")"));
    }
    bytes += key.size() + value.size();
  }
  if (bytes > limits.max_metadata_bytes) {
    return Invalid(field,
                   absl::StrCat("must be at most ", limits.max_metadata_bytes,
                                " bytes of keys and values (got ", bytes, ")"));
  }
  return bytes;
}

}  // namespace

absl::Status ValidateStreamId(absl::string_view field, absl::string_view id,
                              const Limits& limits) {
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLength(field, id, limits.max_stream_id_length, "characters"));
  bool ok = IsAlnum(id[0]);
  for (char c : id) {
    ok = ok && (IsAlnum(c) || c == '.' || c == '_' || c == ':' || c == '@' ||
                c == '-');
  }
  if (!ok) {
    return Invalid(
        field,
        absl::StrCat(Quote(id), " must match [A-Za-z0-9][A-Za-z0-9._:@-]*"));
  }
  return absl::OkStatus();
}

absl::Status ValidateAppend(const AppendRequest& request,
                            const Limits& limits) {
  PLANTRAIL_RETURN_IF_ERROR(
      ValidateStreamId("stream_id", request.stream_id, limits));
  if (request.expected_version.kind() == ExpectedVersion::Kind::kExact &&
      request.expected_version.version() == 0) {
    return Invalid("expected_version.exact",
                   "must be at least 1 (use no_stream for a new stream)");
  }
  if (request.events.empty()) return Invalid("events", "must not be empty");
  if (request.events.size() > limits.max_events_per_append) {
    return Invalid(
        "events",
        absl::StrCat("must have at most ", limits.max_events_per_append,
                     " events per append (got ", request.events.size(), ")"));
  }
  size_t total_bytes = 0;
  absl::flat_hash_set<Uuid> ids;
  for (size_t i = 0; i < request.events.size(); ++i) {
    const ProposedEvent& event = request.events[i];
    const std::string prefix = absl::StrCat("events[", i, "].");
    if (!event.event_id.empty()) {
      auto id = ParseUuid(event.event_id);
      if (!id.ok()) {
        return Invalid(
            prefix + "event_id",
            absl::StrCat(Quote(event.event_id),
                         " must be a UUID such as "
                         "\"123e4567-e89b-12d3-a456-426614174000\""));
      }
      if (!ids.insert(*id).second) {
        return Invalid(prefix + "event_id",
                       absl::StrCat(Quote(event.event_id),
                                    " appears more than once in this append"));
      }
    }
    PLANTRAIL_RETURN_IF_ERROR(
        ValidateEventType(prefix + "type", event.type, limits));
    PLANTRAIL_RETURN_IF_ERROR(ValidateContentType(prefix + "content_type",
                                                  event.content_type, limits));
    if (event.payload.size() > limits.max_payload_bytes) {
      return Invalid(prefix + "payload",
                     absl::StrCat("must be at most ", limits.max_payload_bytes,
                                  " bytes (got ", event.payload.size(), ")"));
    }
    PLANTRAIL_ASSIGN_OR_RETURN(
        size_t metadata_bytes,
        ValidateMetadata(prefix + "metadata", event.metadata, limits));
    total_bytes += event.payload.size() + metadata_bytes;
  }
  if (total_bytes > limits.max_append_bytes) {
    return Invalid("events",
                   absl::StrCat("must carry at most ", limits.max_append_bytes,
                                " bytes of payload and metadata in "
                                "one append (got ",
                                total_bytes, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ResolvePageSize(uint32_t requested,
                                         const Limits& limits) {
  if (requested == 0) return limits.default_page_size;
  if (requested > limits.max_page_size) {
    return Invalid(
        "limit",
        absl::StrCat("must be at most ", limits.max_page_size, " (got ",
                     requested, "); 0 means ", limits.default_page_size));
  }
  return requested;
}

}  // namespace plantrail::eventstore
