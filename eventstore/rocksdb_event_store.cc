#include "eventstore/rocksdb_event_store.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/quote.h"
#include "common/status_handoff.h"
#include "common/status_macros.h"
#include "eventstore/disk_full.h"
#include "eventstore/info_log.h"
#include "eventstore/rocksdb_internal.h"
#include "eventstore/zeroed_wal.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace plantrail::eventstore {
namespace rf = record_format;

namespace internal {

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  if (status.IsIOError()) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

}  // namespace internal

using internal::FromRocks;
using internal::View;

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

constexpr char kDefaultContentType[] = "application/octet-stream";
constexpr char kCurrentVersionPayload[] = "plantrail.dev/current-version";

// `status` of the i-th request of an AppendTogether: the message names the
// request, the payloads (CurrentVersionOf's) stay.
absl::Status InRequest(size_t i, const absl::Status& status) {
  absl::Status named(status.code(),
                     absl::StrCat("requests[", i, "].", status.message()));
  status.ForEachPayload(
      [&named](absl::string_view url, const absl::Cord& payload) {
        named.SetPayload(url, payload);
      });
  return named;
}

rocksdb::Slice AsSlice(const Uuid& id) {
  return rocksdb::Slice(reinterpret_cast<const char*>(id.data()), id.size());
}

// Clears the values of `keys` in `event`, the header as stored; whether any
// changed. The first time, the record keeps the hash of the header as
// appended. A header is redacted once: one already redacted may not lose
// more (the binding its first redaction recorded would no longer hold).
absl::StatusOr<bool> ClearMetadata(const std::vector<std::string>& keys,
                                   uint64_t position, RecordedEvent& event) {
  bool changes = false;
  for (const std::string& key : keys) {
    auto it = event.metadata.find(key);
    if (it == event.metadata.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cleared_metadata: position ", position,
                       " has no metadata key ", QuoteForMessage(key)));
    }
    changes = changes || it->second != rf::kRedactedValue;
  }
  if (!changes) return false;
  if (event.header_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cleared_metadata: position ", position,
        " already had its header redacted; a header is redacted once"));
  }
  event.header_hash = rf::HeaderHash(event);
  for (const std::string& key : keys) event.metadata[key] = rf::kRedactedValue;
  return true;
}

}  // namespace

bool ExpectedVersion::Admits(uint64_t current) const {
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kNoStream:
      return current == 0;
    case Kind::kStreamExists:
      return current > 0;
    case Kind::kExact:
      return current == version_;
  }
  return false;
}

std::string ExpectedVersion::ToString() const {
  switch (kind_) {
    case Kind::kAny:
      return "any version";
    case Kind::kNoStream:
      return "no stream";
    case Kind::kStreamExists:
      return "an existing stream";
    case Kind::kExact:
      return absl::StrCat("version ", version_);
  }
  return "?";
}

absl::Status VersionConflict(absl::string_view stream_id,
                             const ExpectedVersion& expected,
                             uint64_t current) {
  absl::Status status = absl::AbortedError(
      absl::StrCat("expected_version: stream \"", stream_id, "\" is at ",
                   current == 0 ? std::string("no version (it does not exist)")
                                : absl::StrCat("version ", current),
                   ", but the append expected ", expected.ToString()));
  status.SetPayload(kCurrentVersionPayload, absl::Cord(absl::StrCat(current)));
  return status;
}

std::optional<uint64_t> CurrentVersionOf(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kAborted) return std::nullopt;
  const absl::optional<absl::Cord> payload =
      status.GetPayload(kCurrentVersionPayload);
  uint64_t version;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &version)) {
    return std::nullopt;
  }
  return version;
}

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(
    const Options& options) {
  PLANTRAIL_ASSIGN_OR_RETURN(auto store, RocksDbEventStore::Open(options));
  return std::unique_ptr<EventStore>(std::move(store));
}

