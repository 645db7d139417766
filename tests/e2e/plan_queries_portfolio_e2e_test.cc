// PlanQueries end to end: GetPortfolio and GetDependencies, and a dense
// dependency graph that the queries must walk in bounded time. Apart from
// plan_queries_e2e_test.cc (GetArea, ListAreas), one feature a file; the
// same binary and fixture (plan_queries_e2e_fixture.h).
#include <atomic>
#include <set>

#include "tests/e2e/plan_queries_e2e_fixture.h"

namespace plantrail {
namespace {

using namespace ::plantrail::plan_queries_testing;  // NOLINT: the fixture's
                                                    // vocabulary

// --- Portfolio and dependencies -------------------------------------------

TEST_F(PlanQueriesE2eTest, PortfolioAndDependenciesOverGrpc) {
  SeedPortfolio();
  v1::AddDependencyRequest depends;
  depends.set_area_id("3.4.2");
  depends.set_on_area_id("3.4.1");
  Do(depends);
  depends.set_area_id("3.4.1");
  depends.set_on_area_id("");
  depends.set_external("Ekonomisystemet");
  Do(depends);

  v1::GetPortfolioRequest portfolio_request;
  portfolio_request.set_min_position(last_position_);
  v1::GetPortfolioResponse portfolio;
  grpc::Status status =
      queries_->GetPortfolio(Context().get(), portfolio_request, &portfolio);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(portfolio.overall().areas(), 12u);
  EXPECT_EQ(portfolio.overall().open(), 10u);
  EXPECT_EQ(portfolio.overall().overdue(), 1u);  // 3.4.3, Q1 2020
  EXPECT_EQ(portfolio.overall().slipped_against_baseline(), 1u);  // 3.4.2
  EXPECT_EQ(portfolio.overall().by_health().at("HEALTH_OFF_TRACK"), 1u);
  ASSERT_EQ(portfolio.support_areas_size(), 3);
  EXPECT_EQ(portfolio.support_areas(0).support_area(), "2.1");
  EXPECT_EQ(portfolio.support_areas(1).support_area(), "3.4");
  EXPECT_EQ(portfolio.support_areas(1).areas(), 4u);
  EXPECT_EQ(portfolio.position(), last_position_);

  v1::GetDependenciesRequest graph_request;
  graph_request.set_area_id("3.4.1");
  graph_request.set_min_position(last_position_);
  v1::GetDependenciesResponse graph;
  status = queries_->GetDependencies(Context().get(), graph_request, &graph);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(graph.upstream_size(), 1);
  EXPECT_EQ(graph.upstream(0).dependency().external(), "Ekonomisystemet");
  ASSERT_EQ(graph.downstream_size(), 1);
  EXPECT_EQ(graph.downstream(0).area_id(), "3.4.2");
  EXPECT_EQ(graph.cycles_size(), 0);

  graph_request.set_area_id("9.9");
  status = queries_->GetDependencies(Context().get(), graph_request, &graph);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  graph_request.set_area_id("3.4.1");
  graph_request.set_if_end("Pilot HT 23");
  status = queries_->GetDependencies(Context().get(), graph_request, &graph);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("if_end: "));
}

// A dense graph a planner can build: 300 areas in a ring, each depending on
// the next ten, and one area depending on the ring with no way back to it.
// Walking every simple path through it would never end; the queries walk a
// bounded amount, answer in full, and leave the server healthy.
class DenseDependencyGraphE2eTest : public PlanQueriesE2eTest {
 protected:
  // Bulk writes: the fsync per command is not what this test is about.
  std::vector<std::string> ServerArgs() const override {
    return {"--durability", "none"};
  }

  static std::string RingId(int i) { return absl::StrCat("ring-", i); }

