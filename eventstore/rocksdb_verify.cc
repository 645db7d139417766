// RocksDbEventStore::Verify and HashAt: the auditor's walk over the stored
// log, recomputing every hash and index entry, and the hash at a position.
// Apart from rocksdb_event_store.cc because checking is a job of its own:
// it only reads (Verify from one snapshot) and shares nothing with the
// writer but the record format and rocksdb_internal.h.
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eventstore/record_format.h"
#include "eventstore/rocksdb_event_store.h"
#include "eventstore/rocksdb_internal.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/status.h"

namespace plantrail::eventstore {
namespace rf = record_format;
using internal::FromRocks;
using internal::View;
namespace {

std::string ShortHex(const Hash& hash) { return rf::HexOf(hash).substr(0, 16); }

}  // namespace

absl::StatusOr<VerifyReport> RocksDbEventStore::Verify(
    const VerifyOptions& options) const {
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snapshot;
    ~Release() { db->ReleaseSnapshot(snapshot); }
  } release{db_, snapshot};

  VerifyReport report;
  auto broken = [&report](uint64_t position, std::string problem) {
    report.ok = false;
    report.first_broken_position = position;
    report.events_checked = position - 1;
    report.problem = std::move(problem);
    return report;
  };
  absl::flat_hash_map<std::string, uint64_t> stream_versions;
  // Redacted headers (their positions and the SHA-256 of what is stored)
  // whose redaction's record has not come yet (record_format.h).
  std::map<uint64_t, Hash> unbound_headers;
  Hash previous{};
  uint64_t expected = 1;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read_options, events_));
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    absl::StatusOr<uint64_t> position = rf::DecodePositionKey(View(it->key()));
    if (!position.ok()) return broken(expected, "a key is not a position");
    if (*position != expected) {
      return broken(expected, absl::StrCat("position ", expected,
                                           " is missing (the next stored is ",
                                           *position, ")"));
    }
    const absl::string_view bytes = View(it->value());
    absl::StatusOr<rf::RecordView> view = rf::ViewRecord(bytes);
    if (!view.ok())
      return broken(expected, std::string(view.status().message()));
    absl::StatusOr<RecordedEvent> event = rf::DecodeRecord(bytes);
    if (!event.ok()) {
      return broken(expected, std::string(event.status().message()));
    }
    if (event->position != expected) {
      return broken(expected,
                    absl::StrCat("the record says position ", event->position));
    }
    if ((view->flags & rf::kFlagRedacted) == 0 &&
        rf::Sha256(view->payload) != view->payload_hash) {
      return broken(expected, "the payload does not match its hash");
    }
    const Hash hash =
        rf::ChainHash(previous, rf::HeaderHash(*view), view->payload_hash);
    if (hash != view->hash) {
      return broken(expected,
                    "the chain hash does not match the header, payload hash "
                    "and previous hash");
    }
    if (view->header_hash) unbound_headers[expected] = rf::Sha256(view->header);
    if (auto bound = event->metadata.find(rf::kRedactedHeaderKey);
        bound != event->metadata.end()) {
      absl::StatusOr<rf::RedactedHeader> header =
          rf::DecodeRedactedHeader(bound->second);
      if (!header.ok()) {
        return broken(expected, std::string(header.status().message()));
      }
      auto unbound = unbound_headers.find(header->position);
      if (unbound == unbound_headers.end()) {
        return broken(
            expected,
            absl::StrCat("it records the redacted header of position ",
                         header->position,
                         ", which is not a redacted header awaiting "
                         "its redaction's record"));
      }
      if (unbound->second != header->hash) {
        return broken(header->position,
                      absl::StrCat("the redacted header is not the one its "
                                   "redaction recorded (position ",
                                   expected, ")"));
      }
      unbound_headers.erase(unbound);
    }
    uint64_t& version = stream_versions[event->stream_id];
    if (event->stream_version != version + 1) {
      return broken(expected, absl::StrCat("stream \"", event->stream_id,
                                           "\" jumps from version ", version,
                                           " to ", event->stream_version));
    }
    version = event->stream_version;
    std::string indexed;
    rocksdb::Status status = db_->Get(
        read_options, streams_,
        rf::StreamKey(event->stream_id, event->stream_version), &indexed);
    if (!status.ok() || indexed != View(it->key())) {
      return broken(expected, absl::StrCat("the stream index does not point "
                                           "at this event (",
                                           event->stream_id, " version ",
                                           event->stream_version, ")"));
    }
    if (options.anchor.has_value() && options.anchor->position == expected &&
        options.anchor->hash != hash) {
      return broken(
          expected,
          absl::StrCat("the chain hash at position ", expected, " is ",
                       ShortHex(hash), "..., the digest says ",
                       ShortHex(options.anchor->hash),
                       "...: events at or before it were changed and the "
                       "chain recomputed"));
    }
    previous = hash;
    report.events_checked = expected;
  }
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot walk the log"));
  if (!unbound_headers.empty()) {
    // A redaction commits its record with the header it redacts, so a
    // complete log holds the record.
    return broken(unbound_headers.begin()->first,
                  "the header is marked redacted but no redaction's record "
                  "binds it");
  }
  report.head_position = expected - 1;
  report.head_hash = previous;
  if (options.anchor.has_value() &&
      options.anchor->position > report.head_position) {
    return broken(
        report.head_position + 1,
        absl::StrCat("the log ends at position ", report.head_position,
                     ", before the digest's position ",
                     options.anchor->position, ": events it covered are gone"));
  }
  return report;
}

absl::StatusOr<Hash> RocksDbEventStore::HashAt(uint64_t position) const {
  std::string record;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), events_,
                                    rf::PositionKey(position), &record);
  if (status.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("position: ", position,
                                            " is beyond the log's head (",
                                            HeadPosition(), ")"));
  }
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read an event"));
  PLANTRAIL_ASSIGN_OR_RETURN(rf::RecordView view, rf::ViewRecord(record));
  return view.hash;
}

}  // namespace plantrail::eventstore
