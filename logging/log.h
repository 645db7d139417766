// The server's structured log: one line per event, logfmt or one JSON object,
// on stderr (journald, a container runtime or a file collects it).
//
// Every line carries ts, level and msg, then the caller's fields in order.
// No secret is ever written: every message and field value passes through
// RedactSecrets() first, so a plantrail bearer token or a PEM private key
// that slipped into an error message comes out as "[redacted]". Code still
// never hands a token to the log on purpose; this is the second line. And no
// text is longer than 2 KiB in a line: the rest is cut and counted, so a
// caller's megabyte quoted in an error is never echoed into the log.
//
// Thread safety: Configure() before the first Log() (plantraild does it
// first thing); everything else may be called from any thread. A line is
// written with one write(), so lines from many threads never interleave.
#ifndef PLANTRAIL_LOGGING_LOG_H_
#define PLANTRAIL_LOGGING_LOG_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace plantrail::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class Format { kLogfmt, kJson };

// "debug", "info", "warning" (or "warn"), "error"; the error names the flag
// (log-level) and the choices.
absl::StatusOr<Level> ParseLevel(absl::string_view name);
// "logfmt" or "json".
absl::StatusOr<Format> ParseFormat(absl::string_view name);
absl::string_view LevelName(Level level);

// One key=value of a line. Numbers and booleans stay unquoted in JSON.
struct Field {
  Field(absl::string_view key, absl::string_view value)
      : key(key), value(value) {}
  Field(absl::string_view key, const std::string& value)
      : key(key), value(value) {}
  Field(absl::string_view key, const char* value) : key(key), value(value) {}
  Field(absl::string_view key, int64_t value);
  Field(absl::string_view key, uint64_t value);
  Field(absl::string_view key, int value) : Field(key, int64_t{value}) {}
  Field(absl::string_view key, unsigned value) : Field(key, uint64_t{value}) {}
  Field(absl::string_view key, double value);
  Field(absl::string_view key, bool value);

  absl::string_view key;
  std::string value;
  bool is_literal = false;  // a number or boolean
};

struct Config {
  Level level = Level::kInfo;
  Format format = Format::kLogfmt;
  // Where lines go, each with its trailing newline; default: stderr.
  std::function<void(absl::string_view line)> sink;
};

// Replaces the process-wide configuration.
void Configure(Config config);

// Whether a line at `level` would be written (to skip building costly
// fields).
bool Enabled(Level level);

void Log(Level level, absl::string_view message,
         std::initializer_list<Field> fields = {});
inline void Debug(absl::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Log(Level::kDebug, message, fields);
}
inline void Info(absl::string_view message,
                 std::initializer_list<Field> fields = {}) {
  Log(Level::kInfo, message, fields);
}
inline void Warning(absl::string_view message,
                    std::initializer_list<Field> fields = {}) {
  Log(Level::kWarning, message, fields);
}
inline void Error(absl::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Log(Level::kError, message, fields);
}

// The line Log() would write (without the newline), at a given time in
// microseconds since the epoch; for tests.
std::string FormatLine(Format format, int64_t unix_micros, Level level,
                       absl::string_view message,
                       std::initializer_list<Field> fields);

// `text` with every webhook signing secret ("whsec_" and 16 or more base64
// characters), every plantrail bearer token ("pt_" and 16 or more hex
// digits) and every PEM private key block replaced by "[redacted]".
std::string RedactSecrets(absl::string_view text);

}  // namespace plantrail::logging

#endif  // PLANTRAIL_LOGGING_LOG_H_
