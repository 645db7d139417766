// Standard Webhooks signatures: the specification's own example, rotation
// with two signatures, and what a receiver refuses.
#include "webhooks/signature.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::webhooks {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The example of the Standard Webhooks specification (and of its reference
// libraries' tests).
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr char kBody[] = R"({"test": 2432232314})";
constexpr char kSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(SignatureTest, SignsAsTheSpecificationsExample) {
  absl::StatusOr<std::string> key = SecretKey("secret", kSecret);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(Sign(*key, kId, kTimestamp, kBody), kSignature);
  EXPECT_TRUE(
      Verify(*key, kId, kTimestamp, kBody, kSignature, kTimestamp).ok());
}

TEST(SignatureTest, DuringARotationBothSecretsSign) {
  const std::string old_key = *SecretKey("secret", kSecret);
  absl::StatusOr<std::string> fresh = GenerateSecret();
  ASSERT_TRUE(fresh.ok());
  const std::string new_key = *SecretKey("secret", *fresh);
  const std::string header =
      SignatureHeader({new_key, old_key}, kId, kTimestamp, kBody);
  EXPECT_THAT(header, HasSubstr(std::string(" ") + kSignature));
  // A receiver that knows either secret accepts the request.
  EXPECT_TRUE(Verify(old_key, kId, kTimestamp, kBody, header, kTimestamp).ok());
  EXPECT_TRUE(Verify(new_key, kId, kTimestamp, kBody, header, kTimestamp).ok());
  // After the rotation only the new one signs.
  const std::string after = SignatureHeader({new_key}, kId, kTimestamp, kBody);
  EXPECT_FALSE(Verify(old_key, kId, kTimestamp, kBody, after, kTimestamp).ok());
}

TEST(SignatureTest, AReceiverRefusesChangesAndOldRequests) {
  const std::string key = *SecretKey("secret", kSecret);
  EXPECT_EQ(Verify(key, kId, kTimestamp, R"({"test": 2432232315})", kSignature,
                   kTimestamp)
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(
      Verify(key, "msg_other", kTimestamp, kBody, kSignature, kTimestamp).ok());
  EXPECT_FALSE(
      Verify(key, kId, kTimestamp + 1, kBody, kSignature, kTimestamp).ok());
  const absl::Status old =
      Verify(key, kId, kTimestamp, kBody, kSignature, kTimestamp + 301);
  EXPECT_EQ(old.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(old.message(), HasSubstr("webhook-timestamp"));
}

TEST(SignatureTest, SecretsAreFreshAndWellFormed) {
  absl::StatusOr<std::string> a = GenerateSecret();
  absl::StatusOr<std::string> b = GenerateSecret();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_THAT(*a, StartsWith("whsec_"));
  EXPECT_EQ(SecretKey("secret", *a)->size(), 32u);
  for (const char* bad : {"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_",
                          "whsec_!!!", "whsec_c2hvcnQ="}) {
    const absl::StatusOr<std::string> key = SecretKey("secret", bad);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(key.status().message(), HasSubstr("[rule: webhook-secret]"));
  }
}

}  // namespace
}  // namespace plantrail::webhooks
