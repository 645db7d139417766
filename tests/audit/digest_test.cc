#include "audit/digest.h"

#include <functional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace plantrail::audit {
namespace {

using ::testing::HasSubstr;

class DigestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = SigningKey::LoadOrCreate(dir_ / "k", dir_ / "k.pub");
    ASSERT_TRUE(key.ok()) << key.status();
    key_.emplace(*std::move(key));
    hash_.fill(0xab);
  }

  v1::Digest Signed() {
    auto digest = SignDigest(*key_, 42, hash_, 50,
                             absl::FromUnixMicros(1'764'000'000'123'456));
    EXPECT_TRUE(digest.ok()) << digest.status();
    return *digest;
  }

  plantrail::testing::TempDir dir_;
  std::optional<SigningKey> key_;
  eventstore::Hash hash_;
};

TEST_F(DigestTest, TheSignedTextIsShortAndExact) {
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  EXPECT_EQ(SignedText(Signed()),
            "plantrail-digest-v1\n"
            "position: 42\n"
            "head_hash: " +
                hex +
                "\n"
                "log_head: 50\n"
                "signed_at: 2025-11-24T16:00:00.123456Z\n"
                "key_id: " +
                key_->key_id() + "\n");
}

TEST_F(DigestTest, ASignedDigestChecksOut) {
  EXPECT_TRUE(CheckDigest(Signed()).ok());
}

TEST_F(DigestTest, AnyChangedFieldBreaksTheSignature) {
  const std::vector<std::pair<std::string, std::function<void(v1::Digest&)>>>
      changes = {
          {"position", [](v1::Digest& d) { d.set_position(41); }},
          {"log_head", [](v1::Digest& d) { d.set_log_head(51); }},
          {"head_hash",
           [](v1::Digest& d) { d.mutable_head_hash()->at(0) ^= 0x01; }},
          {"signed_at",
           [](v1::Digest& d) {
             d.mutable_signed_at()->set_seconds(d.signed_at().seconds() + 1);
           }},
          {"signature",
           [](v1::Digest& d) { d.mutable_signature()->at(5) ^= 0x01; }},
      };
  for (const auto& [name, change] : changes) {
    SCOPED_TRACE(name);
    v1::Digest digest = Signed();
    change(digest);
    const absl::Status checked = CheckDigest(digest);
    EXPECT_EQ(checked.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(checked.message(), HasSubstr("signature"));
  }
}

TEST_F(DigestTest, AForeignKeyCannotPassForTheIdsKey) {
  auto other = SigningKey::LoadOrCreate(dir_ / "o", dir_ / "o.pub");
  ASSERT_TRUE(other.ok());
  v1::Digest digest = Signed();
  digest.set_public_key(other->public_key());
  EXPECT_THAT(CheckDigest(digest).message(), HasSubstr("key_id"));
  // Re-signed by the other key under the first key's id: still caught.
  auto forged = SignDigest(*other, 42, hash_, 42, absl::Now());
  ASSERT_TRUE(forged.ok());
  forged->set_key_id(key_->key_id());
  EXPECT_FALSE(CheckDigest(*forged).ok());
}

TEST_F(DigestTest, JsonRoundTripsAndStillVerifies) {
  const v1::Digest digest = Signed();
  const nlohmann::ordered_json json = DigestToJson(digest);
  EXPECT_EQ(json["format"], "plantrail-digest-v1");
  EXPECT_EQ(json["signed_at"], "2025-11-24T16:00:00.123456Z");
  auto back = DigestFromJson(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), digest.SerializeAsString());
  EXPECT_TRUE(CheckDigest(*back).ok());
}

TEST_F(DigestTest, MalformedJsonNamesTheField) {
  const nlohmann::json good = DigestToJson(Signed());
  const std::vector<
      std::pair<std::string, std::function<void(nlohmann::json&)>>>
      breaks = {
          {"format", [](nlohmann::json& j) { j["format"] = "other"; }},
          {"position", [](nlohmann::json& j) { j["position"] = "42"; }},
          {"log_head", [](nlohmann::json& j) { j.erase("log_head"); }},
          {"head_hash", [](nlohmann::json& j) { j["head_hash"] = "abc"; }},
          {"signed_at",
           [](nlohmann::json& j) { j["signed_at"] = "yesterday"; }},
          {"key_id", [](nlohmann::json& j) { j.erase("key_id"); }},
          {"public_key", [](nlohmann::json& j) { j["public_key"] = "XYZ"; }},
          {"signature", [](nlohmann::json& j) { j.erase("signature"); }},
      };
  for (const auto& [field, change] : breaks) {
    SCOPED_TRACE(field);
    nlohmann::json json = good;
    change(json);
    auto digest = DigestFromJson(json);
    EXPECT_EQ(digest.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(digest.status().message(), HasSubstr(field));
  }
}

}  // namespace
}  // namespace plantrail::audit
