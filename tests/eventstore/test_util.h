// Helpers shared by the event store tests.
#ifndef PLANTRAIL_TESTS_EVENTSTORE_TEST_UTIL_H_
#define PLANTRAIL_TESTS_EVENTSTORE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/event_store.h"
#include "eventstore/rocksdb_event_store.h"
#include "gtest/gtest.h"

namespace plantrail::eventstore::testing {

inline std::unique_ptr<RocksDbEventStore> OpenStore(
    const std::string& path, Durability durability = Durability::kSync) {
  auto store =
      RocksDbEventStore::Open(Options{.path = path, .durability = durability});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

inline ProposedEvent Event(std::string type, std::string payload,
                           std::string id = "") {
  return ProposedEvent{.event_id = std::move(id),
                       .type = std::move(type),
                       .payload = std::move(payload),
                       .content_type = "application/json"};
}

inline AppendRequest Request(std::string stream, ExpectedVersion expected,
                             std::vector<ProposedEvent> events) {
  return AppendRequest{.stream_id = std::move(stream),
                       .expected_version = expected,
                       .events = std::move(events)};
}

// Every event of the log, read page by page from position 1.
inline std::vector<RecordedEvent> ReadEverything(const EventStore& store) {
  std::vector<RecordedEvent> all;
  uint64_t from = 1;
  while (from != 0) {
    auto page = store.ReadAll({.from_position = from, .limit = 1000});
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    for (auto& event : page->events) all.push_back(std::move(event));
    from = page->next_position;
  }
  return all;
}

}  // namespace plantrail::eventstore::testing

#endif  // PLANTRAIL_TESTS_EVENTSTORE_TEST_UTIL_H_