absl::StatusOr<AppendResult> EventStore::Redact(RedactRequest request) {
  Notification done;
  absl::StatusOr<AppendResult> result;
  RedactAsync(std::move(request), [&](absl::StatusOr<AppendResult> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<std::vector<AppendResult>> EventStore::AppendTogether(
    std::vector<AppendRequest> requests) {
  Notification done;
  absl::StatusOr<std::vector<AppendResult>> result;
  AppendTogetherAsync(std::move(requests),
                      [&](absl::StatusOr<std::vector<AppendResult>> r) {
                        result = std::move(r);
                        done.Notify();
                      });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<AppendResult> EventStore::Append(AppendRequest request) {
  Notification done;
  absl::StatusOr<AppendResult> result;
  AppendAsync(std::move(request), [&](absl::StatusOr<AppendResult> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<std::unique_ptr<RocksDbEventStore>> RocksDbEventStore::Open(
    const Options& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("path: must name a directory");
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // One memtable budget for all column families, so the server's memory
  // stays bounded however long the log grows (docs/BENCHMARKS.md: < 200 MB with
  // a million events); a family is flushed when the total reaches it.
  db_options.db_write_buffer_size = 32 << 20;
  db_options.statistics = rocksdb::CreateDBStatistics();
  // Tickers only: histograms and timers cost on every write.
  db_options.statistics->set_stats_level(
      rocksdb::StatsLevel::kExceptHistogramOrTimers);
  auto no_space = std::make_shared<NoSpaceListener>();
  db_options.listeners.push_back(no_space);
  db_options.info_log = InfoLog::Open(options.path);
  std::unique_ptr<rocksdb::Env> env;
  if (options.wal_spare_bytes > 0) {
    env = rocksdb::NewCompositeEnv(NewZeroedWalFileSystem(
        rocksdb::FileSystem::Default(), options.path, options.wal_spare_bytes));
    db_options.env = env.get();
  }

  rocksdb::ColumnFamilyOptions plain;
  // Event ids are random: a bloom filter answers "never seen" without I/O.
  rocksdb::ColumnFamilyOptions with_bloom;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  with_bloom.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, plain},
      {rf::kEventsFamily, plain},
      {rf::kStreamsFamily, plain},
      {rf::kStreamHeadsFamily, plain},
      {rf::kEventIdsFamily, with_bloom},
      {rf::kMetaFamily, plain},
  };
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db),
      absl::StrCat("cannot open the event store at ", options.path)));
  std::unique_ptr<RocksDbEventStore> store(
      new RocksDbEventStore(options, db, std::move(handles),
                            db_options.statistics, std::move(no_space)));
  store->env_ = std::move(env);
  PLANTRAIL_RETURN_IF_ERROR(store->Recover());
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

RocksDbEventStore::RocksDbEventStore(
    const Options& options, rocksdb::DB* db,
    std::vector<rocksdb::ColumnFamilyHandle*> families,
    std::shared_ptr<rocksdb::Statistics> statistics,
    std::shared_ptr<NoSpaceListener> no_space)
    : options_(options),
      db_(db),
      families_(std::move(families)),
      events_(families_[1]),
      streams_(families_[2]),
      stream_heads_(families_[3]),
      event_ids_(families_[4]),
      meta_(families_[5]),
      statistics_(std::move(statistics)),
      no_space_(std::move(no_space)),
      floor_(options.path, options.min_free_bytes) {}

RocksDbEventStore::~RocksDbEventStore() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    paused_ = false;
  }
  if (writer_.joinable()) writer_.join();
  {
    MutexLock lock(&head_mu_);
    closing_ = true;
  }
  for (rocksdb::ColumnFamilyHandle* family : families_) {
    db_->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
  delete db_;
}

absl::Status RocksDbEventStore::Recover() {
  rocksdb::ColumnFamilyHandle* meta = meta_;
  std::string format;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), meta, rf::kFormatKey, &format);
  if (status.IsNotFound()) {
    std::string value;
    rf::AppendU32(value, rf::kStoreFormat);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    PLANTRAIL_RETURN_IF_ERROR(
        FromRocks(db_->Put(sync, meta, rf::kFormatKey, value),
                  "cannot record the store format"));
  } else {
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read the format"));
    absl::string_view in = format;
    uint32_t version;
    if (!rf::ConsumeU32(in, version) || version != rf::kStoreFormat) {
      return absl::FailedPreconditionError(
          absl::StrCat("the event store at ", options_.path,
                       " has a format this build cannot read"));
    }
  }

  if (options_.remove_records_after) {
    PLANTRAIL_RETURN_IF_ERROR(
        RemoveRecordsAfter(*options_.remove_records_after));
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), events_));
  it->SeekToLast();
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the head"));
  if (!it->Valid()) return absl::OkStatus();
  absl::StatusOr<RecordedEvent> last = rf::DecodeRecord(View(it->value()));
  if (!last.ok()) {
    return absl::DataLossError(
        absl::StrCat("the last record of the event store does not decode: ",
                     last.status().message()));
  }
  next_position_ = last->position + 1;
  last_hash_ = last->hash;
  last_recorded_at_ = last->recorded_at;
  head_position_.store(last->position, std::memory_order_release);
  return absl::OkStatus();
}

void RocksDbEventStore::AppendAsync(AppendRequest request,
                                    AppendCallback done) {
  Enqueue(std::move(request), {}, {}, std::move(done));
}

void RocksDbEventStore::RedactAsync(RedactRequest request,
                                    AppendCallback done) {
  std::vector<PayloadRewrite> rewrites;
  rewrites.reserve(1 + request.also.size());
  rewrites.push_back(PayloadRewrite{.position = request.position,
                                    .tombstone = std::move(request.tombstone),
                                    .replaces = std::move(request.replaces)});
  for (PayloadRewrite& also : request.also) {
    rewrites.push_back(std::move(also));
  }
  for (size_t i = 0; i < rewrites.size(); ++i) {
    if (rewrites[i].tombstone.size() > options_.limits.max_payload_bytes) {
      rejected_appends_.fetch_add(1, std::memory_order_relaxed);
      std::move(done)(absl::InvalidArgumentError(
          absl::StrCat(i == 0 ? std::string("tombstone")
                              : absl::StrCat("also[", i - 1, "].tombstone"),
                       ": ", rewrites[i].tombstone.size(), " bytes; at most ",
                       options_.limits.max_payload_bytes)));
      return;
    }
  }
  // The record has events (ValidateAppend), so the first can bind the
  // header the redaction leaves.
  Enqueue(std::move(request.record), std::move(rewrites),
          std::move(request.cleared_metadata), std::move(done));
}

absl::StatusOr<RocksDbEventStore::PendingAppend> RocksDbEventStore::Prepare(
    AppendRequest request) const {
  PLANTRAIL_RETURN_IF_ERROR(ValidateAppend(request, options_.limits));
  PendingAppend pending;
  pending.ids.reserve(request.events.size());
  pending.client_ids.reserve(request.events.size());
  for (ProposedEvent& event : request.events) {
    const bool chosen = !event.event_id.empty();
    Uuid id;
    if (chosen) {
      // ValidateAppend has checked that client ids parse.
      const absl::StatusOr<Uuid> parsed = ParseUuid(event.event_id);
      id = parsed.ok() ? *parsed : NewTimeOrderedUuid();
    } else {
      id = NewTimeOrderedUuid();
    }
    event.event_id = FormatUuid(id);
    if (event.content_type.empty()) event.content_type = kDefaultContentType;
    pending.ids.push_back(id);
    pending.client_ids.push_back(chosen);
    pending.bytes += event.payload.size() + 256;
  }
  pending.request = std::move(request);
  pending.enqueued = std::chrono::steady_clock::now();
  return pending;
}

