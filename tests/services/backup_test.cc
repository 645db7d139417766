// Admin.Backup's logic: where a backup may go, and that a failed backup
// removes what it made and nothing else.
#include "services/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "audit/signing_key.h"
#include "eventstore/event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace plantrail::services {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = root_ / "data";
    fs::create_directories(data_dir_);
    auto store = eventstore::EventStore::Open(
        {.path = data_dir_ + "/eventstore",
         .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto key = audit::SigningKey::LoadOrCreate(data_dir_ + "/signing.key",
                                               data_dir_ + "/signing.pub");
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<audit::SigningKey>(*std::move(key));
  }

  void AppendOne() {
    eventstore::AppendRequest request{
        .stream_id = "notes",
        .expected_version = eventstore::ExpectedVersion::Any()};
    request.events.push_back({.type = "Noted", .payload = "x"});
    auto appended = store_->Append(std::move(request));
    ASSERT_TRUE(appended.ok()) << appended.status();
  }

  absl::StatusOr<v1::BackupResponse> Backup(const std::string& directory) {
    return WriteBackup(*store_, *key_, data_dir_, directory);
  }

  // A file that must survive every refused or failed backup.
  std::string Precious(const std::string& directory) {
    fs::create_directories(directory);
    const std::string path = directory + "/precious.txt";
    std::ofstream(path) << "keep me";
    return path;
  }

  testing::TempDir root_;
  std::string data_dir_;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<audit::SigningKey> key_;
};

TEST_F(BackupTest, DotDotThroughAMissingDirectoryIsRefusedAndTouchesNothing) {
  AppendOne();
  const std::string existing = root_ / "existing";
  const std::string precious = Precious(existing);
  chmod(existing.c_str(), 0755);
  auto backup = Backup(root_ / "missing/../existing");
  ASSERT_EQ(backup.status().code(), absl::StatusCode::kInvalidArgument)
      << backup.status();
  EXPECT_THAT(backup.status().message(), HasSubstr("directory:"));
  EXPECT_THAT(backup.status().message(), HasSubstr("\"..\""));
  EXPECT_TRUE(fs::exists(precious));
  EXPECT_FALSE(fs::exists(root_ / "missing"));
  EXPECT_FALSE(fs::exists(root_ / "existing/eventstore"));
  struct stat info;
  ASSERT_EQ(stat(existing.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u) << "the directory was chmodded";
}

TEST_F(BackupTest, AnExistingDirectoryOrFileIsRefusedAndKept) {
  AppendOne();
  const std::string existing = root_ / "existing";
  const std::string precious = Precious(existing);
  auto backup = Backup(existing);
  EXPECT_EQ(backup.status().code(), absl::StatusCode::kAlreadyExists)
      << backup.status();
  EXPECT_TRUE(fs::exists(precious));
  auto onto_file = Backup(precious);
  EXPECT_EQ(onto_file.status().code(), absl::StatusCode::kAlreadyExists)
      << onto_file.status();
  std::ifstream in(precious);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "keep me");
}

TEST_F(BackupTest, ASymbolicLinkOnTheWayIsRefused) {
  AppendOne();
  const std::string elsewhere = root_ / "elsewhere";
  const std::string precious = Precious(elsewhere);
  fs::create_directory_symlink(elsewhere, root_ / "link");
  auto backup = Backup(root_ / "link/backup");
  ASSERT_EQ(backup.status().code(), absl::StatusCode::kInvalidArgument)
      << backup.status();
  EXPECT_THAT(backup.status().message(), HasSubstr("symbolic link"));
  EXPECT_FALSE(fs::exists(elsewhere + "/backup"));
  EXPECT_TRUE(fs::exists(precious));
}

TEST_F(BackupTest, TheDataDirectoryAndAnythingInsideItAreRefused) {
  AppendOne();
  for (const std::string& target :
       {data_dir_, data_dir_ + "/eventstore", data_dir_ + "/new/backup"}) {
    auto backup = Backup(target);
    EXPECT_FALSE(backup.ok()) << target;
    EXPECT_THAT(backup.status().message(), HasSubstr("directory:")) << target;
  }
  EXPECT_FALSE(fs::exists(data_dir_ + "/new"));
  // The live log is whole: it still reads and takes appends.
  AppendOne();
}

TEST_F(BackupTest, AFailedBackupRemovesWhatItMadeAndNothingElse) {
  // An empty log fails after the copy was written: the directory and the
  // parents the backup created go, the parent that was there stays.
  const std::string parent = root_ / "backups";
  const std::string precious = Precious(parent);
  auto backup = Backup(parent + "/new/deeper/b1");
  ASSERT_EQ(backup.status().code(), absl::StatusCode::kFailedPrecondition)
      << backup.status();
  EXPECT_FALSE(fs::exists(parent + "/new"));
  EXPECT_TRUE(fs::exists(precious));
}

TEST_F(BackupTest, BadPathsNameTheFieldAndTheRule) {
  for (const std::string& bad :
       {std::string("relative/path"), std::string(""), root_ / "a//b",
        root_ / "./b", root_ / std::string("line\nbreak"),
        "/" + std::string(5000, 'x'), root_ / std::string(300, 'y')}) {
    auto backup = Backup(bad);
    ASSERT_EQ(backup.status().code(), absl::StatusCode::kInvalidArgument)
        << bad.substr(0, 80);
    EXPECT_THAT(backup.status().message(), HasSubstr("directory:"));
    EXPECT_LT(backup.status().message().size(), 400u);
  }
}

TEST_F(BackupTest, AGoodBackupIsPrivateAndVerifies) {
  AppendOne();
  const std::string target = root_ / "backups/new/b1";
  auto backup = Backup(target);
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->directory(), target);
  EXPECT_EQ(backup->head_position(), 1u);
  EXPECT_TRUE(fs::exists(target + "/eventstore/CURRENT"));
  EXPECT_TRUE(fs::exists(target + "/backup.json"));
  for (const std::string& made : {root_ / "backups", target}) {
    struct stat info;
    ASSERT_EQ(stat(made.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 077, 0u) << made;
  }
  // The live log's RocksDB LOG names the descriptor the copy was written
  // through, not the caller's path (which could carry anything).
  std::ifstream log(data_dir_ + "/eventstore/LOG");
  ASSERT_TRUE(log.good());
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_EQ(text.str().find("backups/new/b1"), std::string::npos);
}

}  // namespace
}  // namespace plantrail::services
