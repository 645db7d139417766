// Raw access to a log's RocksDB behind the store's back, for tests that
// tamper with it the way an attacker with file access would.
#ifndef PLANTRAIL_TESTS_EVENTSTORE_RAW_DB_H_
#define PLANTRAIL_TESTS_EVENTSTORE_RAW_DB_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eventstore/record_format.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace plantrail::eventstore {

// The raw database with every column family, by name.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    EXPECT_TRUE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names)
            .ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    EXPECT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors,
                                  &handles_, &db)
                    .ok());
    db_.reset(db);
    for (size_t i = 0; i < names.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~RawDb() {
    for (auto* handle : handles_) {
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
  }
  // Empty when there is no such key.
  std::string Get(const std::string& family, const std::string& key) {
    std::string value;
    const rocksdb::Status status =
        db_->Get(rocksdb::ReadOptions(), by_name_[family], key, &value);
    EXPECT_TRUE(status.ok() || status.IsNotFound()) << status.ToString();
    return value;
  }
  void Put(const std::string& family, const std::string& key,
           const std::string& value) {
    EXPECT_TRUE(
        db_->Put(rocksdb::WriteOptions(), by_name_[family], key, value).ok());
  }
  void Delete(const std::string& family, const std::string& key) {
    EXPECT_TRUE(
        db_->Delete(rocksdb::WriteOptions(), by_name_[family], key).ok());
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

inline std::string RecordAt(RawDb& db, uint64_t position) {
  return db.Get(record_format::kEventsFamily,
                record_format::PositionKey(position));
}

// Applies `change` to the event at `position` and recomputes the payload
// hash there and the chain hash of it and of every later event: what an
// attacker without the signing key can do. The result verifies on its own.
inline void RewriteAndRechain(
    RawDb& db, uint64_t position,
    const std::function<void(RecordedEvent&)>& change) {
  namespace rf = record_format;
  Hash previous{};
  for (uint64_t at = 1;; ++at) {
    const std::string record = RecordAt(db, at);
    if (record.empty()) break;
    auto event = rf::DecodeRecord(record);
    ASSERT_TRUE(event.ok()) << event.status();
    if (at == position) {
      change(*event);
      event->payload_hash = rf::Sha256(event->payload);
    }
    if (at >= position) {
      event->hash =
          rf::ChainHash(previous, rf::HeaderHash(*event), event->payload_hash);
      db.Put(rf::kEventsFamily, rf::PositionKey(at), rf::EncodeRecord(*event));
    }
    previous = event->hash;
  }
}

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_TESTS_EVENTSTORE_RAW_DB_H_