void RocksDbEventStore::Push(PendingAppend pending) {
  absl::Status refused;
  {
    MutexLock lock(&mu_);
    if (stopping_) {
      refused = absl::UnavailableError("the event store is closing");
    } else if (!refusal_.ok() && !pending.done_stored &&
               (refusal_exempt_.empty() || !pending.done ||
                !pending.rewrites.empty() ||
                pending.request.stream_id != refusal_exempt_)) {
      refused = refusal_;
    } else {
      queue_.push_back(std::move(pending));
      return;
    }
  }
  rejected_appends_.fetch_add(1, std::memory_order_relaxed);
  Fail(pending, std::move(refused));
}

void RocksDbEventStore::Fail(PendingAppend& pending, absl::Status status) {
  if (pending.done_together) {
    std::move(pending.done_together)(std::move(status));
  } else if (pending.done_stored) {
    std::move(pending.done_stored)(std::move(status));
  } else {
    std::move(pending.done)(std::move(status));
  }
}

void RocksDbEventStore::SetAcknowledgementGate(AcknowledgementGate* gate) {
  gate_.store(gate, std::memory_order_release);
}

void RocksDbEventStore::RefuseAppends(absl::Status refusal,
                                      std::string exempt_stream) {
  MutexLock lock(&mu_);
  refusal_ = std::move(refusal);
  refusal_exempt_ = std::move(exempt_stream);
}

void RocksDbEventStore::Enqueue(AppendRequest request,
                                std::vector<PayloadRewrite> rewrites,
                                std::vector<std::string> cleared_metadata,
                                AppendCallback done) {
  absl::StatusOr<PendingAppend> pending = Prepare(std::move(request));
  if (!pending.ok()) {
    rejected_appends_.fetch_add(1, std::memory_order_relaxed);
    std::move(done)(pending.status());
    return;
  }
  pending->done = std::move(done);
  for (const PayloadRewrite& rewrite : rewrites) {
    pending->bytes += rewrite.tombstone.size();
  }
  pending->rewrites = std::move(rewrites);
  pending->cleared_metadata = std::move(cleared_metadata);
  Push(*std::move(pending));
}

void RocksDbEventStore::AppendTogetherAsync(std::vector<AppendRequest> requests,
                                            AppendTogetherCallback done) {
  auto refuse = [&](absl::Status status) {
    rejected_appends_.fetch_add(1, std::memory_order_relaxed);
    std::move(done)(std::move(status));
  };
  if (requests.empty()) {
    refuse(absl::InvalidArgumentError("requests: at least one is required"));
    return;
  }
  absl::flat_hash_set<std::string> streams;
  std::vector<PendingAppend> parts;
  parts.reserve(requests.size());
  bool any_events = false;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!streams.insert(requests[i].stream_id).second) {
      refuse(absl::InvalidArgumentError(absl::StrCat(
          "requests[", i, "].stream_id: \"", requests[i].stream_id,
          "\" is named by an earlier request; one request per stream")));
      return;
    }
    if (requests[i].events.empty()) {
      // A condition: ValidateAppend would refuse it for having no events,
      // so its stream id is checked here.
      if (absl::Status valid =
              ValidateStreamId(absl::StrCat("requests[", i, "].stream_id"),
                               requests[i].stream_id, options_.limits);
          !valid.ok()) {
        refuse(std::move(valid));
        return;
      }
      PendingAppend condition;
      condition.request = std::move(requests[i]);
      // The whole is timed from here when a condition comes first.
      condition.enqueued = std::chrono::steady_clock::now();
      parts.push_back(std::move(condition));
      continue;
    }
    any_events = true;
    absl::StatusOr<PendingAppend> part = Prepare(std::move(requests[i]));
    if (!part.ok()) {
      refuse(InRequest(i, part.status()));
      return;
    }
    parts.push_back(*std::move(part));
  }
  if (!any_events) {
    refuse(absl::InvalidArgumentError(
        "requests: at least one must have events; the others may be "
        "conditions"));
    return;
  }
  PendingAppend first = std::move(parts.front());
  for (size_t i = 1; i < parts.size(); ++i) {
    first.bytes += parts[i].bytes;
    first.together.push_back(std::move(parts[i]));
  }
  first.done_together = std::move(done);
  Push(std::move(first));
}

