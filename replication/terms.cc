#include "replication/terms.h"

#include "absl/strings/str_cat.h"

namespace plantrail::replication {

absl::StatusOr<Term> LastTerm(const eventstore::EventStore& log) {
  absl::StatusOr<eventstore::StreamPage> page =
      log.ReadStream({.stream_id = kLeadershipStream,
                      .direction = eventstore::ReadDirection::kBackward,
                      .limit = 1});
  if (absl::IsNotFound(page.status())) return Term{};
  if (!page.ok()) return page.status();
  if (page->events.empty()) return Term{};
  const eventstore::RecordedEvent& last = page->events.front();
  Term term{.position = last.position, .version = last.stream_version};
  if (last.type != "LeaderTermBegan" ||
      !term.event.ParseFromString(last.payload)) {
    return absl::DataLossError(
        absl::StrCat("the leadership event at position ", last.position,
                     " is not a LeaderTermBegan this build reads"));
  }
  term.term = term.event.term();
  return term;
}

}  // namespace plantrail::replication
