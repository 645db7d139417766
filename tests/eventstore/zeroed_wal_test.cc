// The log with zeroed WAL spares (eventstore/zeroed_wal.h): its WAL files
// are a spare renamed in place, written from the start, with zeros after
// the records until closed; a copy taken while it is open (what a crash
// leaves on disk) opens with every acknowledged append and a chain that
// verifies; a spare left by one open is used by the next.
#include "eventstore/zeroed_wal.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eventstore/event_store.h"
#include "eventstore/rocksdb_event_store.h"
#include "gtest/gtest.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

namespace plantrail::eventstore {
namespace {

namespace fs = std::filesystem;
using testing::Event;
using testing::ReadEverything;
using testing::Request;

constexpr uint64_t kSpareBytes = 1 << 20;

std::unique_ptr<RocksDbEventStore> OpenZeroed(const std::string& path) {
  auto store = RocksDbEventStore::Open(
      Options{.path = path, .wal_spare_bytes = kSpareBytes});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::vector<fs::path> WalFiles(const std::string& path) {
  std::vector<fs::path> wals;
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.path().extension() == ".log") wals.push_back(entry.path());
  }
  return wals;
}

void AppendSome(EventStore& store, const std::string& stream, int count) {
  for (int i = 0; i < count; ++i) {
    auto appended = store.Append(
        Request(stream, ExpectedVersion::Any(),
                {Event("Probe", absl::StrCat("{\"n\":", i, "}"))}));
    ASSERT_TRUE(appended.ok()) << appended.status();
  }
}

TEST(ZeroedWalTest, TheWalIsTheSpareWrittenInPlaceAndCutWhenClosed) {
  plantrail::testing::TempDir dir;
  const std::string path = (fs::path(dir.path()) / "log").string();
  auto store = OpenZeroed(path);
  ASSERT_NE(store, nullptr);
  AppendSome(*store, "probe-1", 50);

  // The live WAL is a whole spare: its size on disk is the spare's, with
  // the records at the start. The next spare is made in the background.
  const std::vector<fs::path> wals = WalFiles(path);
  ASSERT_EQ(wals.size(), 1u);
  EXPECT_EQ(fs::file_size(wals[0]), kSpareBytes);
  for (int i = 0; i < 500 && !fs::exists(fs::path(path) / kSpareWalName); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(fs::file_size(fs::path(path) / kSpareWalName), kSpareBytes);

  store.reset();
  // Closed, a WAL file is its records only.
  for (const fs::path& wal : WalFiles(path)) {
    EXPECT_LT(fs::file_size(wal), kSpareBytes) << wal;
  }
  store = OpenZeroed(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ReadEverything(*store).size(), 50u);
  EXPECT_TRUE(store->Verify().ok());
}

TEST(ZeroedWalTest, ALogCopiedWhileOpenRecoversEveryAcknowledgedAppend) {
  plantrail::testing::TempDir dir;
  const std::string path = (fs::path(dir.path()) / "log").string();
  const std::string crashed = (fs::path(dir.path()) / "crashed").string();
  auto store = OpenZeroed(path);
  ASSERT_NE(store, nullptr);
  AppendSome(*store, "probe-1", 200);
  AppendSome(*store, "probe-2", 100);

  // What a crash leaves: the files as they are, the WAL with zeros after
  // its last record (RocksDB has not closed it).
  fs::copy(path, crashed, fs::copy_options::recursive);
  for (const fs::path& wal : WalFiles(crashed)) {
    EXPECT_EQ(fs::file_size(wal), kSpareBytes) << wal;
  }
  const std::vector<RecordedEvent> before = ReadEverything(*store);
  store.reset();

  // Opened without spares, as an older plantrail would.
  auto recovered = testing::OpenStore(crashed);
  ASSERT_NE(recovered, nullptr);
  const std::vector<RecordedEvent> after = ReadEverything(*recovered);
  ASSERT_EQ(after.size(), 300u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].event_id, before[i].event_id);
    EXPECT_EQ(after[i].hash, before[i].hash);
  }
  EXPECT_TRUE(recovered->Verify().ok());
  // And it goes on appending after the recovered records.
  AppendSome(*recovered, "probe-3", 1);
  EXPECT_EQ(recovered->HeadPosition(), 301u);
}

TEST(ZeroedWalTest, TheSpareOfOneOpenServesTheNextAndAWrongSizeIsRemade) {
  plantrail::testing::TempDir dir;
  const std::string path = (fs::path(dir.path()) / "log").string();
  {
    auto store = OpenZeroed(path);
    ASSERT_NE(store, nullptr);
    AppendSome(*store, "probe-1", 3);
  }
  const fs::path spare = fs::path(path) / kSpareWalName;
  ASSERT_TRUE(fs::exists(spare));
  // A spare of another size (the setting changed) is not used as is.
  fs::resize_file(spare, 1000);
  auto store = OpenZeroed(path);
  ASSERT_NE(store, nullptr);
  AppendSome(*store, "probe-1", 3);
  // The WAL in use is a spare made again at the right size.
  bool zeroed = false;
  for (const fs::path& wal : WalFiles(path)) {
    zeroed = zeroed || fs::file_size(wal) == kSpareBytes;
  }
  EXPECT_TRUE(zeroed);
  EXPECT_EQ(ReadEverything(*store).size(), 6u);
}

}  // namespace
}  // namespace plantrail::eventstore