void RocksDbEventStore::WriterLoop() {
  std::vector<PendingAppend> group;
  for (;;) {
    {
      MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return (!queue_.empty() && !paused_) || (stopping_ && queue_.empty());
      };
      if (out_of_space_) {
        // Waiting for space: also try without appends, so that consumer
        // groups' acknowledgements work again once space is freed.
        if (!mu_.AwaitWithDeadline(ready, absl::Now() + kResumeInterval)) {
          mu_.Unlock();
          MaybeResume();
          mu_.Lock();
          continue;
        }
      } else {
        mu_.Await(ready);
      }
      if (queue_.empty()) return;  // stopping, and nothing left to do
      size_t bytes = 0;
      while (!queue_.empty() && group.size() < options_.max_group_appends &&
             (group.empty() ||
              bytes + queue_.front().bytes <= options_.max_group_bytes)) {
        bytes += queue_.front().bytes;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    group.clear();
  }
}

void RocksDbEventStore::MaybeResume() {
  if (!out_of_space_ || absl::Now() < next_resume_attempt_) return;
  next_resume_attempt_ = absl::Now() + kResumeInterval;
  absl::Status resumed = ResumeAfterNoSpace(*db_, families_, *no_space_);
  if (resumed.ok()) {
    out_of_space_ = false;
    write_error_ = absl::OkStatus();
  } else if (absl::IsFailedPrecondition(resumed)) {
    // For good: what failed, and what to do about it.
    out_of_space_ = false;
    write_error_ =
        absl::Status(write_error_.code(),
                     absl::StrCat(no_space_failure_, "; ", resumed.message()));
  }
}

void RocksDbEventStore::CommitGroup(std::vector<PendingAppend>& group) {
  std::vector<absl::StatusOr<AppendResult>> results;
  results.reserve(group.size());
  MaybeResume();
  absl::Status refused = write_error_;
  // Below the free-space floor nothing reaches RocksDB: the appends fail
  // cleanly and the next ones go through once space is back.
  if (refused.ok()) refused = floor_.Check();
  if (!refused.ok()) {
    rejected_appends_.fetch_add(group.size(), std::memory_order_relaxed);
    for (PendingAppend& pending : group) {
      append_seconds_.Observe(SecondsSince(pending.enqueued));
      // One status of its own for each: they part on their callers' threads.
      Fail(pending, Unshared(refused));
    }
    return;
  }
  // Truncated to what a record keeps, and never before the previous event,
  // so that the log's times read in order even if the clock steps back.
  const absl::Time recorded_at =
      std::max(absl::FromUnixMicros(absl::ToUnixMicros(options_.now())),
               last_recorded_at_);
  GroupState state{.next_position = next_position_, .last_hash = last_hash_};
  rocksdb::WriteBatch batch;
  // The results of AppendTogether requests, by their index in `group`;
  // results[i] then only says whether it failed.
  absl::flat_hash_map<size_t, std::vector<AppendResult>> together;
  for (size_t i = 0; i < group.size(); ++i) {
    const PendingAppend& pending = group[i];
    if (pending.done_stored) {
      absl::Status staged = StageStored(pending, batch, state);
      if (staged.ok()) {
        results.push_back(AppendResult{});
      } else {
        results.push_back(std::move(staged));
      }
      continue;
    }
    if (!pending.done_together) {
      results.push_back(Stage(pending, recorded_at, batch, state));
      continue;
    }
    absl::StatusOr<std::vector<AppendResult>> staged =
        StageTogether(pending, recorded_at, batch, state);
    if (staged.ok()) {
      results.push_back(staged->front());
      together[i] = *std::move(staged);
    } else {
      results.push_back(staged.status());
    }
  }
  if (state.written_appends > 0) {
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.durability == Durability::kSync;
    const auto write_start = std::chrono::steady_clock::now();
    absl::Status committed =
        FromRocks(db_->Write(write_options, &batch), "cannot commit appends");
    if (committed.ok()) {
      commit_seconds_.Observe(SecondsSince(write_start));
      group_events_.Observe(static_cast<double>(state.written_events));
      next_position_ = state.next_position;
      last_hash_ = state.last_hash;
      last_recorded_at_ = std::max(recorded_at, state.last_recorded_at);
      head_position_.store(next_position_ - 1, std::memory_order_release);
      {
        MutexLock wake(&head_mu_);
        for (auto& [id, listener] : listeners_) listener(next_position_ - 1);
      }
      commit_groups_.fetch_add(1, std::memory_order_relaxed);
      if (write_options.sync) {
        synced_commits_.fetch_add(1, std::memory_order_relaxed);
      }
      events_appended_.fetch_add(state.written_events,
                                 std::memory_order_relaxed);
    } else if (absl::IsResourceExhausted(committed)) {
      // No space: RocksDB refuses writes until it is resumed, which
      // MaybeResume() tries every kResumeInterval. Nothing of this group
      // was applied in memory, and ResumeAfterNoSpace() makes sure that
      // nothing of it is replayed later. (Should the process die before
      // then, a group whose WAL record was whole when the sync failed is
      // there after the restart: failed, never acknowledged, and found by
      // a retry with the same event ids.)
      out_of_space_ = true;
      next_resume_attempt_ = absl::Now() + kResumeInterval;
      no_space_failure_ = std::string(committed.message());
      write_error_ = absl::Status(
          committed.code(),
          absl::StrCat(committed.message(),
                       "; appends fail until space is freed on the data "
                       "directory's disk, then resume by themselves"));
      // Unless it was the WAL that failed: then say at once that it takes
      // a restart (MaybeResume() gives up without trying).
      if (no_space_->wal_write_failed()) {
        next_resume_attempt_ = absl::InfinitePast();
        MaybeResume();
      }
    } else {
      // Any other write error (an fsync that failed, say) leaves the WAL in
      // a state we cannot know: stop writing for good.
      write_error_ = absl::Status(
          committed.code(),
          absl::StrCat(committed.message(),
                       "; the store refuses appends until it is reopened"));
    }
    if (!committed.ok()) {
      // Replays wrote nothing, but may have matched events staged in this
      // very group, so no result of the group can be trusted.
      for (auto& result : results) {
        if (result.ok()) result = write_error_;
      }
    }
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (results[i].ok()) {
      appends_.fetch_add(1, std::memory_order_relaxed);
      if (results[i]->replayed) {
        replayed_appends_.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      rejected_appends_.fetch_add(1, std::memory_order_relaxed);
    }
    append_seconds_.Observe(SecondsSince(group[i].enqueued));
    AcknowledgementGate* const gate = gate_.load(std::memory_order_acquire);
    if (gate != nullptr && results[i].ok() && !group[i].done_stored) {
      // Answered once the gate releases it (synchronous replication).
      uint64_t last = results[i]->last_position;
      if (auto parts = together.find(i); parts != together.end()) {
        for (const AppendResult& part : parts->second) {
          last = std::max(last, part.last_position);
        }
      }
      if (group[i].done_together) {
        gate->Hold(last, [done = std::move(group[i].done_together),
                          result = std::move(together[i])](
                             absl::Status released) mutable {
          if (released.ok()) {
            std::move(done)(std::move(result));
          } else {
            std::move(done)(std::move(released));
          }
        });
      } else {
        gate->Hold(last, [done = std::move(group[i].done),
                          result = *std::move(results[i])](
                             absl::Status released) mutable {
          if (released.ok()) {
            std::move(done)(std::move(result));
          } else {
            std::move(done)(std::move(released));
          }
        });
      }
      continue;
    }
    if (group[i].done_stored) {
      std::move(group[i].done_stored)(
          results[i].ok() ? absl::OkStatus() : Unshared(results[i].status()));
    } else if (group[i].done_together) {
      if (results[i].ok()) {
        std::move(group[i].done_together)(std::move(together[i]));
      } else {
        // Each caller gets a status of its own (common/status_handoff.h):
        // one failure may be copied into every result of the group.
        std::move(group[i].done_together)(Unshared(results[i].status()));
      }
    } else if (results[i].ok()) {
      std::move(group[i].done)(std::move(results[i]));
    } else {
      std::move(group[i].done)(Unshared(results[i].status()));
    }
  }
}

absl::StatusOr<AppendResult> RocksDbEventStore::CheckCondition(
    const AppendRequest& condition, const GroupState& group) const {
  PLANTRAIL_ASSIGN_OR_RETURN(rf::StreamHead head,
                             LookUpStreamHead(condition.stream_id, &group));
  if (!condition.expected_version.Admits(head.version)) {
    return VersionConflict(condition.stream_id, condition.expected_version,
                           head.version);
  }
  return AppendResult{.first_version = head.version,
                      .last_version = head.version};
}

absl::StatusOr<std::vector<AppendResult>> RocksDbEventStore::StageTogether(
    const PendingAppend& pending, absl::Time recorded_at,
    rocksdb::WriteBatch& batch, GroupState& group) {
  batch.SetSavePoint();
  GroupState before = group;
  std::vector<AppendResult> results;
  results.reserve(1 + pending.together.size());
  absl::Status failed;
  // Whether the requests with events were replays, once one is staged.
  std::optional<bool> first_with_events;
  for (size_t i = 0; i <= pending.together.size(); ++i) {
    const PendingAppend& part = i == 0 ? pending : pending.together[i - 1];
    absl::StatusOr<AppendResult> staged =
        part.request.events.empty() ? CheckCondition(part.request, group)
                                    : Stage(part, recorded_at, batch, group);
    if (!staged.ok()) {
      failed = InRequest(i, staged.status());
      break;
    }
    if (!part.request.events.empty()) {
      if (first_with_events && staged->replayed != *first_with_events) {
        failed = absl::AlreadyExistsError(absl::StrCat(
            "requests[", i, "]: ",
            staged->replayed ? "was already appended" : "was not appended",
            " but an earlier request ", *first_with_events ? "was" : "was not",
            "; a retry must repeat its original AppendTogether exactly"));
        break;
      }
      first_with_events = staged->replayed;
    }
    results.push_back(*std::move(staged));
  }
  if (!failed.ok()) {
    // Whatever the parts before the failing one staged goes again.
    rocksdb::Status rolled_back = batch.RollbackToSavePoint();
    group = std::move(before);
    if (!rolled_back.ok()) {
      return FromRocks(rolled_back, "cannot roll back a failed AppendTogether");
    }
    return failed;
  }
  batch.PopSavePoint().PermitUncheckedError();
  return results;
}

absl::StatusOr<AppendResult> RocksDbEventStore::Stage(
    const PendingAppend& pending, absl::Time recorded_at,
    rocksdb::WriteBatch& batch, GroupState& group) {
  const AppendRequest& request = pending.request;

  // Idempotency comes before the version check: a retry of an append that
  // succeeded must succeed again, although the stream has moved on.
  std::vector<KnownEvent> known;
  std::optional<size_t> first_new;
  for (size_t i = 0; i < pending.ids.size(); ++i) {
    if (!pending.client_ids[i]) {
      first_new = first_new.value_or(i);
      continue;
    }
    PLANTRAIL_ASSIGN_OR_RETURN(std::optional<KnownEvent> found,
                               LookUpEventId(pending.ids[i], group));
    if (found) {
      if (first_new) {
        return absl::AlreadyExistsError(absl::StrCat(
            "events[", i, "].event_id: ", request.events[i].event_id,
            " was already appended (position ", found->entry.position,
            ") but events[", *first_new,
            "].event_id was not; a retry must repeat its original append "
            "exactly, new events need new ids"));
      }
      known.push_back(std::move(*found));
    } else {
      first_new = first_new.value_or(i);
      if (!known.empty()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "events[0].event_id: ", request.events[0].event_id,
            " was already appended (position ", known[0].entry.position,
            ") but events[", i,
            "].event_id was not; a retry must repeat its original append "
            "exactly, new events need new ids"));
      }
    }
  }
  if (!known.empty()) return Replay(pending, known);

  PLANTRAIL_ASSIGN_OR_RETURN(rf::StreamHead head,
                             LookUpStreamHead(request.stream_id, &group));
  if (!request.expected_version.Admits(head.version)) {
    return VersionConflict(request.stream_id, request.expected_version,
                           head.version);
  }
  // A redaction is checked before anything of its record is staged, so a
  // refused one stages nothing.
  Rewritten redacted;
  if (!pending.rewrites.empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(redacted, PrepareRedaction(pending, group));
  }

  AppendResult result;
  result.first_position = group.next_position;
  result.first_version = head.version + 1;
  const rf::EventIdEntry id_entry_template{
      .append_first = group.next_position,
      .append_count = static_cast<uint32_t>(request.events.size())};
  for (size_t i = 0; i < request.events.size(); ++i) {
    const ProposedEvent& proposed = request.events[i];
    RecordedEvent event;
    event.event_id = proposed.event_id;
    event.stream_id = request.stream_id;
    event.type = proposed.type;
    event.content_type = proposed.content_type;
    event.metadata = proposed.metadata;
    if (i == 0 && redacted.redacted_header) {
      event.metadata[rf::kRedactedHeaderKey] = *redacted.redacted_header;
    }
    event.recorded_at = recorded_at;
    event.position = group.next_position++;
    event.stream_version = ++head.version;
    event.payload = proposed.payload;
    event.payload_hash = rf::Sha256(proposed.payload);
    const std::string header = rf::EncodeHeader(event);
    event.hash =
        rf::ChainHash(group.last_hash, rf::Sha256(header), event.payload_hash);
    group.last_hash = event.hash;
    head.last_position = event.position;

    rf::EventIdEntry id_entry = id_entry_template;
    id_entry.position = event.position;
    const std::string position_key = rf::PositionKey(event.position);
    batch.Put(events_, position_key, rf::EncodeRecord(event, header));
    batch.Put(streams_, rf::StreamKey(event.stream_id, event.stream_version),
              position_key);
    batch.Put(event_ids_, AsSlice(pending.ids[i]),
              rf::EncodeEventIdEntry(id_entry));
    group.event_ids[pending.ids[i]] = KnownEvent{
        .entry = id_entry,
        .stream_id = event.stream_id,
        .version = event.stream_version,
        .type = event.type,
        .content_type = event.content_type,
        .payload_hash = event.payload_hash,
    };
    result.event_ids.push_back(std::move(event.event_id));
  }
  batch.Put(stream_heads_, request.stream_id, rf::EncodeStreamHead(head));
  group.stream_heads[request.stream_id] = head;
  std::vector<uint64_t> rewritten;
  for (const RecordedEvent& event : redacted.events) {
    batch.Put(events_, rf::PositionKey(event.position),
              rf::EncodeRecord(event));
    group.redacted.insert(event.position);
    rewritten.push_back(event.position);
  }
  if (!rewritten.empty()) {
    batch.Put(meta_, rf::RewriteKey(result.first_position),
              rf::EncodePositions(rewritten));
  }
  result.last_position = group.next_position - 1;
  result.last_version = head.version;
  ++group.written_appends;
  group.written_events += request.events.size();
  return result;
}

