#include "projections/projection_store.h"

#include <cstring>
#include <deque>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eventstore/disk_full.h"
#include "eventstore/info_log.h"
#include "eventstore/record_format.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/write_batch.h"

namespace plantrail::projections {
namespace {

namespace rf = eventstore::record_format;

// The runner's own key in every copy (projection keys never start with 0).
constexpr char kCheckpointKey[] = "\0checkpoint";
constexpr size_t kCheckpointKeySize = sizeof(kCheckpointKey) - 1;
constexpr char kMetaFamily[] = "meta";

rocksdb::Slice CheckpointKey() {
  return rocksdb::Slice(kCheckpointKey, kCheckpointKeySize);
}

// The layout the copy was folded under (StateCopy::ReadLayout).
constexpr char kLayoutKey[] = "\0layout";
rocksdb::Slice LayoutKey() {
  return rocksdb::Slice(kLayoutKey, sizeof(kLayoutKey) - 1);
}

rocksdb::Slice AsSlice(absl::string_view bytes) {
  return rocksdb::Slice(bytes.data(), bytes.size());
}

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", status.ToString());
  // The runner waits out a full disk (kResourceExhausted) and stops on
  // anything else.
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  return absl::UnavailableError(std::move(message));
}

std::string FamilyName(absl::string_view name, uint64_t generation) {
  return absl::StrCat(name, ".", generation);
}

std::string LiveKey(absl::string_view name) {
  return absl::StrCat("live/", name);
}

absl::StatusOr<uint64_t> DecodeU64(absl::string_view value) {
  uint64_t number;
  if (value.size() != 8 || !rf::ConsumeU64(value, number)) {
    return absl::DataLossError("a projection counter is not 8 bytes");
  }
  return number;
}

// A checkpoint is position:u64 hash:32; copies written before checkpoints
// carried hashes hold the position alone.
absl::StatusOr<StateCopy::Checkpoint> DecodeCheckpoint(
    absl::string_view value) {
  StateCopy::Checkpoint checkpoint;
  if ((value.size() != 8 && value.size() != 8 + 32) ||
      !rf::ConsumeU64(value, checkpoint.position)) {
    return absl::DataLossError("a projection checkpoint is not 8 or 40 bytes");
  }
  if (!value.empty()) {
    checkpoint.hash.emplace();
    std::copy(value.begin(), value.end(), checkpoint.hash->begin());
  }
  return checkpoint;
}

// The memtable prefix of keys that grow at their end under a common head:
// everything up to the first 0 byte after the key's first byte (an area's
// history "h/<area>\0<position>", its steps "s<area>\0<position>", its
// business days "d<area>\0<day><position>", the recorded-day index). Each
// such key is written just after the previous one of its prefix, and
// RocksDB keeps where that one went (a splice per prefix), so the insert
// costs a few comparisons instead of a search from the top of a skip list
// of a million keys. Only a hint: any key may be inserted with it, in any
// order; keys without such a 0 byte are inserted as usual.
class UpToFirstZeroByte final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "plantrail.UpToFirstZeroByte"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const char* zero = FirstZero(key);
    return rocksdb::Slice(key.data(), zero - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return FirstZero(key) != nullptr;
  }

 private:
  static const char* FirstZero(const rocksdb::Slice& key) {
    if (key.size() < 2) return nullptr;
    return static_cast<const char*>(
        std::memchr(key.data() + 1, 0, key.size() - 1));
  }
};

// The options of every projection family (and meta).
rocksdb::ColumnFamilyOptions FamilyOptions(const rocksdb::Options& db) {
  rocksdb::ColumnFamilyOptions options(db);
  static const auto* const hint =
      new std::shared_ptr<const rocksdb::SliceTransform>(
          std::make_shared<UpToFirstZeroByte>());
  options.memtable_insert_with_hint_prefix_extractor = *hint;
  return options;
}

// One iterator on a reader's snapshot; holds the family and the snapshot
// for as long as it lives.
class CopyCursor final : public StateReader::Cursor {
 public:
  CopyCursor(std::unique_ptr<rocksdb::Iterator> it,
             std::shared_ptr<rocksdb::ColumnFamilyHandle> family,
             std::shared_ptr<const rocksdb::Snapshot> snapshot)
      : family_(std::move(family)),
        snapshot_(std::move(snapshot)),
        it_(std::move(it)) {}

  absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
  LastAtOrBefore(absl::string_view prefix, absl::string_view key) override {
    it_->SeekForPrev(AsSlice(key));
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(it_->status(), "cannot seek"));
    if (!it_->Valid() || !absl::StartsWith(View(it_->key()), prefix)) {
      return std::nullopt;
    }
    return std::pair(std::string(View(it_->key())),
                     std::string(View(it_->value())));
  }

 private:
  // Declared before the iterator: it is destroyed first.
  const std::shared_ptr<rocksdb::ColumnFamilyHandle> family_;
  const std::shared_ptr<const rocksdb::Snapshot> snapshot_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class CopyReader final : public StateReader {
 public:
  CopyReader(rocksdb::DB* db,
             std::shared_ptr<rocksdb::ColumnFamilyHandle> family,
             uint64_t generation)
      : db_(db),
        family_(std::move(family)),
        generation_(generation),
        snapshot_(db->GetSnapshot(), [db](const rocksdb::Snapshot* snapshot) {
          db->ReleaseSnapshot(snapshot);
        }) {
    options_.snapshot = snapshot_.get();
    std::string value;
    if (db_->Get(options_, family_.get(), CheckpointKey(), &value).ok()) {
      absl::StatusOr<StateCopy::Checkpoint> checkpoint =
          DecodeCheckpoint(value);
      if (checkpoint.ok()) checkpoint_ = checkpoint->position;
    }
  }

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) const override {
    std::string value;
    rocksdb::Status status =
        db_->Get(options_, family_.get(), AsSlice(key), &value);
    if (status.IsNotFound()) return std::nullopt;
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read a projection"));
    return value;
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(
      absl::string_view prefix, absl::string_view from, size_t limit,
      bool reverse) const override {
    std::vector<std::pair<std::string, std::string>> entries;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(options_, family_.get()));
    if (!from.empty()) {
      reverse ? it->SeekForPrev(AsSlice(from)) : it->Seek(AsSlice(from));
    } else if (reverse) {
      // The last key of the prefix: seek before the first key past it.
      std::string end(prefix);
      while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
        end.pop_back();
      }
      if (end.empty()) {
        it->SeekToLast();
      } else {
        end.back() = static_cast<char>(end.back() + 1);
        it->SeekForPrev(AsSlice(end));
        if (it->Valid() && View(it->key()) == end) it->Prev();
      }
    } else {
      it->Seek(AsSlice(prefix));
    }
    for (; it->Valid() && entries.size() < limit;
         reverse ? it->Prev() : it->Next()) {
      const absl::string_view key = View(it->key());
      if (!absl::StartsWith(key, prefix)) break;
      entries.emplace_back(std::string(key), std::string(View(it->value())));
    }
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot scan"));
    return entries;
  }

  std::unique_ptr<Cursor> NewCursor() const override {
    return std::make_unique<CopyCursor>(
        std::unique_ptr<rocksdb::Iterator>(
            db_->NewIterator(options_, family_.get())),
        family_, snapshot_);
  }

  uint64_t checkpoint() const override { return checkpoint_; }
  uint64_t generation() const override { return generation_; }

 private:
  rocksdb::DB* const db_;
  const std::shared_ptr<rocksdb::ColumnFamilyHandle> family_;
  const uint64_t generation_;
  const std::shared_ptr<const rocksdb::Snapshot> snapshot_;
  rocksdb::ReadOptions options_;
  uint64_t checkpoint_ = 0;
};

