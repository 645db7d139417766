#include "logging/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "nlohmann/json.hpp"

namespace plantrail::logging {
namespace {

constexpr absl::string_view kRedacted = "[redacted]";
constexpr absl::string_view kTokenPrefix = "pt_";
constexpr size_t kMinTokenHexDigits = 16;
// A webhook signing secret: "whsec_" and base64.
constexpr absl::string_view kWebhookSecretPrefix = "whsec_";
constexpr size_t kMinWebhookSecretChars = 16;

bool IsBase64Char(char c) {
  return absl::ascii_isalnum(c) || c == '+' || c == '/' || c == '=';
}
constexpr absl::string_view kPemBegin = "-----BEGIN ";
constexpr absl::string_view kPemPrivateKeyEnd = "PRIVATE KEY-----";

void WriteToStderr(absl::string_view line) {
  // One write() per line keeps concurrent lines whole (stderr is
  // unbuffered and O_APPEND under journald or a file).
  while (!line.empty()) {
    const ssize_t written = write(STDERR_FILENO, line.data(), line.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // Nowhere to report a failing log.
    line.remove_prefix(static_cast<size_t>(written));
  }
}

struct State {
  std::atomic<int> level{static_cast<int>(Level::kInfo)};
  // common/sync.h, not absl::Mutex: Debian's Abseil is not built for
  // ThreadSanitizer, which would not see it.
  Mutex mu;
  Format format ABSL_GUARDED_BY(mu) = Format::kLogfmt;
  std::function<void(absl::string_view)> sink ABSL_GUARDED_BY(mu) =
      WriteToStderr;
};

State& GlobalState() {
  static State* const state = new State();
  return *state;
}

std::string JsonString(absl::string_view text) {
  // nlohmann-json escapes per RFC 8259 and replaces invalid UTF-8 with
  // U+FFFD instead of failing: a log line never throws.
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool NeedsLogfmtQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (const unsigned char c : value) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) {
      return true;
    }
  }
  return false;
}

void AppendLogfmtValue(std::string& out, absl::string_view value) {
  if (!NeedsLogfmtQuotes(value)) {
    out.append(value.data(), value.size());
    return;
  }
  out.push_back('"');
  for (const unsigned char c : value) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < ' ' || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// A key is what the code wrote; still, nothing it holds may break a line.
std::string SafeKey(absl::string_view key) {
  std::string safe;
  for (const char c : key) {
    safe.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                           c == '_' || c == '.' || c == '-'
                       ? c
                       : '_');
  }
  return safe.empty() ? "_" : safe;
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

}  // namespace

Field::Field(absl::string_view key, int64_t value)
    : key(key), value(absl::StrCat(value)), is_literal(true) {}
Field::Field(absl::string_view key, uint64_t value)
    : key(key), value(absl::StrCat(value)), is_literal(true) {}
Field::Field(absl::string_view key, double value)
    : key(key), value(absl::StrFormat("%.6g", value)), is_literal(true) {
  if (!std::isfinite(value)) {
    this->value = absl::StrCat("\"", this->value, "\"");  // JSON has no inf.
  }
}
Field::Field(absl::string_view key, bool value)
    : key(key), value(value ? "true" : "false"), is_literal(true) {}

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "debug") return Level::kDebug;
  if (lower == "info") return Level::kInfo;
  if (lower == "warning" || lower == "warn") return Level::kWarning;
  if (lower == "error") return Level::kError;
  return absl::InvalidArgumentError(absl::StrCat(
      "log-level: \"", name, "\" is not one of debug, info, warning, error"));
}

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "logfmt") return Format::kLogfmt;
  if (lower == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log-format: \"", name, "\" is not one of logfmt, json"));
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

