#include "services/security_stream.h"

namespace plantrail::services {

absl::StatusOr<uint64_t> ReadSecurityStream(
    const eventstore::EventStore& log, uint64_t after,
    absl::FunctionRef<void(const eventstore::RecordedEvent&)> fold) {
  eventstore::ReadStreamRequest request{.stream_id = kSecurityStream,
                                        .from_version = after + 1};
  uint64_t last = after;
  while (true) {
    absl::StatusOr<eventstore::StreamPage> page = log.ReadStream(request);
    if (absl::IsNotFound(page.status())) return last;  // nothing granted yet
    if (!page.ok()) return page.status();
    for (const eventstore::RecordedEvent& event : page->events) {
      fold(event);
      last = event.stream_version;
    }
    if (page->next_version == 0) return last;
    request.from_version = page->next_version;
  }
}

}  // namespace plantrail::services