// The writes of one batch, kept in memory until it commits: reads see them
// through a hash map (no indexed write batch to maintain), and every key is
// written once, with its last value, in the order it was first written (a
// history's keys then reach the memtable in the order of their prefix
// hints, see UpToFirstZeroByte).
class BatchWriter final : public StateWriter {
 public:
  BatchWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
              DecodedCache* decoded)
      : db_(db), family_(family), decoded_(decoded) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    if (auto it = staged_.find(key); it != staged_.end()) {
      return it->second->SerializeAsString();
    }
    if (auto it = written_.find(key); it != written_.end()) {
      return it->second->value;
    }
    std::string value;
    rocksdb::Status status =
        db_->Get(rocksdb::ReadOptions(), family_, AsSlice(key), &value);
    if (status.IsNotFound()) return std::nullopt;
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read a projection"));
    return value;
  }

  void Put(absl::string_view key, absl::string_view value) override {
    if (!staged_.empty()) staged_.erase(key);
    if (!decoded_->messages.empty()) decoded_->messages.erase(key);
    bytes_ += key.size() + value.size();
    if (auto it = written_.find(key); it != written_.end()) {
      it->second->value.assign(value.data(), value.size());
      return;
    }
    Write& write = order_.emplace_back();
    write.key.assign(key.data(), key.size());
    write.value.assign(value.data(), value.size());
    // The map's key views the write's own copy (a deque never moves its
    // elements).
    written_.emplace(write.key, &write);
  }

  absl::StatusOr<google::protobuf::Message*> Staged(
      absl::string_view key,
      const google::protobuf::Message& prototype) override {
    if (auto it = staged_.find(key); it != staged_.end()) {
      return it->second.get();
    }
    auto written = written_.find(key);
    // Decoded by an earlier batch and unchanged since (the cache holds what
    // was committed): take it over instead of reading it again.
    if (written == written_.end()) {
      if (auto cached = decoded_->messages.extract(key); !cached.empty()) {
        if (cached.mapped()->GetDescriptor() == prototype.GetDescriptor()) {
          google::protobuf::Message* raw = cached.mapped().get();
          staged_.insert(std::move(cached));
          return raw;
        }
      }
    }
    PLANTRAIL_ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(key));
    std::unique_ptr<google::protobuf::Message> message(prototype.New());
    if (bytes.has_value() && !message->ParseFromString(*bytes)) {
      return absl::DataLossError(
          absl::StrCat("a stored ", prototype.GetDescriptor()->name(), " at \"",
                       absl::CEscape(key), "\" does not parse"));
    }
    if (written != written_.end()) {
      written->second->erased = true;
      written_.erase(written);
    }
    google::protobuf::Message* raw = message.get();
    staged_.emplace(std::string(key), std::move(message));
    return raw;
  }

  bool empty() const { return written_.empty() && staged_.empty(); }
  // Bytes put (keys and values, overwritten ones included) and messages
  // staged: what the batch holds in memory.
  size_t bytes() const { return bytes_; }
  size_t staged() const { return staged_.size(); }

  // Every write of the batch (staged messages serialized now) into `batch`.
  void WriteInto(rocksdb::WriteBatch& batch) {
    for (const Write& write : order_) {
      if (write.erased) continue;
      batch.Put(family_, AsSlice(write.key), AsSlice(write.value))
          .PermitUncheckedError();
    }
    std::string bytes;
    for (const auto& [key, message] : staged_) {
      bytes.clear();
      message->AppendToString(&bytes);
      batch.Put(family_, AsSlice(key), bytes).PermitUncheckedError();
    }
    written_.clear();
    order_.clear();
    bytes_ = 0;
  }

  // After a commit: the staged messages are what is stored now; keep them
  // decoded for the next batch.
  void KeepDecoded() {
    if (decoded_->messages.size() + staged_.size() > DecodedCache::kCapacity) {
      decoded_->messages.clear();
    }
    if (staged_.size() <= DecodedCache::kCapacity) {
      for (auto& [key, message] : staged_) {
        decoded_->messages[key] = std::move(message);
      }
    }
    staged_.clear();
  }

 private:
  struct Write {
    std::string key;
    std::string value;
    // Taken over by a staged message since.
    bool erased = false;
  };

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const family_;
  DecodedCache* const decoded_;
  // The puts in the order of their first write; written_ indexes the live
  // ones by key (viewing Write::key).
  std::deque<Write> order_;
  absl::flat_hash_map<absl::string_view, Write*> written_;
  size_t bytes_ = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<google::protobuf::Message>>
      staged_;
};

}  // namespace

StateCopy::StateCopy(rocksdb::DB* db,
                     std::shared_ptr<rocksdb::ColumnFamilyHandle> family,
                     uint64_t generation)
    : db_(db), family_(std::move(family)), generation_(generation) {}

absl::StatusOr<uint64_t> StateCopy::ReadCheckpoint() const {
  PLANTRAIL_ASSIGN_OR_RETURN(Checkpoint checkpoint, ReadCheckpointWithHash());
  return checkpoint.position;
}

absl::StatusOr<StateCopy::Checkpoint> StateCopy::ReadCheckpointWithHash()
    const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), family_.get(), CheckpointKey(), &value);
  if (status.IsNotFound()) return Checkpoint{};
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read a checkpoint"));
  return DecodeCheckpoint(value);
}

absl::StatusOr<uint32_t> StateCopy::ReadLayout() const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), family_.get(), LayoutKey(), &value);
  if (status.IsNotFound()) return 1;
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read a layout"));
  uint32_t layout = 0;
  if (!absl::SimpleAtoi(value, &layout)) {
    return absl::DataLossError(absl::StrCat("a projection's layout \"",
                                            absl::CEscape(value),
                                            "\" is not a number"));
  }
  return layout;
}