absl::StatusOr<RocksDbEventStore::Rewritten>
RocksDbEventStore::PrepareRedaction(const PendingAppend& pending,
                                    const GroupState& group) const {
  Rewritten rewritten;
  std::vector<RecordedEvent>& events = rewritten.events;
  absl::flat_hash_set<uint64_t> seen;
  for (size_t i = 0; i < pending.rewrites.size(); ++i) {
    const PayloadRewrite& rewrite = pending.rewrites[i];
    const uint64_t position = rewrite.position;
    const std::string field =
        i == 0 ? std::string("position") : absl::StrCat("also[", i - 1, "]");
    // Only committed events: one staged in this very group is not yet what
    // its append will have acknowledged.
    if (position == 0 || position >= next_position_) {
      return absl::NotFoundError(absl::StrCat(
          field, ": ", position, " is not in the log (its head is ",
          next_position_ - 1, ")"));
    }
    if (!seen.insert(position).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", position, " is named twice in one redaction"));
    }
    std::string record;
    PLANTRAIL_RETURN_IF_ERROR(
        FromRocks(db_->Get(rocksdb::ReadOptions(), events_,
                           rf::PositionKey(position), &record),
                  "cannot read the event to redact"));
    PLANTRAIL_ASSIGN_OR_RETURN(RecordedEvent event, rf::DecodeRecord(record));
    const bool staged = group.redacted.contains(position);
    if (!rewrite.replaces.has_value()) {
      if (event.redacted || staged) {
        return absl::FailedPreconditionError(
            absl::StrCat(field, ": ", position, " is already redacted"));
      }
    } else if (staged || event.payload != *rewrite.replaces) {
      return absl::AbortedError(
          absl::StrCat(field, ": ", position,
                       " changed since the redaction was prepared; read it "
                       "again"));
    }
    if (i == 0) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          const bool cleared,
          ClearMetadata(pending.cleared_metadata, position, event));
      if (cleared) {
        rewritten.redacted_header = rf::EncodeRedactedHeader(
            {.position = position,
             .hash = rf::Sha256(rf::EncodeHeader(event))});
      }
    }
    event.payload = rewrite.tombstone;
    event.redacted = true;
    events.push_back(std::move(event));
  }
  return rewritten;
}

