// The etcd client against a real etcd (tests/etcd_process.h: one for the
// suite, each test on keys of its own): leases granted, kept alive, expiring
// with their keys; create-if-absent electing exactly one holder, also among
// concurrent campaigns; delete-if-ours; endpoint lists with dead endpoints;
// and the endpoint list's syntax.
#include "election/etcd_client.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/etcd_process.h"
#include "tests/temp_dir.h"

namespace plantrail::election {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseEtcdEndpointsTest, SplitsHostPortLists) {
  absl::StatusOr<std::vector<EtcdEndpoint>> one =
      ParseEtcdEndpoints("127.0.0.1:2379", "election");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, (std::vector<EtcdEndpoint>{{"127.0.0.1", 2379}}));

  absl::StatusOr<std::vector<EtcdEndpoint>> three = ParseEtcdEndpoints(
      "etcd-1.example:2379,[::1]:22379,10.0.0.3:65535", "election");
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(*three, (std::vector<EtcdEndpoint>{{"etcd-1.example", 2379},
                                               {"::1", 22379},
                                               {"10.0.0.3", 65535}}));
  EXPECT_EQ((*three)[1].ToString(), "[::1]:22379");
  EXPECT_EQ((*three)[2].ToString(), "10.0.0.3:65535");
}

TEST(ParseEtcdEndpointsTest, RejectsMalformedListsNamingTheFlagAndTheRule) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "must not be empty"},
      {"127.0.0.1", "must be HOST:PORT"},
      {"http://127.0.0.1:2379", "without a scheme"},
      {"127.0.0.1:0", "the port must be a number from 1 to 65535"},
      {"127.0.0.1:65536", "the port must be a number from 1 to 65535"},
      {"127.0.0.1:23x9", "the port must be a number from 1 to 65535"},
      {"127.0.0.1:", "the port must be a number from 1 to 65535"},
      {"127.0.0.1:2379,", "an empty endpoint"},
      {",127.0.0.1:2379", "an empty endpoint"},
      {"a:1,,b:2", "an empty endpoint"},
      {"a:1, b:2", "the host must be a host name or an IPv4 address"},
      {":2379", "the host must be a host name or an IPv4 address"},
      {"::1:2379", "an IPv6 host must be in brackets"},
      {"[::1:2379", "needs its ']'"},
      {"[etcd]:2379", "must be an IPv6 address"},
      {"[::1]2379", "must be HOST:PORT, as in [::1]:2379"},
      {"a:1,b:2,a:1", "a:1 is listed twice"},
  };
  for (const auto& [list, rule] : cases) {
    absl::StatusOr<std::vector<EtcdEndpoint>> parsed =
        ParseEtcdEndpoints(list, "election");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << list;
    EXPECT_THAT(std::string(parsed.status().message()),
                AllOf(StartsWith("election: "), HasSubstr(rule)))
        << list;
  }
}

class EtcdClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    etcd_ = new testing::EtcdProcess();
    if (!etcd_->Start(dir_->path())) {
      delete etcd_;
      etcd_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(etcd_, nullptr) << "etcd did not start (the failure above "
                                 "says why)";
    absl::StatusOr<std::vector<EtcdEndpoint>> endpoints =
        ParseEtcdEndpoints(etcd_->endpoint(), "election");
    ASSERT_TRUE(endpoints.ok()) << endpoints.status();
    client_ = std::make_unique<EtcdClient>(*endpoints, absl::Seconds(2));
  }

  // A port nothing listens on (bound a moment ago, closed).
  static EtcdEndpoint DeadEndpoint() {
    return {"127.0.0.1", testing::EtcdProcess::FreePorts().first};
  }

  static testing::TempDir* dir_;
  static testing::EtcdProcess* etcd_;
  std::unique_ptr<EtcdClient> client_;
};

testing::TempDir* EtcdClientTest::dir_ = nullptr;
testing::EtcdProcess* EtcdClientTest::etcd_ = nullptr;

TEST_F(EtcdClientTest, AGrantedLeaseIsKeptAliveWithItsTtlUntilRevoked) {
  absl::StatusOr<int64_t> lease = client_->GrantLease(absl::Seconds(5));
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_GT(*lease, 0);
  absl::StatusOr<absl::Duration> ttl = client_->KeepAlive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(*ttl, absl::Seconds(5));

  // Rounded up to whole seconds.
  absl::StatusOr<int64_t> rounded =
      client_->GrantLease(absl::Milliseconds(2100));
  ASSERT_TRUE(rounded.ok()) << rounded.status();
  ttl = client_->KeepAlive(*rounded);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(*ttl, absl::Seconds(3));

  EXPECT_TRUE(client_->RevokeLease(*lease).ok());
  EXPECT_EQ(client_->KeepAlive(*lease).status().code(),
            absl::StatusCode::kNotFound);
  // Gone already: still OK.
  EXPECT_TRUE(client_->RevokeLease(*lease).ok());
  // A lease etcd never granted answers alike.
  EXPECT_THAT(
      client_->KeepAlive(12345).status(),
      ::testing::Property(&absl::Status::code, absl::StatusCode::kNotFound));
  EXPECT_TRUE(client_->RevokeLease(*rounded).ok());
}

