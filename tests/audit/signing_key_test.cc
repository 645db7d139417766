#include "audit/signing_key.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace plantrail::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SigningKeyTest, FirstUseCreatesAPrivateKeyOnlyItsOwnerReads) {
  plantrail::testing::TempDir dir;
  auto key = SigningKey::LoadOrCreate(dir / "signing.key", dir / "signing.pub");
  ASSERT_TRUE(key.ok()) << key.status();
  struct stat info;
  ASSERT_EQ(stat((dir / "signing.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  EXPECT_EQ(key->public_key().size(), 32u);
  EXPECT_THAT(key->key_id(), StartsWith("ed25519:"));
  EXPECT_EQ(key->key_id().size(), 8u + 16u);
  EXPECT_FALSE(std::filesystem::exists(dir / "signing.key.tmp"));
  // The public half on disk is the same key.
  auto from_pem = PublicKeyFromPem(Slurp(dir / "signing.pub"));
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  EXPECT_EQ(*from_pem, key->public_key());
}

TEST(SigningKeyTest, LaterUsesLoadTheSameKey) {
  plantrail::testing::TempDir dir;
  auto first =
      SigningKey::LoadOrCreate(dir / "signing.key", dir / "signing.pub");
  ASSERT_TRUE(first.ok());
  std::filesystem::remove(dir / "signing.pub");
  auto second =
      SigningKey::LoadOrCreate(dir / "signing.key", dir / "signing.pub");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->public_key(), first->public_key());
  EXPECT_EQ(second->key_id(), first->key_id());
  // A lost public half is written again.
  auto from_pem = PublicKeyFromPem(Slurp(dir / "signing.pub"));
  ASSERT_TRUE(from_pem.ok());
  EXPECT_EQ(*from_pem, first->public_key());
}

TEST(SigningKeyTest, AKeyOthersCanReadIsRefused) {
  plantrail::testing::TempDir dir;
  ASSERT_TRUE(
      SigningKey::LoadOrCreate(dir / "signing.key", dir / "signing.pub").ok());
  ASSERT_EQ(chmod((dir / "signing.key").c_str(), 0644), 0);
  auto key = SigningKey::LoadOrCreate(dir / "signing.key", dir / "signing.pub");
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(key.status().message(), HasSubstr("readable by others"));
  EXPECT_THAT(key.status().message(), HasSubstr("chmod 600"));
}

TEST(SigningKeyTest, AGarbledKeyFileIsRefusedByName) {
  plantrail::testing::TempDir dir;
  {
    std::ofstream out(dir / "signing.key");
    out << "not a key\n";
  }
  ASSERT_EQ(chmod((dir / "signing.key").c_str(), 0600), 0);
  auto key = SigningKey::LoadOrCreate(dir / "signing.key", dir / "signing.pub");
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(key.status().message(), HasSubstr("signing.key"));
  EXPECT_THAT(key.status().message(), HasSubstr("not an Ed25519 private key"));
}

TEST(SigningKeyTest, SignaturesVerifyOnlyForTheirMessageAndKey) {
  plantrail::testing::TempDir dir;
  auto key = SigningKey::LoadOrCreate(dir / "a.key", dir / "a.pub");
  auto other = SigningKey::LoadOrCreate(dir / "b.key", dir / "b.pub");
  ASSERT_TRUE(key.ok() && other.ok());
  auto signature = key->Sign("the log was at 42");
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(signature->size(), 64u);
  EXPECT_TRUE(
      VerifySignature(key->public_key(), "the log was at 42", *signature).ok());
  EXPECT_FALSE(
      VerifySignature(key->public_key(), "the log was at 43", *signature).ok());
  EXPECT_FALSE(
      VerifySignature(other->public_key(), "the log was at 42", *signature)
          .ok());
  std::string flipped = *signature;
  flipped[10] ^= 0x01;
  const absl::Status bad =
      VerifySignature(key->public_key(), "the log was at 42", flipped);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("signature"));
  EXPECT_THAT(VerifySignature("short", "m", *signature).message(),
              HasSubstr("32 bytes"));
}

TEST(SigningKeyTest, PublicKeyFromPemRefusesWhatIsNotAKey) {
  EXPECT_EQ(PublicKeyFromPem("hello").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plantrail::audit
