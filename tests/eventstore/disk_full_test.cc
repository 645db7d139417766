// The pieces of eventstore/disk_full.h and info_log.h that do not need a
// full disk to check; tests/e2e/full_disk_test.cc fills a real one.
#include "eventstore/disk_full.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "eventstore/info_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "tests/temp_dir.h"

namespace plantrail::eventstore {
namespace {

using ::testing::HasSubstr;

TEST(FreeSpaceFloorTest, RefusesUnderTheFloorNamingItAndTheFlag) {
  plantrail::testing::TempDir dir;
  ASSERT_TRUE(FreeBytes(dir.path()).ok());
  EXPECT_TRUE(FreeSpaceFloor(dir.path(), 0).Check().ok()) << "0: no floor";
  EXPECT_TRUE(FreeSpaceFloor(dir.path(), 1).Check().ok());
  FreeSpaceFloor impossible(dir.path(), uint64_t{1} << 62);
  const absl::Status refused = impossible.Check();
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("MiB floor (--min-free-mb)"));
  EXPECT_THAT(refused.message(), HasSubstr(dir.path()));
}

TEST(InfoLogTest, WritesLinesAndRollsOverAtItsSize) {
  plantrail::testing::TempDir dir;
  auto log = InfoLog::Open(dir.path(), /*max_bytes=*/4096);
  for (int i = 0; i < 200; ++i) {
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "line %d", i);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "LOG.old"));
  EXPECT_LE(std::filesystem::file_size(dir / "LOG"), 4096u);
  std::ifstream in(dir / "LOG");
  std::string last, line;
  while (std::getline(in, line)) last = line;
  EXPECT_THAT(last, HasSubstr("line 199"));
}

// RocksDB's own file logger aborts on the line after one it could not
// write; this one must go on. /dev/full fails every write with ENOSPC.
TEST(InfoLogTest, ADiskThatTakesNothingMoreCostsLinesNotTheProcess) {
  plantrail::testing::TempDir dir;
  std::filesystem::create_symlink("/dev/full", dir / "LOG");
  auto log = InfoLog::Open(dir.path());
  for (int i = 0; i < 100; ++i) {
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log, "lost line %d", i);
  }
  SUCCEED() << "still here";
}

}  // namespace
}  // namespace plantrail::eventstore
