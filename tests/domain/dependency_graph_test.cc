// The dependency graph's algorithms: small graphs checked by hand, dense
// graphs of hundreds of areas (which had made an all-simple-paths search
// run for ever) answered in full, and budgets that run out or say stop.
#include "domain/dependency_graph.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr uint64_t kPlenty = 10'000'000;

std::vector<uint32_t> Nodes(const std::vector<Reached>& reached) {
  std::vector<uint32_t> nodes;
  for (const Reached& r : reached) nodes.push_back(r.node);
  return nodes;
}

// 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 4, 4 -> 3, 5 alone.
Digraph Small() {
  Digraph graph(6);
  graph.AddEdge(0, 1);
  graph.AddEdge(1, 2);
  graph.AddEdge(2, 0);
  graph.AddEdge(2, 3);
  graph.AddEdge(3, 4);
  graph.AddEdge(4, 3);
  return graph;
}

TEST(DependencyGraphTest, ComponentsOfASmallGraph) {
  WorkBudget budget(kPlenty);
  const Components components = StronglyConnectedComponents(Small(), budget);
  EXPECT_FALSE(budget.exhausted());
  // Reverse topological order: {3, 4} before {0, 1, 2}, which depends on it.
  EXPECT_THAT(
      components.members,
      ElementsAre(ElementsAre(3, 4), ElementsAre(0, 1, 2), ElementsAre(5)));
  EXPECT_EQ(components.component[1], 1u);
  EXPECT_EQ(components.component[5], 2u);

  // From one root: only what it reaches.
  WorkBudget from_three(kPlenty);
  const Components reached =
      StronglyConnectedComponents(Small(), from_three, {3});
  EXPECT_THAT(reached.members, ElementsAre(ElementsAre(3, 4)));
  EXPECT_FALSE(reached.component[0].has_value());
}

