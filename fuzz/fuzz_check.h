// How a fuzzer says that a property broke: PLANTRAIL_FUZZ_CHECK(condition,
// detail) prints the condition, where it is and what was being checked, and
// aborts. libFuzzer treats the abort as a crash: it saves the input and
// stops, exactly as for a sanitizer report.
//
// Not assert(): the fuzz build is RelWithDebInfo (NDEBUG), and a property
// must hold in the build that runs.
#ifndef PLANTRAIL_FUZZ_FUZZ_CHECK_H_
#define PLANTRAIL_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/logging.h"

namespace plantrail::fuzz {

// PLANTRAIL_FUZZ_TRACE set (to anything): a fuzzer run on one input says
// what it does, for reading a crash; see README.md.
inline bool Tracing() {
  static const bool tracing = std::getenv("PLANTRAIL_FUZZ_TRACE") != nullptr;
  return tracing;
}

// Hostile bytes make protobuf log on nearly every input (invalid UTF-8 in a
// string field, and the like), which costs more than the input itself and
// buries the report of a crash. Its log lines are shown only when tracing;
// a FATAL one still aborts.
inline void QuietProtobufUnlessTracing() {
  if (!Tracing()) google::protobuf::SetLogHandler(nullptr);
}

[[noreturn]] inline void Fail(const char* condition, const char* file, int line,
                              absl::string_view detail) {
  std::fprintf(stderr, "\n%s:%d: property broken: %s\n  %s\n", file, line,
               condition, std::string(detail).c_str());
  std::abort();
}

// Bytes as C escapes, for a detail line that survives any input.
inline std::string Escaped(absl::string_view bytes) {
  return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
}

// A status as its code and message.
inline std::string Describe(const absl::Status& status) {
  return status.ToString();
}

}  // namespace plantrail::fuzz

#define PLANTRAIL_FUZZ_CHECK(condition, detail)                          \
  do {                                                                   \
    if (!(condition)) {                                                  \
      ::plantrail::fuzz::Fail(#condition, __FILE__, __LINE__, (detail)); \
    }                                                                    \
  } while (false)

// Defines libFuzzer's two entry points for a target: protobuf kept quiet
// (above), and every input handed as bytes to `function`, a
// void(absl::string_view).
#define PLANTRAIL_FUZZ_TARGET(function)                                     \
  extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {            \
    ::plantrail::fuzz::QuietProtobufUnlessTracing();                        \
    return 0;                                                               \
  }                                                                         \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    function(absl::string_view(reinterpret_cast<const char*>(data), size)); \
    return 0;                                                               \
  }

#endif  // PLANTRAIL_FUZZ_FUZZ_CHECK_H_