absl::Status StateCopy::WriteLayout(uint32_t layout) const {
  return FromRocks(db_->Put(rocksdb::WriteOptions(), family_.get(), LayoutKey(),
                            absl::StrCat(layout)),
                   "cannot write a layout");
}

std::shared_ptr<const StateReader> StateCopy::Reader() const {
  return std::make_shared<CopyReader>(db_, family_, generation_);
}

StateCopy::Batch::Batch(const StateCopy* copy)
    : copy_(copy),
      writer_(std::make_unique<BatchWriter>(copy->db_, copy->family_.get(),
                                            &copy->decoded_)) {}

absl::Status StateCopy::Batch::Commit(uint64_t checkpoint,
                                      const eventstore::Hash& checkpoint_hash) {
  rocksdb::WriteBatch batch;
  // writer_ is the BatchWriter the constructor made.
  static_cast<BatchWriter&>(*writer_).WriteInto(batch);
  std::string value = rf::PositionKey(checkpoint);
  value.append(reinterpret_cast<const char*>(checkpoint_hash.data()),
               checkpoint_hash.size());
  batch.Put(copy_->family_.get(), CheckpointKey(), value)
      .PermitUncheckedError();
  // No fsync: a projection is rebuilt from the log, and state and
  // checkpoint stay consistent because they share this batch.
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(copy_->db_->Write(rocksdb::WriteOptions(), &batch),
                "cannot commit a projection batch"));
  static_cast<BatchWriter&>(*writer_).KeepDecoded();
  copy_->NotePersistedCheckpoint(checkpoint);
  return absl::OkStatus();
}

bool StateCopy::Batch::has_writes() const {
  return !static_cast<const BatchWriter&>(*writer_).empty();
}

size_t StateCopy::Batch::bytes() const {
  return static_cast<const BatchWriter&>(*writer_).bytes();
}

size_t StateCopy::Batch::staged() const {
  return static_cast<const BatchWriter&>(*writer_).staged();
}

absl::Status ProjectionStore::ResumeAfterNoSpace() {
  // Shared handles, so that a rebuild dropping a family meanwhile does not
  // pull a handle from under the flush.
  std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>> open;
  {
    MutexLock lock(&mu_);
    for (const auto& [name, handle] : families_) open.push_back(handle);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> families = {meta_};
  for (const auto& handle : open) families.push_back(handle.get());
  return eventstore::ResumeAfterNoSpace(*db_, families, *no_space_);
}

absl::StatusOr<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(
    const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // Bounded like the log's (see rocksdb_event_store.cc).
  options.db_write_buffer_size = 32 << 20;
  auto no_space = std::make_shared<eventstore::NoSpaceListener>();
  options.listeners.push_back(no_space);
  options.info_log = eventstore::InfoLog::Open(path);
  std::vector<std::string> names;
  rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(
      rocksdb::DBOptions(options), path, &names);
  if (!listed.ok()) names = {rocksdb::kDefaultColumnFamilyName};
  bool has_meta = false;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    has_meta = has_meta || name == kMetaFamily;
    descriptors.emplace_back(name, FamilyOptions(options));
  }
  if (!has_meta) {
    descriptors.emplace_back(kMetaFamily, FamilyOptions(options));
  }
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(options, path, descriptors, &handles, &db),
                absl::StrCat("cannot open the projection store at ", path)));
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families;
  for (size_t i = 0; i < handles.size(); ++i) {
    families[descriptors[i].name] = handles[i];
  }
  return std::unique_ptr<ProjectionStore>(
      new ProjectionStore(path, db, std::move(families), std::move(no_space)));
}

ProjectionStore::ProjectionStore(
    std::string path, rocksdb::DB* db,
    std::map<std::string, rocksdb::ColumnFamilyHandle*> families,
    std::shared_ptr<eventstore::NoSpaceListener> no_space)
    : path_(std::move(path)), db_(db), no_space_(std::move(no_space)) {
  MutexLock lock(&mu_);
  for (auto& [name, handle] : families) {
    if (name == kMetaFamily) {
      meta_ = handle;
    } else {
      families_[name] = Share(handle);
    }
  }
}

ProjectionStore::~ProjectionStore() {
  {
    MutexLock lock(&mu_);
    families_.clear();
  }
  db_->DestroyColumnFamilyHandle(meta_).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
  delete db_;
}

std::shared_ptr<rocksdb::ColumnFamilyHandle> ProjectionStore::Share(
    rocksdb::ColumnFamilyHandle* handle) {
  return std::shared_ptr<rocksdb::ColumnFamilyHandle>(
      handle, [this](rocksdb::ColumnFamilyHandle* h) {
        MutexLock lock(&dropped_mu_);
        db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
        dropped_.erase(h);
      });
}