std::string RedactSecrets(absl::string_view text) {
  if (text.find(kTokenPrefix) == absl::string_view::npos &&
      text.find(kWebhookSecretPrefix) == absl::string_view::npos &&
      text.find(kPemBegin) == absl::string_view::npos) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, kTokenPrefix.size()) == kTokenPrefix) {
      size_t end = i + kTokenPrefix.size();
      while (end < text.size() && IsHexDigit(text[end])) ++end;
      if (end - i - kTokenPrefix.size() >= kMinTokenHexDigits) {
        out.append(kRedacted.data(), kRedacted.size());
        i = end;
        continue;
      }
    }
    if (text.substr(i, kWebhookSecretPrefix.size()) == kWebhookSecretPrefix) {
      size_t end = i + kWebhookSecretPrefix.size();
      while (end < text.size() && IsBase64Char(text[end])) ++end;
      if (end - i - kWebhookSecretPrefix.size() >= kMinWebhookSecretChars) {
        out.append(kRedacted.data(), kRedacted.size());
        i = end;
        continue;
      }
    }
    if (text.substr(i, kPemBegin.size()) == kPemBegin) {
      const size_t header_end = text.find("-----", i + kPemBegin.size());
      if (header_end != absl::string_view::npos &&
          text.substr(i, header_end + 5 - i).find("PRIVATE KEY") !=
              absl::string_view::npos) {
        // Everything up to the END line goes, or the rest of the text when
        // the block is cut off.
        const size_t end_line = text.find("-----END ", header_end + 5);
        size_t end = text.size();
        if (end_line != absl::string_view::npos) {
          const size_t tail = text.find(kPemPrivateKeyEnd, end_line);
          if (tail != absl::string_view::npos) {
            end = tail + kPemPrivateKeyEnd.size();
          }
        }
        out.append(kRedacted.data(), kRedacted.size());
        i = end;
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

namespace {

// What a line carries of one text: secrets redacted first (so a cut never
// leaves part of a token), then at most kMaxTextBytes, cut at a character's
// start, so that a caller's megabyte is never echoed into the log.
constexpr size_t kMaxTextBytes = 2048;

std::string SafeText(absl::string_view text) {
  std::string safe = RedactSecrets(text);
  if (safe.size() <= kMaxTextBytes) return safe;
  size_t end = kMaxTextBytes;
  while (end > 0 && (static_cast<unsigned char>(safe[end]) & 0xc0) == 0x80) {
    --end;
  }
  const size_t dropped = safe.size() - end;
  safe.resize(end);
  absl::StrAppend(&safe, "...[", dropped, " more bytes]");
  return safe;
}

}  // namespace

std::string FormatLine(Format format, int64_t unix_micros, Level level,
                       absl::string_view message,
                       std::initializer_list<Field> fields) {
  const std::string ts =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                       absl::FromUnixMicros(unix_micros), absl::UTCTimeZone());
  const std::string safe_message = SafeText(message);
  std::string line;
  if (format == Format::kJson) {
    absl::StrAppend(&line, "{\"ts\":\"", ts, "\",\"level\":\"",
                    LevelName(level), "\",\"msg\":", JsonString(safe_message));
    for (const Field& field : fields) {
      absl::StrAppend(
          &line, ",", JsonString(SafeKey(field.key)), ":",
          field.is_literal ? field.value : JsonString(SafeText(field.value)));
    }
    line.push_back('}');
    return line;
  }
  absl::StrAppend(&line, "ts=", ts, " level=", LevelName(level), " msg=");
  AppendLogfmtValue(line, safe_message);
  for (const Field& field : fields) {
    absl::StrAppend(&line, " ", SafeKey(field.key), "=");
    if (field.is_literal) {
      line.append(field.value);
    } else {
      AppendLogfmtValue(line, SafeText(field.value));
    }
  }
  return line;
}

void Configure(Config config) {
  State& state = GlobalState();
  MutexLock lock(&state.mu);
  state.level.store(static_cast<int>(config.level), std::memory_order_relaxed);
  state.format = config.format;
  state.sink = config.sink ? std::move(config.sink) : WriteToStderr;
}

bool Enabled(Level level) {
  return static_cast<int>(level) >=
         GlobalState().level.load(std::memory_order_relaxed);
}

void Log(Level level, absl::string_view message,
         std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  State& state = GlobalState();
  const int64_t now = absl::ToUnixMicros(absl::Now());
  MutexLock lock(&state.mu);
  std::string line = FormatLine(state.format, now, level, message, fields);
  line.push_back('\n');
  state.sink(line);
}

}  // namespace plantrail::logging