  // Sends the command `request(i)` for i in [0, count) from a few threads;
  // each must succeed.
  template <typename MakeRequest>
  void InParallel(int count, MakeRequest request) {
    constexpr int kThreads = 4;
    std::atomic<int> next{0};
    std::atomic<uint64_t> highest{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = next++; i < count; i = next++) {
          const Reply<v1::CommandResult> reply = Send(request(i));
          EXPECT_THAT(reply, Succeeded()) << i;
          uint64_t seen = highest.load();
          while (
              seen < reply.response.position() &&
              !highest.compare_exchange_weak(seen, reply.response.position())) {
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    last_position_ = std::max(last_position_, highest.load());
  }

  Reply<v1::GetDependenciesResponse> Dependencies(const std::string& area_id) {
    v1::GetDependenciesRequest request;
    request.set_area_id(area_id);
    request.set_min_position(last_position_);
    Reply<v1::GetDependenciesResponse> reply;
    reply.status =
        queries_->GetDependencies(Context().get(), request, &reply.response);
    return reply;
  }
};

TEST_F(DenseDependencyGraphE2eTest, ConcurrentQueriesAnswerAndServerStaysUp) {
  constexpr int kRing = 300;
  constexpr int kDegree = 10;
  InParallel(kRing + 1, [](int i) {
    return Register(i == kRing ? "entry" : RingId(i), "Område", "3.4", "VT24");
  });
  InParallel(kRing * kDegree + 1, [](int i) {
    v1::AddDependencyRequest depends;
    if (i == kRing * kDegree) {
      depends.set_area_id("entry");
      depends.set_on_area_id(RingId(0));
      return depends;
    }
    depends.set_area_id(RingId(i / kDegree));
    depends.set_on_area_id(RingId((i / kDegree + i % kDegree + 1) % kRing));
    return depends;
  });
  ASSERT_FALSE(HasFailure());

  // Two readers at once, on the area whose search used to run for ever.
  Reply<v1::GetDependenciesResponse> first;
  Reply<v1::GetDependenciesResponse> second;
  std::thread other([&] { second = Dependencies("entry"); });
  first = Dependencies("entry");
  other.join();
  for (const Reply<v1::GetDependenciesResponse>* reply : {&first, &second}) {
    ASSERT_THAT(*reply, Succeeded());
    const v1::GetDependenciesResponse& graph = reply->response;
    EXPECT_FALSE(graph.truncated());
    // entry -> ring-0, then every ring area's ten dependencies.
    EXPECT_EQ(graph.upstream_size(), 1 + kRing * kDegree);
    EXPECT_EQ(graph.downstream_size(), 0);
    EXPECT_EQ(graph.cycles_size(), 0);
    EXPECT_THAT(graph.cycle_area_ids(), IsEmpty());
  }

  // Inside the ring: every ring area is on a cycle through ring-0, and each
  // of its ten dependencies leads back by a shortest way round.
  const Reply<v1::GetDependenciesResponse> ring = Dependencies(RingId(0));
  ASSERT_THAT(ring, Succeeded());
  EXPECT_FALSE(ring.response.truncated());
  EXPECT_EQ(ring.response.cycle_area_ids_size(), kRing);
  EXPECT_THAT(ring.response.cycle_area_ids(),
              Not(::testing::Contains("entry")));
  ASSERT_EQ(ring.response.cycles_size(), kDegree);
  for (const v1::DependencyCycle& cycle : ring.response.cycles()) {
    ASSERT_GE(cycle.area_ids_size(), 3);
    EXPECT_EQ(cycle.area_ids(0), RingId(0));
    EXPECT_EQ(cycle.area_ids(cycle.area_ids_size() - 1), RingId(0));
    EXPECT_LE(cycle.area_ids_size(), kRing / kDegree + 2);
  }
  // The ring's areas, and entry, depend on ring-0 (downstream), each once.
  std::set<std::string> dependents;
  for (const v1::DependencyLink& link : ring.response.downstream()) {
    dependents.insert(link.area_id());
  }
  EXPECT_EQ(dependents.size(), static_cast<size_t>(kRing + 1));

  // Still healthy.
  std::string health;
  const grpc::Status status = plantrail::testing::RawUnary(
      channel_, Context().get(), "/grpc.health.v1.Health/Check", "", &health);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(health, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace plantrail