absl::StatusOr<AppendResult> RocksDbEventStore::Replay(
    const PendingAppend& pending, const std::vector<KnownEvent>& known) {
  const AppendRequest& request = pending.request;
  const rf::EventIdEntry& first = known[0].entry;
  if (first.append_first != first.position ||
      first.append_count != request.events.size()) {
    return absl::AlreadyExistsError(
        absl::StrCat("events: ", request.events[0].event_id,
                     " was already appended at "
                     "position ",
                     first.position, " in an append of ", first.append_count,
                     " events starting at position ", first.append_first,
                     "; a retry must repeat that append exactly"));
  }
  AppendResult result;
  for (size_t i = 0; i < known.size(); ++i) {
    const KnownEvent& event = known[i];
    const ProposedEvent& proposed = request.events[i];
    const std::string field = absl::StrCat("events[", i, "]");
    if (event.entry.position != first.position + i ||
        event.entry.append_first != first.append_first) {
      return absl::AlreadyExistsError(absl::StrCat(
          field, ".event_id: ", proposed.event_id,
          " was appended in another append (position ", event.entry.position,
          "); a retry must repeat its original append exactly"));
    }
    if (event.stream_id != request.stream_id) {
      return absl::AlreadyExistsError(
          absl::StrCat(field, ".event_id: ", proposed.event_id,
                       " was already appended to stream \"", event.stream_id,
                       "\" (position ", event.entry.position, ")"));
    }
    if (event.redacted) {
      // Whatever the retry carries: a different answer for the right
      // payload would confirm a guess of the redacted text.
      return absl::FailedPreconditionError(absl::StrCat(
          field, ".event_id: ", proposed.event_id, " was appended (position ",
          event.entry.position,
          ") and its payload has since been redacted, so a retry cannot be "
          "compared with it"));
    }
    if (event.type != proposed.type ||
        event.content_type != proposed.content_type ||
        event.payload_hash != rf::Sha256(proposed.payload)) {
      return absl::AlreadyExistsError(
          absl::StrCat(field, ".event_id: ", proposed.event_id,
                       " was already appended (position ", event.entry.position,
                       ") with a different type, content type or payload"));
    }
    result.event_ids.push_back(proposed.event_id);
  }
  result.first_position = first.position;
  result.last_position = first.position + known.size() - 1;
  result.first_version = known.front().version;
  result.last_version = known.back().version;
  result.replayed = true;
  return result;
}

