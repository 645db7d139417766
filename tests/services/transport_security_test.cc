// Plaintext stays on loopback unless the operator says otherwise.
#include "services/transport_security.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::services {
namespace {

using ::testing::HasSubstr;

TEST(TransportSecurityTest, LoopbackIsLoopbackAndNothingElseIs) {
  for (const char* listen :
       {"127.0.0.1:50051", "127.1.2.3:0", "localhost:50051", "[::1]:50051",
        "[::ffff:127.0.0.1]:1"}) {
    EXPECT_TRUE(IsLoopback(listen)) << listen;
  }
  for (const char* listen :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:50051",
        "127.a.b.c:50051", "127.example.org:1", "127.0.0.1.example:1", "127:1",
        "[::ffff:10.0.0.1]:1", "plan.example.org:443", "128.0.0.1:1",
        "127.0.0:1"}) {
    EXPECT_FALSE(IsLoopback(listen)) << listen;
  }
}

TEST(TransportSecurityTest, PlaintextOffLoopbackNeedsTheInsecureFlag) {
  const absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> refused =
      ServerCredentialsFor({}, "0.0.0.0:50051");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("--insecure-plaintext"));
  EXPECT_TRUE(
      ServerCredentialsFor({.insecure_plaintext = true}, "0.0.0.0:50051").ok());
  EXPECT_TRUE(ServerCredentialsFor({}, "127.0.0.1:50051").ok());
}

TEST(TransportSecurityTest, IncompleteTlsSettingsNameTheFlag) {
  EXPECT_THAT(ServerCredentialsFor({.cert_file = "c.pem"}, "127.0.0.1:1")
                  .status()
                  .message(),
              HasSubstr("--tls-cert and --tls-key: give both"));
  EXPECT_THAT(ServerCredentialsFor({.client_ca_file = "ca.pem"}, "127.0.0.1:1")
                  .status()
                  .message(),
              HasSubstr("--tls-client-ca: mutual TLS needs"));
  EXPECT_THAT(ServerCredentialsFor(
                  {.cert_file = "/nonexistent.pem", .key_file = "/k.pem"},
                  "127.0.0.1:1")
                  .status()
                  .message(),
              HasSubstr("--tls-cert: cannot read a PEM file"));
}

}  // namespace
}  // namespace plantrail::services
