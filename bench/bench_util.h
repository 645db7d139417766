// What the in-process benchmarks share: a scratch directory and plan events
// encoded as the command service stores them.
#ifndef PLANTRAIL_BENCH_BENCH_UTIL_H_
#define PLANTRAIL_BENCH_BENCH_UTIL_H_

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "domain/event_codec.h"
#include "eventstore/event.h"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::bench {

// A new directory under $TMPDIR (else /tmp), named after `name`; aborts if
// none can be made. The caller removes it.
inline std::filesystem::path MakeBenchDir(const std::string& name) {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") +
                        "/plantrail-" + name + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

inline eventstore::ProposedEvent Encoded(const stored::PlanEvent& event) {
  domain::EncodedEvent encoded = domain::EncodeEvent(event);
  return {.type = encoded.type,
          .payload = encoded.payload,
          .content_type = encoded.content_type,
          .metadata = {{"actor", "bench"}}};
}

}  // namespace plantrail::bench

#endif  // PLANTRAIL_BENCH_BENCH_UTIL_H_
