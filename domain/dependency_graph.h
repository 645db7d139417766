// The dependency graph of a plan, as plain indices: node i is an area and
// its edges are the areas it depends on, in the order they were added. The
// algorithms every dependency query needs, each with a bounded amount of
// work, so that no graph a caller can build makes a query run for long:
//  - strongly connected components (Tarjan's algorithm, iterative: no
//    recursion, whatever the depth of the graph);
//  - the nodes reachable from one node, breadth first, along every edge or
//    only along the edges a filter accepts (upstream, downstream on the
//    reversed graph, and what a slip would delay);
//  - one shortest cycle through a node, starting along a given edge.
// Every traversal spends steps from a WorkBudget, one per node and one per
// edge it looks at. When the budget runs out, the traversal stops where it
// is and returns what it found so far; the budget says it ran out, and the
// caller must say the answer is truncated. The budget can also ask its
// owner whether to go on at all (a call's deadline or cancellation), at
// intervals of steps, so that nothing here reads a clock.
//
// Thread safety: Digraph is a value type, thread-compatible (const access
// from many threads is safe once built). A WorkBudget is for one thread.
// The functions are pure apart from the budget they spend.
#ifndef PLANTRAIL_DOMAIN_DEPENDENCY_GRAPH_H_
#define PLANTRAIL_DOMAIN_DEPENDENCY_GRAPH_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/status.h"

namespace plantrail::domain {

// The most dependencies (on areas and external ones together) one area may
// have. AddDependency refuses more; an area stored with more by an older
// version still folds and is read as it is.
inline constexpr size_t kMaxDependenciesPerArea = 50;

// Steps a traversal may take, and whether to go on at all.
class WorkBudget {
 public:
  // `steps`: how many nodes and edges may be looked at, in all traversals
  // that share this budget. `keep_going`, when set, is asked every
  // kCheckInterval steps; a non-OK answer stops every traversal at once and
  // is kept as status().
  explicit WorkBudget(uint64_t steps,
                      std::function<absl::Status()> keep_going = nullptr);

  // Takes one step. False when none is left or the owner said stop: the
  // caller must stop there.
  bool Spend();

  // Whether a traversal was cut short (for lack of steps or told to stop).
  bool exhausted() const { return exhausted_; }
  // OK, or what keep_going answered when it said stop.
  const absl::Status& status() const { return status_; }
  uint64_t spent() const { return spent_; }

  static constexpr uint64_t kCheckInterval = 1024;

 private:
  const uint64_t steps_;
  const std::function<absl::Status()> keep_going_;
  uint64_t spent_ = 0;
  bool exhausted_ = false;
  absl::Status status_;
};

class Digraph {
 public:
  struct Edge {
    uint32_t to;
    // Whatever the builder wants to find the edge by again (an index into
    // the area's dependencies); EdgeFilters may look at it.
    uint32_t tag;
  };

  explicit Digraph(size_t nodes) : edges_(nodes) {}

  size_t size() const { return edges_.size(); }
  // Both ends must be below size().
  void AddEdge(uint32_t from, uint32_t to, uint32_t tag = 0);
  const std::vector<Edge>& EdgesOf(uint32_t node) const { return edges_[node]; }
  // The same nodes with every edge turned round; tags are kept. Edges into
  // a node keep the order of their sources (by node index, then by order
  // within the source).
  Digraph Reversed() const;

 private:
  std::vector<std::vector<Edge>> edges_;
};

using EdgeFilter =
    std::function<bool(uint32_t from, const Digraph::Edge& edge)>;

struct Reached {
  uint32_t node;
  // Edges from the start along the shortest way found: 0 for the start.
  uint32_t depth;
};

// Every node reachable from `start` along edges `follow` accepts (all when
// it is empty), once each, breadth first, the start first. Edges are taken
// in their order, so the answer is deterministic.
std::vector<Reached> BreadthFirst(const Digraph& graph, uint32_t start,
                                  WorkBudget& budget,
                                  const EdgeFilter& follow = nullptr);

struct Components {
  // component[node]: the index of its component in `members`; nullopt for a
  // node the search did not reach (outside the roots' reach, or the budget
  // ran out).
  std::vector<std::optional<uint32_t>> component;
  // Each component's nodes, ascending. Components come in reverse
  // topological order: a component only depends on components before it.
  std::vector<std::vector<uint32_t>> members;
};

// Tarjan's strongly connected components of the nodes reachable from
// `roots` (every node when empty). Iterative, with an explicit stack. When
// the budget runs out, the components completed so far are returned (each
// of those is whole), the rest left out.
Components StronglyConnectedComponents(const Digraph& graph, WorkBudget& budget,
                                       const std::vector<uint32_t>& roots = {});

// A shortest cycle through `node` whose first edge is `first` (an edge of
// `node`), staying inside the nodes `inside` accepts (its component, say):
// the nodes in order, `node` first and again last. Empty when there is none
// or the budget ran out.
std::vector<uint32_t> ShortestCycle(const Digraph& graph, uint32_t node,
                                    const Digraph::Edge& first,
                                    const std::function<bool(uint32_t)>& inside,
                                    WorkBudget& budget);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_DEPENDENCY_GRAPH_H_