absl::StatusOr<std::optional<RocksDbEventStore::KnownEvent>>
RocksDbEventStore::LookUpEventId(const Uuid& id,
                                 const GroupState& group) const {
  if (auto it = group.event_ids.find(id); it != group.event_ids.end()) {
    return it->second;
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<StoredEvent> stored,
                             ReadStoredEvent(id));
  if (!stored) return std::nullopt;
  RecordedEvent& event = stored->event;
  return KnownEvent{
      .entry = stored->entry,
      .stream_id = std::move(event.stream_id),
      .version = event.stream_version,
      .type = std::move(event.type),
      .content_type = std::move(event.content_type),
      .payload_hash = event.payload_hash,
      .redacted = event.redacted,
  };
}

absl::StatusOr<std::optional<RocksDbEventStore::StoredEvent>>
RocksDbEventStore::ReadStoredEvent(const Uuid& id) const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), event_ids_, AsSlice(id), &value);
  if (status.IsNotFound()) return std::nullopt;
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot look up an event id"));
  PLANTRAIL_ASSIGN_OR_RETURN(rf::EventIdEntry entry,
                             rf::DecodeEventIdEntry(value));
  PLANTRAIL_ASSIGN_OR_RETURN(std::vector<RecordedEvent> events,
                             ReadPositions({entry.position}));
  return StoredEvent{.entry = entry, .event = std::move(events[0])};
}

absl::StatusOr<rf::StreamHead> RocksDbEventStore::LookUpStreamHead(
    absl::string_view stream_id, const GroupState* group) const {
  if (group != nullptr) {
    if (auto it = group->stream_heads.find(std::string(stream_id));
        it != group->stream_heads.end()) {
      return it->second;
    }
  }
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), stream_heads_,
               rocksdb::Slice(stream_id.data(), stream_id.size()), &value);
  if (status.IsNotFound()) return rf::StreamHead{};
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read a stream head"));
  return rf::DecodeStreamHead(value);
}

absl::StatusOr<std::vector<RecordedEvent>> RocksDbEventStore::ReadPositions(
    const std::vector<uint64_t>& positions) const {
  std::vector<std::string> keys;
  keys.reserve(positions.size());
  for (uint64_t position : positions) keys.push_back(rf::PositionKey(position));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<rocksdb::ColumnFamilyHandle*> families(keys.size(), events_);
  std::vector<rocksdb::Status> statuses =
      db_->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  std::vector<RecordedEvent> events;
  events.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      return absl::DataLossError(
          absl::StrCat("the stream index points at position ", positions[i],
                       ", which the log does not have"));
    }
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(statuses[i], "cannot read an event"));
    PLANTRAIL_ASSIGN_OR_RETURN(RecordedEvent event,
                               rf::DecodeRecord(values[i]));
    events.push_back(std::move(event));
  }
  return events;
}

absl::StatusOr<StreamPage> RocksDbEventStore::ReadStream(
    const ReadStreamRequest& request) const {
  PLANTRAIL_RETURN_IF_ERROR(
      ValidateStreamId("stream_id", request.stream_id, options_.limits));
  PLANTRAIL_ASSIGN_OR_RETURN(uint32_t limit,
                             ResolvePageSize(request.limit, options_.limits));
  PLANTRAIL_ASSIGN_OR_RETURN(rf::StreamHead head,
                             LookUpStreamHead(request.stream_id, nullptr));
  if (head.version == 0) {
    return absl::NotFoundError(
        absl::StrCat("stream \"", request.stream_id, "\" has no events"));
  }
  StreamPage page;
  page.last_version = head.version;
  const bool forward = request.direction == ReadDirection::kForward;
  uint64_t from = request.from_version;
  if (forward) {
    from = std::max<uint64_t>(from, 1);
    if (from > head.version) return page;
  } else {
    from = from == 0 ? head.version : std::min(from, head.version);
  }
  // Versions are gapless, so the page's positions can be read off the
  // stream index in one range scan.
  std::vector<uint64_t> positions;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), streams_));
  const std::string start = rf::StreamKey(request.stream_id, from);
  const std::string prefix = request.stream_id + '\0';
  for (forward ? it->Seek(start) : it->SeekForPrev(start);
       it->Valid() && absl::StartsWith(View(it->key()), prefix) &&
       positions.size() < limit;
       forward ? it->Next() : it->Prev()) {
    absl::string_view value = View(it->value());
    uint64_t position;
    if (!rf::ConsumeU64(value, position)) {
      return absl::DataLossError("corrupt stream index entry");
    }
    positions.push_back(position);
  }
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read a stream"));
  PLANTRAIL_ASSIGN_OR_RETURN(page.events, ReadPositions(positions));
  size_t bytes = 0;
  for (size_t i = 0; i < page.events.size(); ++i) {
    bytes += page.events[i].payload.size();
    if (bytes > options_.limits.max_page_bytes && i > 0) {
      page.events.resize(i);
      break;
    }
  }
  if (!page.events.empty()) {
    const uint64_t last = page.events.back().stream_version;
    if (forward && last < head.version) page.next_version = last + 1;
    if (!forward && last > 1) page.next_version = last - 1;
  }
  stream_reads_.fetch_add(1, std::memory_order_relaxed);
  events_read_.fetch_add(page.events.size(), std::memory_order_relaxed);
  return page;
}

