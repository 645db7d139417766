#include "metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "metrics/programming_error.h"

namespace plantrail::metrics {
namespace {

// Debian's Abseil has an absl::string_view of its own, not std::string_view.
absl::string_view Absl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsMetricName(std::string_view name) {
  if (name.empty() || IsDigit(name[0])) return false;
  for (char c : name) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '_' && c != ':') return false;
  }
  return true;
}

// [a-zA-Z_][a-zA-Z0-9_]*
bool IsLabelName(std::string_view name) {
  if (name.empty() || IsDigit(name[0])) return false;
  for (char c : name) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and newline; label values also the double
// quote. Nothing else is escaped in 0.0.4.
void AppendEscaped(std::string* out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (quote && c == '"') {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

// The shortest form of a finite `value` that reads back to the same double,
// in `format` (none: the shorter of fixed and scientific). 64 bytes hold
// every such form the callers ask for (fixed only for exponents -4 to 5).
template <typename... Format>
std::string Shortest(double value, Format... format) {
  char buffer[64];
  const std::to_chars_result result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, format...);
  if (result.ec != std::errc()) return "NaN";
  return std::string(buffer, result.ptr);
}

std::string FormatSpecial(double value) {
  if (std::isnan(value)) return "NaN";
  return value > 0 ? "+Inf" : "-Inf";
}

// A sample value: whole numbers as integers (exact for every double below
// 2^63), others in the shortest form that parses back to the same double.
std::string FormatValue(double value) {
  if (!std::isfinite(value)) return FormatSpecial(value);
  if (value == std::trunc(value) && std::fabs(value) < 0x1p63) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  return Shortest(value);
}

// A bucket bound as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it (the
// Go client's le labels): shortest digits; exponent form when the decimal
// exponent is below -4 or at least 6, with a sign and at least two digits
// ("1e+06", "1e-05"), which is also what C's %e and to_chars write.
std::string FormatBound(double bound) {
  if (!std::isfinite(bound)) return FormatSpecial(bound);
  const std::string scientific = Shortest(bound, std::chars_format::scientific);
  const size_t e = scientific.find('e');
  int exponent = 0;
  if (e != std::string::npos) {
    std::from_chars(scientific.data() + e + (scientific[e + 1] == '+' ? 2 : 1),
                    scientific.data() + scientific.size(), exponent);
  }
  if (exponent < -4 || exponent >= 6) return scientific;
  return Shortest(bound, std::chars_format::fixed);
}

}  // namespace

void Exposition::Family(std::string_view name, Type type,
                        std::string_view help) {
  started_ = true;
  family_.clear();
  if (!IsMetricName(name)) {
    internal::ProgrammingError(
        absl::StrCat("metric family name \"", Absl(name),
                     "\" must match [a-zA-Z_:][a-zA-Z0-9_:]*"));
    return;
  }
  if (type == Type::kCounter && !name.ends_with("_total")) {
    internal::ProgrammingError(absl::StrCat(
        "counter family name \"", Absl(name), "\" must end in _total"));
    return;
  }
  std::vector<std::string> series = {std::string(name)};
  if (type == Type::kHistogram) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      series.push_back(absl::StrCat(Absl(name), suffix));
    }
  }
  for (const std::string& series_name : series) {
    if (names_.find(series_name) != names_.end()) {
      internal::ProgrammingError(
          absl::StrCat("metric family \"", Absl(name), "\": \"", series_name,
                       "\" is already written in this exposition"));
      return;
    }
  }
  names_.insert(series.begin(), series.end());
  family_ = std::string(name);
  type_ = type;
  absl::StrAppend(&text_, "# HELP ", Absl(name), " ");
  AppendEscaped(&text_, help, /*quote=*/false);
  absl::StrAppend(&text_, "\n# TYPE ", Absl(name), " ", Absl(TypeName(type)),
                  "\n");
}

bool Exposition::SampleAllowed(bool histogram) {
  if (!started_) {
    internal::ProgrammingError("Sample() before any Family()");
    return false;
  }
  // The family was left out, and its samples with it.
  if (family_.empty()) return false;
  if (histogram != (type_ == Type::kHistogram)) {
    internal::ProgrammingError(absl::StrCat(
        "family \"", family_, "\" is a ", Absl(TypeName(type_)),
        histogram ? ": a histogram snapshot does not belong in it"
                  : ": it takes Histogram::Snapshot samples, not numbers"));
    return false;
  }
  return true;
}

bool Exposition::LabelsValid(const Labels& labels, bool histogram) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& name = labels[i].first;
    if (!IsLabelName(name) || name.starts_with("__")) {
      internal::ProgrammingError(
          absl::StrCat("label name \"", name,
                       "\" must match [a-zA-Z_][a-zA-Z0-9_]* and not start "
                       "with __"));
      return false;
    }
    if (histogram && name == "le") {
      internal::ProgrammingError(
          "label name \"le\" is reserved for a histogram's buckets");
      return false;
    }
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == name) {
        internal::ProgrammingError(
            absl::StrCat("label name \"", name, "\" appears twice"));
        return false;
      }
    }
  }
  return true;
}

void Exposition::WriteLine(std::string_view suffix, const Labels& labels,
                           std::string_view le, std::string_view value) {
  absl::StrAppend(&text_, family_, Absl(suffix));
  if (!labels.empty() || !le.empty()) {
    text_ += '{';
    const char* separator = "";
    for (const auto& [name, label_value] : labels) {
      absl::StrAppend(&text_, separator, name, "=\"");
      AppendEscaped(&text_, label_value, /*quote=*/true);
      text_ += '"';
      separator = ",";
    }
    if (!le.empty())
      absl::StrAppend(&text_, separator, "le=\"", Absl(le), "\"");
    text_ += '}';
  }
  absl::StrAppend(&text_, " ", Absl(value), "\n");
}

void Exposition::Sample(double value, const Labels& labels) {
  if (!SampleAllowed(/*histogram=*/false)) return;
  if (!LabelsValid(labels, /*histogram=*/false)) return;
  WriteLine("", labels, "", FormatValue(value));
}

void Exposition::Sample(const Histogram::Snapshot& histogram,
                        const Labels& labels) {
  if (!SampleAllowed(/*histogram=*/true)) return;
  if (!LabelsValid(labels, /*histogram=*/true)) return;
  const std::vector<double>& bounds = histogram.upper_bounds;
  const std::vector<uint64_t>& counts = histogram.cumulative_counts;
  bool well_formed =
      counts.size() == bounds.size() + 1 && counts.back() == histogram.count;
  for (size_t i = 0; well_formed && i < bounds.size(); ++i) {
    well_formed = std::isfinite(bounds[i]) &&
                  (i == 0 || bounds[i - 1] < bounds[i]) &&
                  counts[i] <= counts[i + 1];
  }
  if (!well_formed) {
    internal::ProgrammingError(absl::StrCat(
        "histogram snapshot for \"", family_,
        "\" is malformed: it needs finite, increasing bounds, one cumulative "
        "count per bound plus +Inf, non-decreasing, the last equal to count"));
    return;
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    WriteLine("_bucket", labels, FormatBound(bounds[i]),
              absl::StrCat(counts[i]));
  }
  WriteLine("_bucket", labels, "+Inf", absl::StrCat(counts.back()));
  WriteLine("_sum", labels, "", FormatValue(histogram.sum));
  WriteLine("_count", labels, "", absl::StrCat(histogram.count));
}

std::string Exposition::Text() && { return std::move(text_); }

}  // namespace plantrail::metrics
