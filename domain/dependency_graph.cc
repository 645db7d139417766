#include "domain/dependency_graph.h"

#include <algorithm>
#include <utility>

namespace plantrail::domain {

WorkBudget::WorkBudget(uint64_t steps, std::function<absl::Status()> keep_going)
    : steps_(steps), keep_going_(std::move(keep_going)) {}

bool WorkBudget::Spend() {
  if (exhausted_) return false;
  if (spent_ >= steps_) {
    exhausted_ = true;
    return false;
  }
  ++spent_;
  if (keep_going_ != nullptr && spent_ % kCheckInterval == 0) {
    status_ = keep_going_();
    if (!status_.ok()) {
      exhausted_ = true;
      return false;
    }
  }
  return true;
}

void Digraph::AddEdge(uint32_t from, uint32_t to, uint32_t tag) {
  edges_[from].push_back({.to = to, .tag = tag});
}

Digraph Digraph::Reversed() const {
  Digraph reversed(size());
  for (uint32_t from = 0; from < size(); ++from) {
    for (const Edge& edge : edges_[from]) {
      reversed.AddEdge(edge.to, from, edge.tag);
    }
  }
  return reversed;
}

std::vector<Reached> BreadthFirst(const Digraph& graph, uint32_t start,
                                  WorkBudget& budget,
                                  const EdgeFilter& follow) {
  std::vector<Reached> reached;
  if (!budget.Spend()) return reached;
  std::vector<bool> seen(graph.size());
  seen[start] = true;
  reached.push_back({.node = start, .depth = 0});
  // `reached` is the queue as well: nodes are appended in the order found.
  for (size_t i = 0; i < reached.size(); ++i) {
    const Reached from = reached[i];
    for (const Digraph::Edge& edge : graph.EdgesOf(from.node)) {
      if (!budget.Spend()) return reached;
      if (seen[edge.to] || (follow != nullptr && !follow(from.node, edge))) {
        continue;
      }
      if (!budget.Spend()) return reached;
      seen[edge.to] = true;
      reached.push_back({.node = edge.to, .depth = from.depth + 1});
    }
  }
  return reached;
}

Components StronglyConnectedComponents(const Digraph& graph, WorkBudget& budget,
                                       const std::vector<uint32_t>& roots) {
  constexpr uint32_t kUnvisited = ~uint32_t{0};
  Components result;
  result.component.resize(graph.size());
  std::vector<uint32_t> index(graph.size(), kUnvisited);
  std::vector<uint32_t> low(graph.size(), 0);
  std::vector<bool> on_stack(graph.size());
  std::vector<uint32_t> stack;  // Tarjan's stack of open nodes
  struct Frame {
    uint32_t node;
    size_t next_edge;
  };
  std::vector<Frame> calls;  // in place of the recursion
  uint32_t next_index = 0;

  auto visit = [&](uint32_t node) {
    index[node] = low[node] = next_index++;
    stack.push_back(node);
    on_stack[node] = true;
    calls.push_back({.node = node, .next_edge = 0});
  };

  std::vector<uint32_t> all;
  const std::vector<uint32_t>* starts = &roots;
  if (roots.empty()) {
    all.resize(graph.size());
    for (uint32_t node = 0; node < graph.size(); ++node) all[node] = node;
    starts = &all;
  }
  for (uint32_t root : *starts) {
    if (index[root] != kUnvisited) continue;
    if (!budget.Spend()) return result;
    visit(root);
    while (!calls.empty()) {
      Frame& frame = calls.back();
      const std::vector<Digraph::Edge>& edges = graph.EdgesOf(frame.node);
      if (frame.next_edge < edges.size()) {
        const uint32_t to = edges[frame.next_edge++].to;
        if (!budget.Spend()) return result;
        if (index[to] == kUnvisited) {
          if (!budget.Spend()) return result;
          visit(to);  // invalidates `frame`
        } else if (on_stack[to]) {
          low[frame.node] = std::min(low[frame.node], index[to]);
        }
        continue;
      }
      const uint32_t node = frame.node;
      calls.pop_back();
      if (!calls.empty()) {
        low[calls.back().node] = std::min(low[calls.back().node], low[node]);
      }
      if (low[node] != index[node]) continue;
      // `node` is the root of a component: everything above it on the stack.
      std::vector<uint32_t> members;
      uint32_t member;
      do {
        member = stack.back();
        stack.pop_back();
        on_stack[member] = false;
        result.component[member] = static_cast<uint32_t>(result.members.size());
        members.push_back(member);
      } while (member != node);
      std::sort(members.begin(), members.end());
      result.members.push_back(std::move(members));
    }
  }
  return result;
}

std::vector<uint32_t> ShortestCycle(const Digraph& graph, uint32_t node,
                                    const Digraph::Edge& first,
                                    const std::function<bool(uint32_t)>& inside,
                                    WorkBudget& budget) {
  if (first.to == node) return {node, node};
  if (!inside(first.to) || !budget.Spend()) return {};
  constexpr uint32_t kNone = ~uint32_t{0};
  // parent[n]: the node n was first reached from; the start is its own.
  std::vector<uint32_t> parent(graph.size(), kNone);
  parent[first.to] = first.to;
  std::vector<uint32_t> queue = {first.to};
  for (size_t i = 0; i < queue.size(); ++i) {
    const uint32_t from = queue[i];
    for (const Digraph::Edge& edge : graph.EdgesOf(from)) {
      if (!budget.Spend()) return {};
      if (edge.to == node) {
        std::vector<uint32_t> cycle = {node};
        for (uint32_t at = from; at != first.to; at = parent[at]) {
          cycle.push_back(at);
        }
        cycle.push_back(first.to);
        std::reverse(cycle.begin() + 1, cycle.end());
        cycle.push_back(node);
        return cycle;
      }
      if (parent[edge.to] != kNone || !inside(edge.to)) continue;
      if (!budget.Spend()) return {};
      parent[edge.to] = from;
      queue.push_back(edge.to);
    }
  }
  return {};
}

}  // namespace plantrail::domain