TEST(DependencyGraphTest, BreadthFirstWithDepthsAndAFilter) {
  const Digraph graph = Small();
  WorkBudget budget(kPlenty);
  const std::vector<Reached> reached = BreadthFirst(graph, 0, budget);
  EXPECT_THAT(Nodes(reached), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_EQ(reached[3].depth, 3u);
  WorkBudget reverse_budget(kPlenty);
  EXPECT_THAT(Nodes(BreadthFirst(graph.Reversed(), 3, reverse_budget)),
              ElementsAre(3, 2, 4, 1, 0));
  WorkBudget filtered(kPlenty);
  EXPECT_THAT(Nodes(BreadthFirst(graph, 0, filtered,
                                 [](uint32_t from, const Digraph::Edge&) {
                                   return from != 2;
                                 })),
              ElementsAre(0, 1, 2));
}

TEST(DependencyGraphTest, ShortestCycleAlongAnEdge) {
  Digraph graph(4);
  graph.AddEdge(0, 1);
  graph.AddEdge(0, 3);
  graph.AddEdge(1, 2);
  graph.AddEdge(2, 0);
  graph.AddEdge(3, 0);
  graph.AddEdge(1, 3);
  auto anywhere = [](uint32_t) { return true; };
  WorkBudget budget(kPlenty);
  EXPECT_THAT(ShortestCycle(graph, 0, graph.EdgesOf(0)[0], anywhere, budget),
              ElementsAre(0, 1, 2, 0));
  EXPECT_THAT(ShortestCycle(graph, 0, graph.EdgesOf(0)[1], anywhere, budget),
              ElementsAre(0, 3, 0));
  // Not through 2: the way round is 0 -> 1 -> 3 -> 0.
  EXPECT_THAT(ShortestCycle(
                  graph, 0, graph.EdgesOf(0)[0],
                  [](uint32_t n) { return n != 2; }, budget),
              ElementsAre(0, 1, 3, 0));
  // No way back from a node outside.
  Digraph line(3);
  line.AddEdge(0, 1);
  line.AddEdge(1, 2);
  EXPECT_THAT(ShortestCycle(line, 0, line.EdgesOf(0)[0], anywhere, budget),
              IsEmpty());
}

// 300 areas, each depending on the next 20, round the ring: one component
// of all 300, more simple cycles than could ever be listed, and every
// answer in full at once.
TEST(DependencyGraphTest, DenseRingOfThreeHundredAreas) {
  constexpr uint32_t kAreas = 300;
  constexpr uint32_t kDegree = 20;
  Digraph graph(kAreas);
  for (uint32_t i = 0; i < kAreas; ++i) {
    for (uint32_t step = 1; step <= kDegree; ++step) {
      graph.AddEdge(i, (i + step) % kAreas, step);
    }
  }
  WorkBudget budget(kPlenty);
  const Components components = StronglyConnectedComponents(graph, budget);
  ASSERT_THAT(components.members, SizeIs(1));
  EXPECT_THAT(components.members[0], SizeIs(kAreas));

  const std::vector<Reached> upstream = BreadthFirst(graph, 0, budget);
  EXPECT_THAT(upstream, SizeIs(kAreas));
  EXPECT_EQ(upstream.back().depth, 15u);  // 299 = 14 * 20 + 19
  const std::vector<Reached> downstream =
      BreadthFirst(graph.Reversed(), 0, budget);
  EXPECT_THAT(downstream, SizeIs(kAreas));

  // Along each dependency, the shortest way back to 0.
  auto inside = [&](uint32_t n) { return components.component[n] == 0u; };
  for (const Digraph::Edge& edge : graph.EdgesOf(0)) {
    const std::vector<uint32_t> cycle =
        ShortestCycle(graph, 0, edge, inside, budget);
    ASSERT_GE(cycle.size(), 3u);
    EXPECT_EQ(cycle.front(), 0u);
    EXPECT_EQ(cycle.back(), 0u);
    EXPECT_EQ(cycle[1], edge.to);
    for (size_t i = 0; i + 1 < cycle.size(); ++i) {
      const auto& edges = graph.EdgesOf(cycle[i]);
      EXPECT_TRUE(std::any_of(
          edges.begin(), edges.end(),
          [&](const Digraph::Edge& e) { return e.to == cycle[i + 1]; }));
    }
    // 300 / 20 steps round, one more at most for the first step's offset.
    EXPECT_LE(cycle.size(), 17u);
  }
  EXPECT_FALSE(budget.exhausted());
  // Linear work: far below anything a path enumeration would need.
  EXPECT_LT(budget.spent(), 200'000u);
}

// 51 areas, each depending on every other (50 each, the most an area may
// have): a complete graph.
TEST(DependencyGraphTest, CompleteGraphAtTheDependencyLimit) {
  constexpr uint32_t kAreas = kMaxDependenciesPerArea + 1;
  Digraph graph(kAreas + 1);
  // And one more area that depends on the clique, with no way back to it.
  graph.AddEdge(kAreas, 0);
  for (uint32_t i = 0; i < kAreas; ++i) {
    for (uint32_t j = 0; j < kAreas; ++j) {
      if (i != j) graph.AddEdge(i, j);
    }
  }
  WorkBudget budget(kPlenty);
  const Components components =
      StronglyConnectedComponents(graph, budget, {kAreas});
  ASSERT_THAT(components.members, SizeIs(2));
  EXPECT_THAT(components.members[0], SizeIs(kAreas));
  EXPECT_THAT(components.members[1], ElementsAre(kAreas));
  EXPECT_THAT(BreadthFirst(graph, kAreas, budget), SizeIs(kAreas + 1));
  EXPECT_FALSE(budget.exhausted());
}

TEST(DependencyGraphTest, ABudgetThatRunsOutCutsTheAnswerShort) {
  Digraph graph(1000);
  for (uint32_t i = 0; i + 1 < 1000; ++i) graph.AddEdge(i, i + 1);
  WorkBudget budget(100);
  const std::vector<Reached> reached = BreadthFirst(graph, 0, budget);
  EXPECT_TRUE(budget.exhausted());
  EXPECT_GT(reached.size(), 10u);
  EXPECT_LT(reached.size(), 100u);
  // A spent budget stops every later traversal at once.
  EXPECT_THAT(BreadthFirst(graph, 0, budget), IsEmpty());

  // Tarjan keeps only the components it finished, each of them whole.
  WorkBudget short_budget(500);
  const Components components =
      StronglyConnectedComponents(graph.Reversed(), short_budget);
  EXPECT_TRUE(short_budget.exhausted());
  EXPECT_GT(components.members.size(), 100u);
  EXPECT_LT(components.members.size(), 1000u);
  for (const auto& members : components.members) {
    EXPECT_THAT(members, SizeIs(1));
  }
}

TEST(DependencyGraphTest, TheOwnerCanSayStop) {
  Digraph graph(10'000);
  for (uint32_t i = 0; i + 1 < 10'000; ++i) graph.AddEdge(i, i + 1);
  int asked = 0;
  WorkBudget budget(kPlenty, [&asked]() {
    return ++asked < 3 ? absl::OkStatus()
                       : absl::DeadlineExceededError("too late");
  });
  const std::vector<Reached> reached = BreadthFirst(graph, 0, budget);
  EXPECT_TRUE(budget.exhausted());
  EXPECT_EQ(budget.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(asked, 3);
  EXPECT_LT(reached.size(), 10'000u);
}

}  // namespace
}  // namespace plantrail::domain
