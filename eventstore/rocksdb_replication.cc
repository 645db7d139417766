// RocksDbEventStore's replication: reading the stored records as they are,
// and writing records copied from another store at the same positions
// after checking every hash. Apart from rocksdb_event_store.cc because it
// is a job of its own; the writing half runs on the writer thread like any
// commit (CommitGroup calls StageStored).
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/sync.h"
#include "eventstore/record_format.h"
#include "eventstore/rocksdb_event_store.h"
#include "eventstore/rocksdb_internal.h"
#include "eventstore/uuid.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace plantrail::eventstore {
namespace rf = record_format;
using internal::FromRocks;
using internal::View;

namespace {

rocksdb::Slice AsSlice(const Uuid& id) {
  return rocksdb::Slice(reinterpret_cast<const char*>(id.data()), id.size());
}

// A refused record: which, and what is wrong with it.
absl::Status Refused(uint64_t position, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat("the record at position ", position, " ", what));
}

// The record's bytes decoded, and refused unless this build would encode
// it exactly so (a copy must be byte-identical, and no byte may sit where
// the chain does not reach).
absl::StatusOr<RecordedEvent> DecodeExactly(uint64_t position,
                                            absl::string_view bytes) {
  absl::StatusOr<RecordedEvent> event = rf::DecodeRecord(bytes);
  if (!event.ok()) {
    return Refused(position,
                   absl::StrCat("does not decode: ", event.status().message()));
  }
  if (event->position != position) {
    return Refused(position,
                   absl::StrCat("says it is at position ", event->position));
  }
  if (rf::EncodeRecord(*event) != bytes) {
    return Refused(position, "is not encoded as this build encodes it");
  }
  // The flags byte is outside the chain; a redacted payload is a tombstone,
  // never the payload it replaced, so a flag flipped on the way shows.
  const bool payload_matches =
      rf::Sha256(event->payload) == event->payload_hash;
  if (!event->redacted && !payload_matches) {
    return Refused(position,
                   "has a payload whose SHA-256 is not its payload hash");
  }
  if (event->redacted && payload_matches) {
    return Refused(position,
                   "is marked redacted but still holds the payload it had");
  }
  return event;
}

}  // namespace

absl::Status EventStore::AppendStored(std::vector<StoredRecord> records) {
  Notification done;
  absl::Status result;
  AppendStoredAsync(std::move(records), [&](absl::Status status) {
    result = std::move(status);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<std::vector<StoredRecord>> RocksDbEventStore::ReadStoredRecords(
    uint64_t first, size_t max_records, size_t max_bytes) const {
  std::vector<StoredRecord> records;
  first = std::max<uint64_t>(first, 1);
  // One snapshot for the records, their event ids and the rewrite entries,
  // so that a redaction committing meanwhile is seen whole or not at all.
  rocksdb::ReadOptions read;
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  read.snapshot = snapshot;
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snapshot;
    ~Release() { db->ReleaseSnapshot(snapshot); }
  } release{db_, snapshot};

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, events_));
  size_t bytes = 0;
  for (it->Seek(rf::PositionKey(first));
       it->Valid() && records.size() < std::max<size_t>(max_records, 1) &&
       (records.empty() || bytes < max_bytes);
       it->Next()) {
    PLANTRAIL_ASSIGN_OR_RETURN(const uint64_t position,
                               rf::DecodePositionKey(View(it->key())));
    StoredRecord record{.position = position,
                        .record = std::string(View(it->value()))};
    PLANTRAIL_ASSIGN_OR_RETURN(rf::RecordView view,
                               rf::ViewRecord(record.record));
    PLANTRAIL_ASSIGN_OR_RETURN(RecordedEvent header,
                               rf::DecodeHeader(view.header));
    PLANTRAIL_ASSIGN_OR_RETURN(Uuid id, ParseUuid(header.event_id));
    std::string value;
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(
        db_->Get(read, event_ids_, AsSlice(id), &value),
        absl::StrCat("cannot read the event id of position ", position)));
    PLANTRAIL_ASSIGN_OR_RETURN(rf::EventIdEntry entry,
                               rf::DecodeEventIdEntry(value));
    record.append_first = entry.append_first;
    record.append_count = entry.append_count;
    bytes += record.record.size();
    records.push_back(std::move(record));
  }
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the log"));
  if (records.empty()) return records;

  // The rewrite entries of these positions, in one scan.
  std::unique_ptr<rocksdb::Iterator> rewrites(db_->NewIterator(read, meta_));
  const std::string end = rf::RewriteKey(records.back().position + 1);
  for (rewrites->Seek(rf::RewriteKey(records.front().position));
       rewrites->Valid() && View(rewrites->key()) < end; rewrites->Next()) {
    absl::string_view key = View(rewrites->key());
    key.remove_prefix(sizeof(rf::kRewriteKeyPrefix) - 1);
    PLANTRAIL_ASSIGN_OR_RETURN(const uint64_t position,
                               rf::DecodePositionKey(key));
    PLANTRAIL_ASSIGN_OR_RETURN(std::vector<uint64_t> positions,
                               rf::DecodePositions(View(rewrites->value())));
    StoredRecord& record = records[position - records.front().position];
    for (uint64_t rewritten : positions) {
      std::string bytes_now;
      PLANTRAIL_RETURN_IF_ERROR(FromRocks(
          db_->Get(read, events_, rf::PositionKey(rewritten), &bytes_now),
          absl::StrCat("cannot read position ", rewritten)));
      record.rewritten.push_back(
          {.position = rewritten, .record = std::move(bytes_now)});
    }
  }
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(rewrites->status(), "cannot read the rewrite entries"));
  return records;
}

