// The text exposition format 0.0.4, byte for byte: layout, escaping, number
// formatting, and what happens to a family or sample that breaks a rule.
#include "metrics/exposition.h"

#include <cmath>
#include <functional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/histogram.h"

namespace plantrail::metrics {
namespace {

#ifdef NDEBUG
constexpr bool kDebugBuild = false;
#else
constexpr bool kDebugBuild = true;
#endif

TEST(MetricsExpositionTest, CounterGaugeAndHistogram) {
  Histogram latency({0.005, 0.5, 1});
  for (double value : {0.00390625, 0.25, 0.75, 2.0}) latency.Observe(value);

  Exposition out;
  out.Family("plantrail_appends_total", Type::kCounter, "Appends by result.");
  out.Sample(12, {{"result", "ok"}});
  out.Sample(1, {{"result", "conflict"}});
  out.Family("plantrail_subscribers", Type::kGauge, "Open subscriptions.");
  out.Sample(3);
  out.Family("plantrail_append_duration_seconds", Type::kHistogram,
             "Append latency.");
  out.Sample(latency.Read(), {{"store", "main"}});

  EXPECT_EQ(std::move(out).Text(),
            "# HELP plantrail_appends_total Appends by result.\n"
            "# TYPE plantrail_appends_total counter\n"
            "plantrail_appends_total{result=\"ok\"} 12\n"
            "plantrail_appends_total{result=\"conflict\"} 1\n"
            "# HELP plantrail_subscribers Open subscriptions.\n"
            "# TYPE plantrail_subscribers gauge\n"
            "plantrail_subscribers 3\n"
            "# HELP plantrail_append_duration_seconds Append latency.\n"
            "# TYPE plantrail_append_duration_seconds histogram\n"
            "plantrail_append_duration_seconds_bucket"
            "{store=\"main\",le=\"0.005\"} 1\n"
            "plantrail_append_duration_seconds_bucket"
            "{store=\"main\",le=\"0.5\"} 2\n"
            "plantrail_append_duration_seconds_bucket"
            "{store=\"main\",le=\"1\"} 3\n"
            "plantrail_append_duration_seconds_bucket"
            "{store=\"main\",le=\"+Inf\"} 4\n"
            "plantrail_append_duration_seconds_sum{store=\"main\"} 3.00390625\n"
            "plantrail_append_duration_seconds_count{store=\"main\"} 4\n");
}

TEST(MetricsExpositionTest, HistogramWithoutLabels) {
  Exposition out;
  out.Family("rpc_seconds", Type::kHistogram, "RPC latency.");
  out.Sample(Histogram({1}).Read());
  EXPECT_EQ(std::move(out).Text(),
            "# HELP rpc_seconds RPC latency.\n"
            "# TYPE rpc_seconds histogram\n"
            "rpc_seconds_bucket{le=\"1\"} 0\n"
            "rpc_seconds_bucket{le=\"+Inf\"} 0\n"
            "rpc_seconds_sum 0\n"
            "rpc_seconds_count 0\n");
}

TEST(MetricsExpositionTest, EmptyExpositionIsEmpty) {
  EXPECT_EQ(Exposition().Text(), "");
}

TEST(MetricsExpositionTest, EscapesHelpAndLabelValues) {
  Exposition out;
  out.Family("odd", Type::kGauge, "Line one\nback\\slash \"quoted\"");
  out.Sample(1, {{"path", "C:\\dir\n\"x\""}, {"empty", ""}});
  EXPECT_EQ(std::move(out).Text(),
            "# HELP odd Line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE odd gauge\n"
            "odd{path=\"C:\\\\dir\\n\\\"x\\\"\",empty=\"\"} 1\n");
}

TEST(MetricsExpositionTest, NamesWithColonsAndUnderscores) {
  Exposition out;
  out.Family("job:requests:rate5m", Type::kGauge, "Recorded.");
  out.Sample(2, {{"_private", "a"}, {"Code2", "b"}});
  EXPECT_THAT(std::move(out).Text(),
              ::testing::HasSubstr(
                  "job:requests:rate5m{_private=\"a\",Code2=\"b\"} 2\n"));
}

// The value of one gauge sample as written.
std::string Formatted(double value) {
  Exposition out;
  out.Family("g", Type::kGauge, "G.");
  out.Sample(value);
  const std::string text = std::move(out).Text();
  const std::string prefix = "# HELP g G.\n# TYPE g gauge\ng ";
  EXPECT_TRUE(text.starts_with(prefix)) << text;
  EXPECT_TRUE(text.ends_with("\n")) << text;
  return text.substr(prefix.size(), text.size() - prefix.size() - 1);
}

TEST(MetricsExpositionTest, FormatsValues) {
  EXPECT_EQ(Formatted(0), "0");
  EXPECT_EQ(Formatted(-0.0), "0");
  EXPECT_EQ(Formatted(1), "1");
  EXPECT_EQ(Formatted(-1), "-1");
  EXPECT_EQ(Formatted(12345678901), "12345678901");
  EXPECT_EQ(Formatted(9007199254740993.0), "9007199254740992");
  EXPECT_EQ(Formatted(0x1p62), "4611686018427387904");
  EXPECT_EQ(Formatted(0.5), "0.5");
  EXPECT_EQ(Formatted(0.1), "0.1");
  EXPECT_EQ(Formatted(123.456), "123.456");
  EXPECT_EQ(Formatted(-2.5), "-2.5");
  EXPECT_EQ(Formatted(1e-7), "1e-07");
  EXPECT_EQ(Formatted(1.5e300), "1.5e+300");
  // From 2^63 on, the shorter of the two forms; a tie goes to the integer.
  EXPECT_EQ(Formatted(0x1p70), "1180591620717411303424");
  EXPECT_EQ(Formatted(1e20), "1e+20");
  EXPECT_EQ(Formatted(HUGE_VAL), "+Inf");
  EXPECT_EQ(Formatted(-HUGE_VAL), "-Inf");
  EXPECT_EQ(Formatted(std::nan("")), "NaN");
}

TEST(MetricsExpositionTest, FormatsBucketBoundsLikeGo) {
  Exposition out;
  out.Family("h", Type::kHistogram, "H.");
  out.Sample(Histogram({1e-05, 0.0001, 0.00025, 0.005, 0.1, 0.25, 1, 2.5, 10,
                        100000, 123456.5, 1e6, 2.5e6})
                 .Read());
  const std::string text = std::move(out).Text();
  for (const char* le :
       {"1e-05", "0.0001", "0.00025", "0.005", "0.1", "0.25", "1", "2.5", "10",
        "100000", "123456.5", "1e+06", "2.5e+06", "+Inf"}) {
    EXPECT_THAT(text, ::testing::HasSubstr(std::string("h_bucket{le=\"") + le +
                                           "\"} 0\n"));
  }
}

TEST(MetricsExpositionTest, HistogramSumIsAValue) {
  Histogram histogram({1});
  histogram.Observe(HUGE_VAL);
  Exposition out;
  out.Family("h", Type::kHistogram, "H.");
  out.Sample(histogram.Read());
  EXPECT_THAT(std::move(out).Text(), ::testing::HasSubstr("h_sum +Inf\n"));
}

// `build` breaks a rule: debug builds die saying `rule`; release builds leave
// the offending family or sample out, which makes the text `expected`.
void ExpectLeftOut(const std::function<std::string()>& build,
                   const std::string& rule, const std::string& expected) {
  EXPECT_DEBUG_DEATH(build(), rule);
  if (!kDebugBuild) {
    EXPECT_EQ(build(), expected);
  }
}

constexpr char kGood[] = "# HELP good Good.\n# TYPE good gauge\ngood 1\n";

// A good family, the bad part, then another good family: the bad part must
// not take anything with it but itself.
std::function<std::string()> Around(std::function<void(Exposition&)> bad) {
  return [bad] {
    Exposition out;
    out.Family("good", Type::kGauge, "Good.");
    out.Sample(1);
    bad(out);
    out.Family("after", Type::kGauge, "After.");
    out.Sample(2);
    return std::move(out).Text();
  };
}

const std::string kGoodAndAfter =
    std::string(kGood) + "# HELP after After.\n# TYPE after gauge\nafter 2\n";

TEST(MetricsExpositionDeathTest, BadFamilyNameIsLeftOut) {
  for (const char* name : {"", "9lives", "with-dash", "with space", "ü"}) {
    SCOPED_TRACE(name);
    ExpectLeftOut(Around([name](Exposition& out) {
                    out.Family(name, Type::kGauge, "Bad.");
                    out.Sample(7);
                    out.Sample(8, {{"a", "b"}});
                  }),
                  "must match", kGoodAndAfter);
  }
}

TEST(MetricsExpositionDeathTest, CounterWithoutTotalIsLeftOut) {
  ExpectLeftOut(Around([](Exposition& out) {
                  out.Family("requests", Type::kCounter, "Requests.");
                  out.Sample(7);
                }),
                "must end in _total", kGoodAndAfter);
}

TEST(MetricsExpositionDeathTest, FamilyWrittenTwiceIsLeftOut) {
  ExpectLeftOut(Around([](Exposition& out) {
                  out.Family("good", Type::kGauge, "Again.");
                  out.Sample(7);
                }),
                "already written", kGoodAndAfter);
}

TEST(MetricsExpositionDeathTest, HistogramSeriesClashIsLeftOut) {
  // A histogram "good_c" writes good_c_count, already a gauge here.
  ExpectLeftOut(
      [] {
        Exposition out;
        out.Family("good_c_count", Type::kGauge, "Count.");
        out.Sample(1);
        out.Family("good_c", Type::kHistogram, "Clash.");
        out.Sample(Histogram({1}).Read());
        return std::move(out).Text();
      },
      "already written",
      "# HELP good_c_count Count.\n# TYPE good_c_count gauge\n"
      "good_c_count 1\n");
  // And the other way round.
  ExpectLeftOut(
      [] {
        Exposition out;
        out.Family("h", Type::kHistogram, "H.");
        out.Family("h_bucket", Type::kGauge, "Clash.");
        out.Sample(1);
        return std::move(out).Text();
      },
      "already written", "# HELP h H.\n# TYPE h histogram\n");
}

TEST(MetricsExpositionDeathTest, SampleBeforeAnyFamilyIsLeftOut) {
  ExpectLeftOut(
      [] {
        Exposition out;
        out.Sample(1);
        return std::move(out).Text();
      },
      "before any Family", "");
}

TEST(MetricsExpositionDeathTest, BadLabelNamesAreLeftOut) {
  const std::pair<Labels, std::string> cases[] = {
      {{{"1st", "x"}}, "must match"},
      {{{"with-dash", "x"}}, "must match"},
      {{{"", "x"}}, "must match"},
      {{{"__name__", "x"}}, "not start with __"},
      {{{"a", "x"}, {"b", "y"}, {"a", "z"}}, "appears twice"},
  };
  for (const auto& [labels, rule] : cases) {
    SCOPED_TRACE(rule);
    ExpectLeftOut(
        Around([labels = labels](Exposition& out) { out.Sample(7, labels); }),
        rule, kGoodAndAfter);
  }
}

TEST(MetricsExpositionDeathTest, LeLabelIsReservedInHistograms) {
  ExpectLeftOut(
      [] {
        Exposition out;
        out.Family("h", Type::kHistogram, "H.");
        out.Sample(Histogram({1}).Read(), {{"le", "1"}});
        return std::move(out).Text();
      },
      "reserved", "# HELP h H.\n# TYPE h histogram\n");
}

TEST(MetricsExpositionDeathTest, SampleOfTheWrongKindIsLeftOut) {
  ExpectLeftOut(
      Around([](Exposition& out) { out.Sample(Histogram({1}).Read()); }),
      "does not belong", kGoodAndAfter);
  ExpectLeftOut(
      [] {
        Exposition out;
        out.Family("h", Type::kHistogram, "H.");
        out.Sample(1);
        return std::move(out).Text();
      },
      "not numbers", "# HELP h H.\n# TYPE h histogram\n");
}

TEST(MetricsExpositionDeathTest, MalformedSnapshotIsLeftOut) {
  Histogram::Snapshot missing_inf;
  missing_inf.upper_bounds = {1, 2};
  missing_inf.cumulative_counts = {1, 2};
  missing_inf.count = 2;
  Histogram::Snapshot decreasing;
  decreasing.upper_bounds = {1};
  decreasing.cumulative_counts = {3, 2};
  decreasing.count = 2;
  Histogram::Snapshot wrong_count;
  wrong_count.upper_bounds = {1};
  wrong_count.cumulative_counts = {1, 2};
  wrong_count.count = 3;
  for (const Histogram::Snapshot& snapshot :
       {missing_inf, decreasing, wrong_count}) {
    ExpectLeftOut(
        [&snapshot] {
          Exposition out;
          out.Family("h", Type::kHistogram, "H.");
          out.Sample(snapshot);
          return std::move(out).Text();
        },
        "malformed", "# HELP h H.\n# TYPE h histogram\n");
  }
}

}  // namespace
}  // namespace plantrail::metrics
