// Checking an import before anything is sent: every command of every row is
// decided (domain/decide.h, the server's own rules) on the server's current
// state of the streams it touches, in the order the import would send it,
// and folded (domain/evolve.h) so the next command sees it. A row fails as a
// whole; a row that needs a failed row (a report or dependency of an area
// whose registration failed) fails too, so the check runs until no more rows
// fail.
//
// A command whose id the stream already holds was imported before: it is
// counted as done and not decided again, which makes re-running an import a
// no-op.
#ifndef PLANTRAIL_IMPORT_IMPORT_CHECK_H_
#define PLANTRAIL_IMPORT_IMPORT_CHECK_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "import/plan_file.h"
#include "plantrail/stored/plan.pb.h"

namespace plantrail::plan_import {

// A plan stream as the server has it now.
struct StreamSnapshot {
  // Folded state; version 0 when the stream does not exist.
  stored::AreaState area;
  stored::DecisionState decision;
  // The command ids of its events.
  std::set<std::string> command_ids;
};

// Where the check reads the server's state; fetched once per stream.
class PlanView {
 public:
  virtual ~PlanView() = default;
  virtual absl::StatusOr<StreamSnapshot> Stream(
      const std::string& stream_id) = 0;
};

// The order commands are sent in: every registration first (so rows may
// name areas defined later in the file), then the rest, each in file order.
// Pairs of (row index, command index).
std::vector<std::pair<size_t, size_t>> SendOrder(const ImportedPlan& plan);

struct ImportVerdict {
  // Per row of the plan: empty when it passes, else the first refusal.
  std::vector<std::string> refusals;
  // Per row: its commands that were imported before (not to be sent).
  std::vector<std::set<size_t>> already_done;
  size_t commands_to_send = 0;
  size_t commands_already_done = 0;
};

// `now` is what decide takes as today (a status report without a date).
absl::StatusOr<ImportVerdict> CheckImport(const ImportedPlan& plan,
                                          PlanView& view, absl::Time now);

}  // namespace plantrail::plan_import

#endif  // PLANTRAIL_IMPORT_IMPORT_CHECK_H_