absl::StatusOr<std::shared_ptr<StateCopy>> ProjectionStore::Create(
    const std::string& name, uint64_t generation) {
  const std::string family_name = FamilyName(name, generation);
  auto it = families_.find(family_name);
  if (it == families_.end()) {
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(
        db_->CreateColumnFamily(FamilyOptions(rocksdb::Options()), family_name,
                                &handle),
        absl::StrCat("cannot create projection family ", family_name)));
    it = families_.emplace(family_name, Share(handle)).first;
  }
  return std::make_shared<StateCopy>(db_, it->second, generation);
}

void ProjectionStore::Drop(const std::string& family_name) {
  auto it = families_.find(family_name);
  if (it == families_.end()) return;
  // Readers still holding the handle keep reading it until they let go.
  db_->DropColumnFamily(it->second.get()).PermitUncheckedError();
  {
    MutexLock lock(&dropped_mu_);
    dropped_.insert(it->second.get());
  }
  families_.erase(it);
}

absl::StatusOr<std::shared_ptr<StateCopy>> ProjectionStore::Live(
    const std::string& name) {
  MutexLock lock(&mu_);
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), meta_, LiveKey(name), &value);
  uint64_t generation = 1;
  if (status.ok()) {
    PLANTRAIL_ASSIGN_OR_RETURN(generation, DecodeU64(value));
  } else if (status.IsNotFound()) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(
        db_->Put(sync, meta_, LiveKey(name), rf::PositionKey(generation)),
        "cannot record a projection"));
  } else {
    PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read projection meta"));
  }
  // A shadow left behind by a rebuild that did not finish is of no use.
  for (uint64_t g = generation + 1; families_.count(FamilyName(name, g)) > 0;
       ++g) {
    Drop(FamilyName(name, g));
  }
  return Create(name, generation);
}

absl::StatusOr<std::shared_ptr<StateCopy>> ProjectionStore::CreateShadow(
    const std::string& name) {
  MutexLock lock(&mu_);
  std::string value;
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(db_->Get(rocksdb::ReadOptions(), meta_, LiveKey(name), &value),
                "cannot read projection meta"));
  PLANTRAIL_ASSIGN_OR_RETURN(uint64_t live, DecodeU64(value));
  Drop(FamilyName(name, live + 1));
  return Create(name, live + 1);
}

absl::Status ProjectionStore::Promote(
    const std::string& name, const std::shared_ptr<StateCopy>& shadow) {
  MutexLock lock(&mu_);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(db_->Put(sync, meta_, LiveKey(name),
                         rf::PositionKey(shadow->generation())),
                "cannot promote a projection"));
  Drop(FamilyName(name, shadow->generation() - 1));
  return absl::OkStatus();
}

absl::Status ProjectionStore::EraseDropped(absl::Time deadline) {
  {
    MutexLock lock(&dropped_mu_);
    if (!dropped_mu_.AwaitWithDeadline(
            [this]()
                ABSL_NO_THREAD_SAFETY_ANALYSIS { return dropped_.empty(); },
            deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(
          dropped_.size(),
          " dropped projection copies are still being read; their files go "
          "when the reads end"));
    }
  }
  std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>> open;
  {
    MutexLock lock(&mu_);
    for (const auto& [name, handle] : families_) open.push_back(handle);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> families = {meta_};
  for (const auto& handle : open) families.push_back(handle.get());
  rocksdb::FlushOptions flush;
  flush.wait = true;
  for (rocksdb::ColumnFamilyHandle* family : families) {
    // Another projection's rebuild may swap in its copy meanwhile and drop
    // the old one: a dropped family has nothing left to flush.
    const rocksdb::Status flushed = db_->Flush(flush, family);
    if (flushed.IsColumnFamilyDropped()) continue;
    PLANTRAIL_RETURN_IF_ERROR(
        FromRocks(flushed, "cannot flush the projection store"));
  }
  // Enabling deletions again (not forced, so as not to cut short anyone
  // who disabled them) deletes obsolete files now, not in the background.
  PLANTRAIL_RETURN_IF_ERROR(
      FromRocks(db_->DisableFileDeletions(), "cannot pause file deletions"));
  return FromRocks(db_->EnableFileDeletions(/*force=*/false),
                   "cannot delete obsolete files");
}

eventstore::RocksDbStats ProjectionStore::Stats() const {
  return eventstore::ReadRocksDbStats(*db_, nullptr);
}

}  // namespace plantrail::projections