TEST_F(EtcdClientTest, ALeaseNotKeptAliveExpiresAndTakesItsKey) {
  const std::string key = "expiry/leader";
  absl::StatusOr<int64_t> lease = client_->GrantLease(absl::Seconds(1));
  ASSERT_TRUE(lease.ok()) << lease.status();
  const absl::Time granted = absl::Now();
  absl::StatusOr<EtcdClient::Campaign> campaign =
      client_->CreateIfAbsent(key, "node-a", *lease);
  ASSERT_TRUE(campaign.ok()) << campaign.status();
  ASSERT_TRUE(campaign->won);

  // Watched with Get, which leaves the lease alone (a KeepAlive would renew
  // it).
  std::optional<KeyValue> held = campaign->holder;
  while (held.has_value() && absl::Now() - granted < absl::Seconds(3)) {
    absl::SleepFor(absl::Milliseconds(50));
    absl::StatusOr<std::optional<KeyValue>> got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << got.status();
    held = *got;
  }
  EXPECT_FALSE(held.has_value()) << "the key outlived its 1 s lease by 2 s";
  ::testing::Test::RecordProperty(
      "expired_after_ms",
      static_cast<int>(absl::ToInt64Milliseconds(absl::Now() - granted)));
  absl::StatusOr<absl::Duration> ttl = client_->KeepAlive(*lease);
  EXPECT_EQ(ttl.status().code(), absl::StatusCode::kNotFound) << ttl.status();
  EXPECT_THAT(std::string(ttl.status().message()), HasSubstr("has expired"));

  // Nor can a key be created under it any more: etcd's own refusal.
  absl::StatusOr<EtcdClient::Campaign> late =
      client_->CreateIfAbsent(key, "node-a", *lease);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(late.status().message()),
              AllOf(HasSubstr("/v3/kv/txn"),
                    HasSubstr("etcdserver: requested lease not found")));
}

TEST_F(EtcdClientTest, TheFirstCampaignWinsAndTheSecondSeesItsHolder) {
  const std::string key = "campaign/leader";
  absl::StatusOr<int64_t> first_lease = client_->GrantLease(absl::Seconds(10));
  absl::StatusOr<int64_t> second_lease = client_->GrantLease(absl::Seconds(10));
  ASSERT_TRUE(first_lease.ok()) << first_lease.status();
  ASSERT_TRUE(second_lease.ok()) << second_lease.status();

  absl::StatusOr<EtcdClient::Campaign> first =
      client_->CreateIfAbsent(key, "node-a:50051", *first_lease);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->won);
  EXPECT_GT(first->revision, 0);
  EXPECT_EQ(first->holder.create_revision, first->revision);
  EXPECT_EQ(first->holder.key, key);
  EXPECT_EQ(first->holder.value, "node-a:50051");
  EXPECT_EQ(first->holder.lease, *first_lease);

  absl::StatusOr<EtcdClient::Campaign> second =
      client_->CreateIfAbsent(key, "node-b:50051", *second_lease);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->won);
  EXPECT_EQ(second->holder.value, "node-a:50051");
  EXPECT_EQ(second->holder.create_revision, first->holder.create_revision);
  EXPECT_EQ(second->holder.mod_revision, first->holder.create_revision);
  EXPECT_EQ(second->holder.lease, *first_lease);
  EXPECT_GE(second->revision, first->revision);

  absl::StatusOr<std::optional<KeyValue>> got = client_->Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, "node-a:50051");
  EXPECT_EQ((*got)->create_revision, first->holder.create_revision);
  EXPECT_EQ((*got)->lease, *first_lease);

  // The winner campaigning again (its first answer lost, say) learns that
  // it holds the key.
  absl::StatusOr<EtcdClient::Campaign> again =
      client_->CreateIfAbsent(key, "node-a:50051", *first_lease);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->won);
  EXPECT_EQ(again->holder.create_revision, first->holder.create_revision);

  // Keys and values are bytes.
  const std::string bytes_key("campaign/\x00\xff\n\"", 13);
  const std::string bytes_value("\x01\x00\"\\\xfe", 5);
  absl::StatusOr<EtcdClient::Campaign> binary =
      client_->CreateIfAbsent(bytes_key, bytes_value, 0);
  ASSERT_TRUE(binary.ok()) << binary.status();
  EXPECT_TRUE(binary->won);
  got = client_->Get(bytes_key);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->key, bytes_key);
  EXPECT_EQ((*got)->value, bytes_value);
  EXPECT_EQ((*got)->lease, 0);

  absl::StatusOr<std::optional<KeyValue>> absent =
      client_->Get("campaign/nobody");
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->has_value());
}