absl::StatusOr<LogPage> RocksDbEventStore::ReadAll(
    const ReadAllRequest& request) const {
  PLANTRAIL_ASSIGN_OR_RETURN(uint32_t limit,
                             ResolvePageSize(request.limit, options_.limits));
  LogPage page;
  page.head_position = head_position_.load(std::memory_order_acquire);
  const uint64_t from = std::max<uint64_t>(request.from_position, 1);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), events_));
  size_t bytes = 0;
  for (it->Seek(rf::PositionKey(from));
       it->Valid() && page.events.size() < limit; it->Next()) {
    PLANTRAIL_ASSIGN_OR_RETURN(RecordedEvent event,
                               rf::DecodeRecord(View(it->value())));
    bytes += event.payload.size();
    if (bytes > options_.limits.max_page_bytes && !page.events.empty()) break;
    page.events.push_back(std::move(event));
  }
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the log"));
  if (!page.events.empty()) {
    const uint64_t last = page.events.back().position;
    // The iterator may have seen a commit newer than the head we loaded.
    page.head_position = std::max(page.head_position, last);
    if (last < page.head_position) page.next_position = last + 1;
  }
  log_reads_.fetch_add(1, std::memory_order_relaxed);
  events_read_.fetch_add(page.events.size(), std::memory_order_relaxed);
  return page;
}

absl::StatusOr<uint64_t> RocksDbEventStore::StreamVersion(
    absl::string_view stream_id) const {
  PLANTRAIL_RETURN_IF_ERROR(
      ValidateStreamId("stream_id", stream_id, options_.limits));
  PLANTRAIL_ASSIGN_OR_RETURN(rf::StreamHead head,
                             LookUpStreamHead(stream_id, nullptr));
  return head.version;
}

absl::StatusOr<std::vector<std::string>> RocksDbEventStore::ListStreams(
    absl::string_view prefix, size_t limit) const {
  std::vector<std::string> streams;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), stream_heads_));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Valid() && streams.size() < limit; it->Next()) {
    const rocksdb::Slice key = it->key();
    if (!key.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
    streams.emplace_back(key.data(), key.size());
  }
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "listing streams"));
  return streams;
}

absl::StatusOr<std::optional<RecordedEvent>> RocksDbEventStore::ReadEvent(
    absl::string_view event_id) const {
  absl::StatusOr<Uuid> id = ParseUuid(event_id);
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("event_id: \"", event_id, "\" is not a UUID"));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<StoredEvent> stored,
                             ReadStoredEvent(*id));
  if (!stored) return std::nullopt;
  return std::move(stored->event);
}

absl::Status RocksDbEventStore::CreateCheckpoint(
    const std::string& directory) const {
  rocksdb::Checkpoint* raw = nullptr;
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_, &raw),
                                      "cannot start a checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: flush first, so the copy needs little WAL; the
  // WAL it does need is copied, so the copy is one consistent moment
  // across every column family.
  return FromRocks(checkpoint->CreateCheckpoint(directory),
                   absl::StrCat("cannot write a checkpoint to ", directory));
}

absl::Status RocksDbEventStore::EraseOverwritten(uint64_t first,
                                                 uint64_t last) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  // Every family, not only `events`: a WAL file is deleted only once no
  // family needs it.
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(db_->Flush(flush, families_), "cannot flush the event store"));
  rocksdb::CompactRangeOptions compact;
  // The old version may sit in the bottommost level's file, which a
  // compaction otherwise leaves as it is.
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  compact.exclusive_manual_compaction = false;
  if (first <= last) {
    const std::string begin_key = rf::PositionKey(first);
    const std::string end_key = rf::PositionKey(last);
    const rocksdb::Slice begin(begin_key), end(end_key);
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(
        db_->CompactRange(compact, events_, &begin, &end),
        absl::StrCat("cannot compact positions ", first, " to ", last)));
  }
  // Enabling deletions again (not forced: a checkpoint under way keeps
  // them off) deletes obsolete files now, where a compaction may leave
  // that to a background job.
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(db_->DisableFileDeletions(), "cannot pause file deletions"));
  return FromRocks(db_->EnableFileDeletions(/*force=*/false),
                   "cannot delete obsolete files");
}

uint64_t RocksDbEventStore::HeadPosition() const {
  return head_position_.load(std::memory_order_acquire);
}

uint64_t RocksDbEventStore::AddCommitListener(
    std::function<void(uint64_t head)> listener) {
  MutexLock lock(&head_mu_);
  listeners_.emplace(next_listener_, std::move(listener));
  return next_listener_++;
}

void RocksDbEventStore::RemoveCommitListener(uint64_t id) {
  MutexLock lock(&head_mu_);
  listeners_.erase(id);
}

uint64_t RocksDbEventStore::WaitForHead(uint64_t position,
                                        absl::Time deadline) const {
  MutexLock lock(&head_mu_);
  head_mu_.AwaitWithDeadline(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(head_mu_) {
        return closing_ ||
               head_position_.load(std::memory_order_acquire) >= position;
      },
      deadline);
  return head_position_.load(std::memory_order_acquire);
}

Stats RocksDbEventStore::GetStats() const {
  return Stats{
      .head_position = HeadPosition(),
      .appends = appends_.load(std::memory_order_relaxed),
      .events_appended = events_appended_.load(std::memory_order_relaxed),
      .replayed_appends = replayed_appends_.load(std::memory_order_relaxed),
      .rejected_appends = rejected_appends_.load(std::memory_order_relaxed),
      .commit_groups = commit_groups_.load(std::memory_order_relaxed),
      .synced_commits = synced_commits_.load(std::memory_order_relaxed),
      .wal_syncs = statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED),
      .stream_reads = stream_reads_.load(std::memory_order_relaxed),
      .log_reads = log_reads_.load(std::memory_order_relaxed),
      .events_read = events_read_.load(std::memory_order_relaxed),
      .append_seconds = append_seconds_.Read(),
      .commit_seconds = commit_seconds_.Read(),
      .group_events = group_events_.Read(),
      .storage = ReadRocksDbStats(*db_, statistics_.get()),
  };
}

void RocksDbEventStore::PauseWriterForTesting() {
  MutexLock lock(&mu_);
  paused_ = true;
}

void RocksDbEventStore::ResumeWriterForTesting() {
  MutexLock lock(&mu_);
  paused_ = false;
}

size_t RocksDbEventStore::QueuedAppendsForTesting() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace plantrail::eventstore
