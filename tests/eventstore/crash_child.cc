// The victim of crash_test: appends to the store at argv[1] from several
// threads until it is killed, and reports every acknowledged append on stdout
// as one line, written with a single write(2) (atomic on a pipe):
//   A <first_position> <last_position> <stream_id> <seq>
// Event i of an append has payload "<stream_id>/<seq>/<i>" and metadata
// batch=<stream_id>/<seq>, index=i, count=<events per append>.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/event_store.h"

using plantrail::eventstore::AppendRequest;
using plantrail::eventstore::EventStore;
using plantrail::eventstore::ExpectedVersion;
using plantrail::eventstore::Options;
using plantrail::eventstore::ProposedEvent;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s DIR ROUND THREADS EVENTS_PER_APPEND\n",
                 argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::string round = argv[2];
  const int threads = std::atoi(argv[3]);
  const int per_append = std::atoi(argv[4]);
  // Odd rounds write zeroed WAL spares (zeroed_wal.h), so that the next
  // round recovers a log killed with zeros after its records, both with
  // and without them.
  auto store = EventStore::Open(Options{
      .path = dir,
      .wal_spare_bytes = std::atoi(round.c_str()) % 2 == 1 ? 1u << 20 : 0u});
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n",
                 std::string(store.status().message()).c_str());
    return 1;
  }
  const std::string ready = "R\n";
  if (write(STDOUT_FILENO, ready.data(), ready.size()) < 0) return 1;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string stream = absl::StrCat("crash-", round, "-t", t);
      for (uint64_t seq = 0;; ++seq) {
        AppendRequest request{
            .stream_id = stream,
            // Each thread owns its stream, so it knows the exact version.
            .expected_version = seq == 0
                                    ? ExpectedVersion::NoStream()
                                    : ExpectedVersion::Exact(seq * per_append),
        };
        for (int i = 0; i < per_append; ++i) {
          request.events.push_back(ProposedEvent{
              .type = "CrashProbe",
              .payload = absl::StrCat(stream, "/", seq, "/", i),
              .metadata = {{"batch", absl::StrCat(stream, "/", seq)},
                           {"index", absl::StrCat(i)},
                           {"count", absl::StrCat(per_append)}},
          });
        }
        auto result = (*store)->Append(std::move(request));
        if (!result.ok()) {
          std::fprintf(stderr, "append: %s\n",
                       std::string(result.status().message()).c_str());
          std::_Exit(3);
        }
        const std::string line =
            absl::StrCat("A ", result->first_position, " ",
                         result->last_position, " ", stream, " ", seq, "\n");
        if (write(STDOUT_FILENO, line.data(), line.size()) < 0) std::_Exit(4);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  return 0;
}