void RocksDbEventStore::AppendStoredAsync(std::vector<StoredRecord> records,
                                          ReplicateCallback done) {
  if (records.empty()) {
    std::move(done)(
        absl::InvalidArgumentError("records: at least one is required"));
    return;
  }
  PendingAppend pending;
  for (const StoredRecord& record : records) {
    pending.bytes += record.record.size();
    for (const auto& rewritten : record.rewritten) {
      pending.bytes += rewritten.record.size();
    }
  }
  pending.stored = std::move(records);
  pending.done_stored = std::move(done);
  pending.enqueued = std::chrono::steady_clock::now();
  Push(std::move(pending));
}

absl::Status RocksDbEventStore::StageStored(const PendingAppend& pending,
                                            rocksdb::WriteBatch& batch,
                                            GroupState& group) {
  batch.SetSavePoint();
  GroupState before = group;
  absl::Status failed;
  for (const StoredRecord& stored : pending.stored) {
    failed = StageStoredRecord(stored, batch, group);
    if (!failed.ok()) break;
  }
  if (!failed.ok()) {
    rocksdb::Status rolled_back = batch.RollbackToSavePoint();
    group = std::move(before);
    if (!rolled_back.ok()) {
      return FromRocks(rolled_back, "cannot roll back refused records");
    }
    return failed;
  }
  batch.PopSavePoint().PermitUncheckedError();
  ++group.written_appends;
  return absl::OkStatus();
}

