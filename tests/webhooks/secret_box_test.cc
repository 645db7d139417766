// Sealed secrets: they open with the key and context they were sealed
// with, and with nothing else.
#include "webhooks/secret_box.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::webhooks {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kEndpoint[] = "endpoints/0b6f3c2e";

SecretBox NewBox() {
  absl::StatusOr<std::string> key = SecretBox::GenerateKey();
  EXPECT_TRUE(key.ok()) << key.status();
  absl::StatusOr<SecretBox> box = SecretBox::FromKey(*key);
  EXPECT_TRUE(box.ok()) << box.status();
  return *std::move(box);
}

TEST(SecretBoxTest, OpensWhatItSealed) {
  const SecretBox box = NewBox();
  absl::StatusOr<std::string> sealed = box.Seal(kSecret, kEndpoint);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), SecretBox::kNonceBytes + sizeof(kSecret) - 1 +
                                SecretBox::kTagBytes);
  EXPECT_THAT(*sealed, Not(HasSubstr(kSecret)));
  absl::StatusOr<std::string> opened = box.Open(*sealed, kEndpoint);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kSecret);
}

TEST(SecretBoxTest, SealsEmptyAndBinaryValues) {
  const SecretBox box = NewBox();
  const std::string binary("\0\x01\xff secret\0", 11);
  for (const std::string& plaintext : {std::string(), binary}) {
    for (const std::string& context : {std::string(), std::string(kEndpoint)}) {
      absl::StatusOr<std::string> sealed = box.Seal(plaintext, context);
      ASSERT_TRUE(sealed.ok()) << sealed.status();
      EXPECT_EQ(box.Open(*sealed, context).value_or("failed"), plaintext);
    }
  }
}

TEST(SecretBoxTest, EachSealHasANewNonce) {
  const SecretBox box = NewBox();
  const std::string first = *box.Seal(kSecret, kEndpoint);
  const std::string second = *box.Seal(kSecret, kEndpoint);
  EXPECT_NE(first.substr(0, SecretBox::kNonceBytes),
            second.substr(0, SecretBox::kNonceBytes));
  EXPECT_NE(first, second);
  EXPECT_EQ(*box.Open(first, kEndpoint), *box.Open(second, kEndpoint));
}

TEST(SecretBoxTest, AnotherKeyDoesNotOpenIt) {
  const std::string sealed = *NewBox().Seal(kSecret, kEndpoint);
  const absl::StatusOr<std::string> opened = NewBox().Open(sealed, kEndpoint);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(opened.status().message(), Not(HasSubstr(kSecret)));
}

TEST(SecretBoxTest, AnotherContextDoesNotOpenIt) {
  const SecretBox box = NewBox();
  const std::string sealed = *box.Seal(kSecret, kEndpoint);
  EXPECT_EQ(box.Open(sealed, "endpoints/other").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(box.Open(sealed, "").status().code(), absl::StatusCode::kDataLoss);
  const std::string without_context = *box.Seal(kSecret, "");
  EXPECT_EQ(box.Open(without_context, kEndpoint).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(SecretBoxTest, AlteredBytesDoNotOpen) {
  const SecretBox box = NewBox();
  const std::string sealed = *box.Seal(kSecret, kEndpoint);
  // Every byte: the nonce, the ciphertext and the tag.
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    const absl::StatusOr<std::string> opened = box.Open(altered, kEndpoint);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_THAT(opened.status().message(), Not(HasSubstr("whsec")));
  }
  EXPECT_EQ(box.Open(sealed + "x", kEndpoint).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(SecretBoxTest, TruncatedBytesDoNotOpen) {
  const SecretBox box = NewBox();
  const std::string sealed = *box.Seal(kSecret, kEndpoint);
  for (size_t size :
       {size_t{0}, size_t{1}, SecretBox::kNonceBytes,
        SecretBox::kNonceBytes + SecretBox::kTagBytes - 1,
        SecretBox::kNonceBytes + SecretBox::kTagBytes, sealed.size() - 1}) {
    EXPECT_EQ(box.Open(sealed.substr(0, size), kEndpoint).status().code(),
              absl::StatusCode::kDataLoss)
        << size;
  }
  // Without the ciphertext, the nonce and tag of an empty value.
  const std::string empty = *box.Seal("", kEndpoint);
  EXPECT_EQ(
      box.Open(empty.substr(0, empty.size() - 1), kEndpoint).status().code(),
      absl::StatusCode::kDataLoss);
}

TEST(SecretBoxTest, KeysAreThirtyTwoBytes) {
  for (const std::string& key : {std::string(), std::string(31, 'k'),
                                 std::string(33, 'k'), std::string(16, 'k')}) {
    const absl::StatusOr<SecretBox> box = SecretBox::FromKey(key);
    EXPECT_EQ(box.status().code(), absl::StatusCode::kInvalidArgument)
        << key.size();
    if (!key.empty()) {
      EXPECT_THAT(box.status().message(), Not(HasSubstr(key)));
    }
  }
  EXPECT_TRUE(SecretBox::FromKey(std::string(32, 'k')).ok());
  const std::string key = *SecretBox::GenerateKey();
  EXPECT_EQ(key.size(), SecretBox::kKeyBytes);
  EXPECT_NE(key, *SecretBox::GenerateKey());
}

TEST(SecretBoxTest, KeyIdNamesTheKeyWithoutRevealingIt) {
  const std::string key(32, 'k');
  const SecretBox box = *SecretBox::FromKey(key);
  EXPECT_THAT(box.key_id(), MatchesRegex("[0-9a-f]{16}"));
  // Stable: the same key has the same id in every box, in every process.
  EXPECT_EQ(SecretBox::FromKey(key)->key_id(), box.key_id());
  // printf 'plantrail webhook secret key%s' "$(printf 'k%.0s' {1..32})"
  //   | sha256sum | cut -c1-16
  EXPECT_EQ(box.key_id(), "28c53620c5f8fee2");
  EXPECT_NE(SecretBox::FromKey(std::string(32, 'j'))->key_id(), box.key_id());
  EXPECT_NE(NewBox().key_id(), NewBox().key_id());
}

TEST(SecretBoxTest, CopiesAndMovesKeepTheKey) {
  const SecretBox box = NewBox();
  const std::string sealed = *box.Seal(kSecret, kEndpoint);
  SecretBox copy = box;
  EXPECT_EQ(copy.Open(sealed, kEndpoint).value_or("failed"), kSecret);
  const SecretBox moved = std::move(copy);
  EXPECT_EQ(moved.Open(sealed, kEndpoint).value_or("failed"), kSecret);
  EXPECT_EQ(moved.key_id(), box.key_id());
}

}  // namespace
}  // namespace plantrail::webhooks