TEST_F(EtcdClientTest, DeleteIfDeletesOnlyTheHolderItWasGiven) {
  const std::string key = "resign/leader";
  absl::StatusOr<EtcdClient::Campaign> old =
      client_->CreateIfAbsent(key, "node-a", 0);
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_TRUE(old->won);
  const int64_t created = old->holder.create_revision;

  absl::StatusOr<bool> deleted = client_->DeleteIf(key, created + 1);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(*deleted);
  absl::StatusOr<std::optional<KeyValue>> got = client_->Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->has_value());

  deleted = client_->DeleteIf(key, created);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(*deleted);
  got = client_->Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());

  // A successor's key survives the old holder's late resignation.
  absl::StatusOr<EtcdClient::Campaign> successor =
      client_->CreateIfAbsent(key, "node-b", 0);
  ASSERT_TRUE(successor.ok()) << successor.status();
  ASSERT_TRUE(successor->won);
  deleted = client_->DeleteIf(key, created);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(*deleted);
  got = client_->Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, "node-b");

  // An absent key is not deleted, whatever revision is asked for.
  deleted = client_->DeleteIf("resign/nobody", 0);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(*deleted);
}

TEST_F(EtcdClientTest, ConcurrentCampaignsElectExactlyOne) {
  const std::string key = "concurrent/leader";
  constexpr int kCandidates = 8;
  std::vector<int64_t> leases;
  for (int i = 0; i < kCandidates; ++i) {
    absl::StatusOr<int64_t> lease = client_->GrantLease(absl::Seconds(10));
    ASSERT_TRUE(lease.ok()) << lease.status();
    leases.push_back(*lease);
  }
  std::vector<absl::StatusOr<EtcdClient::Campaign>> outcomes(
      kCandidates, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kCandidates; ++i) {
    threads.emplace_back([&, i] {
      outcomes[i] =
          client_->CreateIfAbsent(key, absl::StrCat("node-", i), leases[i]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  int winners = 0;
  for (int i = 0; i < kCandidates; ++i) {
    ASSERT_TRUE(outcomes[i].ok()) << outcomes[i].status();
    if (outcomes[i]->won) ++winners;
    EXPECT_EQ(outcomes[i]->holder.create_revision,
              outcomes[0]->holder.create_revision);
    EXPECT_EQ(outcomes[i]->holder.value, outcomes[0]->holder.value);
  }
  EXPECT_EQ(winners, 1);
}

TEST_F(EtcdClientTest, ADeadFirstEndpointIsPassedOver) {
  const EtcdEndpoint dead = DeadEndpoint();
  EtcdClient client({dead, {"127.0.0.1", etcd_->port()}}, absl::Seconds(2));
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<EtcdClient::Campaign> campaign =
        client.CreateIfAbsent(absl::StrCat("failover/key-", i), "v", 0);
    ASSERT_TRUE(campaign.ok()) << campaign.status();
    EXPECT_TRUE(campaign->won);
  }
  absl::StatusOr<std::optional<KeyValue>> got = client.Get("failover/key-0");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->has_value());
}

TEST_F(EtcdClientTest, NoLiveEndpointIsUnavailableNamingEveryEndpoint) {
  const EtcdEndpoint first = DeadEndpoint();
  EtcdEndpoint second = DeadEndpoint();
  if (second == first) second.port = first.port == 65535 ? 1 : first.port + 1;
  EtcdClient client({first, second}, absl::Seconds(2));
  absl::StatusOr<std::optional<KeyValue>> got = client.Get("dead/key");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable)
      << got.status();
  EXPECT_THAT(std::string(got.status().message()),
              AllOf(HasSubstr("no etcd endpoint answered /v3/kv/range"),
                    HasSubstr(first.ToString() + ": cannot connect"),
                    HasSubstr(second.ToString() + ": cannot connect")));
  EXPECT_EQ(client.GrantLease(absl::Seconds(1)).status().code(),
            absl::StatusCode::kUnavailable);

  EtcdClient none({}, absl::Seconds(1));
  EXPECT_EQ(none.Get("dead/key").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plantrail::election