absl::Status RocksDbEventStore::StageStoredRecord(const StoredRecord& stored,
                                                  rocksdb::WriteBatch& batch,
                                                  GroupState& group) {
  const uint64_t position = stored.position;
  if (position != group.next_position) {
    return absl::FailedPreconditionError(absl::StrCat(
        "records: position ", position, " does not follow this log's head (",
        group.next_position - 1, "); the next record must be at position ",
        group.next_position));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(RecordedEvent event,
                             DecodeExactly(position, stored.record));
  const Hash header_hash = rf::HeaderHash(event);
  const Hash chained =
      rf::ChainHash(group.last_hash, header_hash, event.payload_hash);
  if (chained != event.hash) {
    return Refused(
        position,
        absl::StrCat("does not chain: it carries hash ", rf::HexOf(event.hash),
                     ", but its header and "
                     "payload after position ",
                     position - 1, " chain to ", rf::HexOf(chained)));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(rf::StreamHead head,
                             LookUpStreamHead(event.stream_id, &group));
  if (event.stream_version != head.version + 1) {
    return Refused(position,
                   absl::StrCat("is version ", event.stream_version,
                                " of stream \"", event.stream_id,
                                "\", which is at version ", head.version));
  }
  if (stored.append_count == 0 || stored.append_first > position ||
      position - stored.append_first >= stored.append_count) {
    return Refused(
        position,
        absl::StrCat("says it came in an append of ", stored.append_count,
                     " events from position ", stored.append_first));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(const Uuid id, ParseUuid(event.event_id));
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<KnownEvent> known,
                             LookUpEventId(id, group));
  if (known) {
    return Refused(position,
                   absl::StrCat("repeats event id ", event.event_id,
                                " of position ", known->entry.position));
  }

  const rf::EventIdEntry entry{.position = position,
                               .append_first = stored.append_first,
                               .append_count = stored.append_count};
  const std::string position_key = rf::PositionKey(position);
  batch.Put(events_, position_key, stored.record);
  batch.Put(streams_, rf::StreamKey(event.stream_id, event.stream_version),
            position_key);
  batch.Put(event_ids_, AsSlice(id), rf::EncodeEventIdEntry(entry));
  head.version = event.stream_version;
  head.last_position = position;
  batch.Put(stream_heads_, event.stream_id, rf::EncodeStreamHead(head));
  group.stream_heads[event.stream_id] = head;
  group.event_ids[id] = KnownEvent{
      .entry = entry,
      .stream_id = event.stream_id,
      .version = event.stream_version,
      .type = event.type,
      .content_type = event.content_type,
      .payload_hash = event.payload_hash,
      .redacted = event.redacted,
  };
  group.stored_hashes[position] = {.hash = event.hash,
                                   .header_hash = header_hash,
                                   .payload_hash = event.payload_hash};
  group.next_position = position + 1;
  group.last_hash = event.hash;
  group.last_recorded_at = std::max(group.last_recorded_at, event.recorded_at);
  ++group.written_events;

  std::vector<uint64_t> rewritten;
  for (const StoredRecord::Rewritten& record : stored.rewritten) {
    PLANTRAIL_RETURN_IF_ERROR(StageRewritten(stored, record, batch, group));
    rewritten.push_back(record.position);
  }
  if (!rewritten.empty()) {
    batch.Put(meta_, rf::RewriteKey(position), rf::EncodePositions(rewritten));
  }
  return absl::OkStatus();
}

absl::Status RocksDbEventStore::StageRewritten(
    const StoredRecord& stored, const StoredRecord::Rewritten& rewritten,
    rocksdb::WriteBatch& batch, GroupState& group) {
  const uint64_t position = rewritten.position;
  if (position == 0 || position >= stored.position) {
    return Refused(stored.position, absl::StrCat("rewrites position ", position,
                                                 ", which is not before it"));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(RecordedEvent event,
                             DecodeExactly(position, rewritten.record));
  GroupState::ChainedHashes now;
  if (auto it = group.stored_hashes.find(position);
      it != group.stored_hashes.end()) {
    now = it->second;
  } else {
    std::string bytes;
    PLANTRAIL_RETURN_IF_ERROR(
        FromRocks(db_->Get(rocksdb::ReadOptions(), events_,
                           rf::PositionKey(position), &bytes),
                  absl::StrCat("cannot read position ", position)));
    PLANTRAIL_ASSIGN_OR_RETURN(rf::RecordView view, rf::ViewRecord(bytes));
    now = {.hash = view.hash,
           .header_hash = rf::HeaderHash(view),
           .payload_hash = view.payload_hash};
  }
  if (!event.redacted || event.hash != now.hash ||
      event.payload_hash != now.payload_hash ||
      rf::HeaderHash(event) != now.header_hash) {
    return Refused(
        stored.position,
        absl::StrCat("rewrites position ", position,
                     " other than a redaction may: the rewritten record must "
                     "be redacted and keep its chain, header and payload "
                     "hashes"));
  }
  batch.Put(events_, rf::PositionKey(position), rewritten.record);
  group.redacted.insert(position);
  return absl::OkStatus();
}

absl::Status RocksDbEventStore::RemoveRecordsAfter(uint64_t position) {
  rocksdb::WriteBatch batch;
  // Each stream the tail touched, and the first version of it removed.
  std::map<std::string, uint64_t> first_removed;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), events_));
  uint64_t removed = 0;
  for (it->Seek(rf::PositionKey(position + 1)); it->Valid(); it->Next()) {
    PLANTRAIL_ASSIGN_OR_RETURN(rf::RecordView view,
                               rf::ViewRecord(View(it->value())));
    PLANTRAIL_ASSIGN_OR_RETURN(RecordedEvent header,
                               rf::DecodeHeader(view.header));
    PLANTRAIL_ASSIGN_OR_RETURN(const Uuid id, ParseUuid(header.event_id));
    batch.Delete(events_, it->key());
    batch.Delete(streams_,
                 rf::StreamKey(header.stream_id, header.stream_version));
    batch.Delete(event_ids_, AsSlice(id));
    batch.Delete(meta_, rf::RewriteKey(header.position));
    auto [entry, inserted] =
        first_removed.emplace(header.stream_id, header.stream_version);
    if (!inserted)
      entry->second = std::min(entry->second, header.stream_version);
    ++removed;
  }
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the tail"));
  if (removed == 0) return absl::OkStatus();
  for (const auto& [stream, version] : first_removed) {
    const uint64_t kept = version - 1;
    if (kept == 0) {
      batch.Delete(stream_heads_, stream);
      continue;
    }
    std::string value;
    PLANTRAIL_RETURN_IF_ERROR(
        FromRocks(db_->Get(rocksdb::ReadOptions(), streams_,
                           rf::StreamKey(stream, kept), &value),
                  "cannot read a stream index entry"));
    absl::string_view in = value;
    rf::StreamHead head{.version = kept};
    if (!rf::ConsumeU64(in, head.last_position)) {
      return absl::DataLossError("corrupt stream index entry");
    }
    batch.Put(stream_heads_, stream, rf::EncodeStreamHead(head));
  }
  // A consumer that acknowledged a removed record goes on from the last
  // record kept: the successor's records after it are new to it.
  std::unique_ptr<rocksdb::Iterator> cursors(
      db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (cursors->Seek(rf::kCursorKeyPrefix);
       cursors->Valid() && cursors->key().starts_with(rf::kCursorKeyPrefix);
       cursors->Next()) {
    absl::string_view value = View(cursors->value());
    uint64_t at;
    if (!rf::ConsumeU64(value, at) || at <= position) continue;
    batch.Put(meta_, cursors->key(),
              absl::StrCat(rf::PositionKey(position), value));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(cursors->status(), "cannot read the cursors"));
  rocksdb::WriteOptions sync;
  sync.sync = true;
  return FromRocks(
      db_->Write(sync, &batch),
      absl::StrCat("cannot remove the records after position ", position));
}

}  // namespace plantrail::eventstore
