// One scrape in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
//   Exposition out;
//   out.Family("plantrail_appends_total", Type::kCounter, "Appends.");
//   out.Sample(12, {{"result", "ok"}});
//   out.Family("plantrail_append_seconds", Type::kHistogram, "Latency.");
//   out.Sample(histogram.Read());
//   std::string body = std::move(out).Text();
//
// Output follows the Go client (client_golang's expfmt), so that dashboards
// written against Go services match: a counter family is named with its
// _total suffix in # HELP, # TYPE and its samples; histogram samples are
// name_bucket{...,le="..."} (the caller's labels first, le last), name_sum and
// name_count; "le" bounds are formatted like Go's strconv.FormatFloat(v, 'g',
// -1, 64) ("0.005", "1", "1e+06", "+Inf"). Sample values that are whole
// numbers below 2^63 print as integers ("12345678901", where Go would write
// "1.2345678901e+10"), exactly; others print in the shortest form that reads
// back to the same double ("0.1", "1e-07", "1e+20"). Infinities and NaN are
// "+Inf", "-Inf" and "NaN".
//
// Breaking a rule below is a programming error: debug builds abort with the
// rule, release builds leave the offending family or sample out and go on
// (metrics/programming_error.h).
//
// Thread safety: none; one thread builds one Exposition.
#ifndef PLANTRAIL_METRICS_EXPOSITION_H_
#define PLANTRAIL_METRICS_EXPOSITION_H_

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/histogram.h"

namespace plantrail::metrics {

// Label names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__"
// (reserved for Prometheus); a name appears at most once per sample; "le" is
// reserved in histogram samples. Values are any UTF-8 text (escaped here).
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Type { kCounter, kGauge, kHistogram };

class Exposition {
 public:
  // Starts a family: writes # HELP (escaped) and # TYPE. Every sample until
  // the next Family() belongs to it. The name must match
  // [a-zA-Z_:][a-zA-Z0-9_:]*, a counter's must end in _total, and it must not
  // clash with a family already written (for a histogram "foo", neither may
  // foo_bucket, foo_sum or foo_count: those are its series' names). A family
  // breaking a rule is left out with all its samples.
  void Family(std::string_view name, Type type, std::string_view help);

  // A sample of the current counter or gauge family.
  void Sample(double value, const Labels& labels = {});

  // The samples of the current histogram family: one _bucket per bound and
  // +Inf, then _sum and _count. `histogram` must be well-formed (one
  // cumulative count per bound plus one for +Inf), as Histogram::Read()'s is.
  void Sample(const Histogram::Snapshot& histogram, const Labels& labels = {});

  // The whole exposition. The format needs no terminator, and every line,
  // the last included, ends in '\n'.
  std::string Text() &&;

  static constexpr char kContentType[] =
      "text/plain; version=0.0.4; charset=utf-8";

 private:
  // Whether the next sample may be written: false (after reporting the
  // programming error, if it is one) when there is no family to write to.
  bool SampleAllowed(bool histogram);
  // Whether `labels` keep the rules (reports the programming error if not).
  static bool LabelsValid(const Labels& labels, bool histogram);
  // Writes one line: family_ + suffix, the labels and `le` (if not empty)
  // last, the value.
  void WriteLine(std::string_view suffix, const Labels& labels,
                 std::string_view le, std::string_view value);

  std::string text_;
  // Whether Family() was called yet.
  bool started_ = false;
  // The current family's name; empty when it was left out.
  std::string family_;
  Type type_ = Type::kGauge;
  // Every series name the families written so far produce.
  std::set<std::string, std::less<>> names_;
};

}  // namespace plantrail::metrics

#endif  // PLANTRAIL_METRICS_EXPOSITION_H_
