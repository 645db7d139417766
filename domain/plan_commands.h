// Every plan command, once: the request types of the PlanCommands service,
// in the order of its rpcs. The gRPC service, the authorizer, the test
// harness and the fuzzer go through this list rather than naming each
// command, so that a new command is its proto, its Decide (and Evolve), its
// entry here and in the handler, its CLI verb and its tests
// (docs/architecture.md, "Adding a plan command"). PlanCommandListTest
// checks that the list and the service's rpcs are the same.
//
// Thread safety: constants and pure functions.
#ifndef PLANTRAIL_DOMAIN_PLAN_COMMANDS_H_
#define PLANTRAIL_DOMAIN_PLAN_COMMANDS_H_

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "google/protobuf/descriptor.h"
#include "plantrail/v1/plan_commands.pb.h"

namespace plantrail::domain {

// Append new commands at the end: the fuzzer's seeds name commands by
// their index here.
using PlanCommandTypes = std::tuple<
    v1::RegisterAreaRequest, v1::ReviseDetailsRequest, v1::ReportStatusRequest,
    v1::ReviseScheduleRequest, v1::AddDependencyRequest,
    v1::RemoveDependencyRequest, v1::ChangeUnitsRequest,
    v1::RecordDecisionRequest, v1::CloseAreaRequest, v1::ReopenAreaRequest,
    v1::CorrectEntryRequest, v1::RegisterPlanRequest, v1::RevisePlanRequest,
    v1::ClosePlanRequest, v1::ReopenPlanRequest, v1::OpenFollowUpRequest,
    v1::CloseFollowUpRequest>;

inline constexpr size_t kPlanCommandCount = std::tuple_size_v<PlanCommandTypes>;

// Calls `visit(std::type_identity<Request>{}, index)` for each command, in
// order.
template <typename Visit>
void ForEachPlanCommand(Visit&& visit) {
  [&]<size_t... I>(std::index_sequence<I...>) {
    (visit(std::type_identity<std::tuple_element_t<I, PlanCommandTypes>>{}, I),
     ...);
  }
  (std::make_index_sequence<kPlanCommandCount>{});
}

// Calls `visit(std::type_identity<Request>{})` for the command at `index`
// (< kPlanCommandCount); returns what it returns.
template <typename Result, typename Visit>
Result VisitPlanCommand(size_t index, Visit&& visit) {
  Result result{};
  ForEachPlanCommand([&](auto type, size_t i) {
    if (i == index) result = visit(type);
  });
  return result;
}

// The index of `Request` in the list.
template <typename Request>
constexpr size_t PlanCommandIndex() {
  return []<size_t... I>(std::index_sequence<I...>) {
    size_t index = kPlanCommandCount;
    (void)((std::is_same_v<Request, std::tuple_element_t<I, PlanCommandTypes>>
                ? (index = I, true)
                : false) ||
           ...);
    return index;
  }
  (std::make_index_sequence<kPlanCommandCount>{});
}

// The PlanCommands service, from the contract's descriptors.
const google::protobuf::ServiceDescriptor& PlanCommandsService();

// The rpc of PlanCommands that takes `request`, e.g. "RegisterArea"; empty
// when none does.
std::string PlanCommandName(const google::protobuf::Descriptor& request);

// The same for a request type, e.g. PlanCommandName<v1::CloseAreaRequest>()
// is "CloseArea".
template <typename Request>
const std::string& PlanCommandName() {
  static const std::string* name =
      new std::string(PlanCommandName(*Request::descriptor()));
  return *name;
}

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_PLAN_COMMANDS_H_
