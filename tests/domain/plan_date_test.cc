// Plan dates as the source documents write them: the rows of the table are
// "planned start/end" (KTH) and "tidsplan" (Piteå) cells and dates from the
// seeds, wrapped over lines where the seed wraps them, each with what it must
// read as or why it must fail; a few made-up rows at the end probe the
// refusals.
#include "domain/plan_date.h"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::domain {

// For readable failures (found by ADL).
void PrintTo(const PlanDate& date, std::ostream* os) {
  *os << "PlanDate(" << date.Canonical() << ", text \"" << date.text() << "\")";
}

namespace {

using P = PlanDate::Precision;
using T = PlanDate::Term;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// Expectations

struct Want {
  P precision;
  int year = 0;
  int month = 0;
  int day = 0;
  int quarter = 0;
  T term = T::kSpring;
  std::string first;  // first_day(), "" for the open forms
  std::string last;   // last_day()
};

Want Day(int y, int m, int d, std::string iso) {
  return {.precision = P::kDay,
          .year = y,
          .month = m,
          .day = d,
          .first = iso,
          .last = iso};
}
Want Month(int y, int m, std::string first, std::string last) {
  return {.precision = P::kMonth,
          .year = y,
          .month = m,
          .first = first,
          .last = last};
}
Want Quarter(int y, int q, std::string first, std::string last) {
  return {.precision = P::kQuarter,
          .year = y,
          .quarter = q,
          .first = first,
          .last = last};
}
Want Term(int y, T t, std::string first, std::string last) {
  return {.precision = P::kTerm,
          .year = y,
          .term = t,
          .first = first,
          .last = last};
}
Want Year(int y, std::string first, std::string last) {
  return {.precision = P::kYear, .year = y, .first = first, .last = last};
}
Want Asap() { return {.precision = P::kAsSoonAsPossible}; }
Want Ongoing() { return {.precision = P::kOngoing}; }

struct Row {
  std::string input;
  std::optional<Want> start;
  std::optional<Want> end;
  std::string error;  // part of the message; empty when the row reads
  bool lone = false;  // a lone date without prefix: PlanDate::Parse reads it
};

Row Lone(std::string input, Want want) {
  return {.input = input, .start = want, .end = want, .lone = true};
}
Row Starts(std::string input, Want want) {
  return {.input = input, .start = want};
}
Row Ends(std::string input, Want want) { return {.input = input, .end = want}; }
Row Range(std::string input, Want start, Want end) {
  return {.input = input, .start = start, .end = end};
}
Row Bad(std::string input, std::string error) {
  return {.input = input, .error = error};
}

void PrintTo(const Row& row, std::ostream* os) {
  *os << "\"" << row.input << "\"";
}

std::string Collapsed(absl::string_view text) {
  return absl::StrJoin(
      absl::StrSplit(text, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty()), " ");
}

std::string Iso(const std::optional<absl::CivilDay>& day) {
  return day ? absl::FormatCivilTime(*day) : "";
}

void ExpectDate(const PlanDate& got, const Want& want) {
  EXPECT_EQ(got.precision(), want.precision);
  EXPECT_EQ(got.year(), want.year);
  EXPECT_EQ(got.month(), want.month);
  EXPECT_EQ(got.day(), want.day);
  EXPECT_EQ(got.quarter(), want.quarter);
  if (want.precision == P::kTerm) {
    EXPECT_EQ(got.term(), want.term);
  }
  EXPECT_EQ(Iso(got.first_day()), want.first);
  EXPECT_EQ(Iso(got.last_day()), want.last);
}

// text() is a part of the input, and reads back as itself; Canonical() reads
// back as the same period.
void ExpectRoundTrips(const PlanDate& date, absl::string_view range_text) {
  EXPECT_THAT(std::string(range_text), HasSubstr(date.text()));
  const absl::StatusOr<PlanDate> again = PlanDate::Parse(date.text());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->text(), date.text());
  EXPECT_EQ(*again, date);
  const absl::StatusOr<PlanDate> canonical = PlanDate::Parse(date.Canonical());
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(*canonical, date);
  EXPECT_EQ(canonical->text(), date.Canonical());
}

// ---------------------------------------------------------------------------
// The table

constexpr T kHt = T::kAutumn;
constexpr T kVt = T::kSpring;

std::vector<Row> SeedRows() {
  return {
      // Terms, as KTH's action plan writes them.
      Lone("HT23", Term(2023, kHt, "2023-07-01", "2023-12-31")),
      Lone("HT 23", Term(2023, kHt, "2023-07-01", "2023-12-31")),
      Lone("VT 23", Term(2023, kVt, "2023-01-01", "2023-06-30")),
      Lone("VT23.", Term(2023, kVt, "2023-01-01", "2023-06-30")),
      Lone("VT24", Term(2024, kVt, "2024-01-01", "2024-06-30")),
      Lone("HT24", Term(2024, kHt, "2024-07-01", "2024-12-31")),
      Lone("VT 2023", Term(2023, kVt, "2023-01-01", "2023-06-30")),
      Lone("HT 2023", Term(2023, kHt, "2023-07-01", "2023-12-31")),
      Lone("ht-25.", Term(2025, kHt, "2025-07-01", "2025-12-31")),
      Lone("hösten 2022", Term(2022, kHt, "2022-07-01", "2022-12-31")),
      Lone("våren 2023", Term(2023, kVt, "2023-01-01", "2023-06-30")),
      Lone("våren 2018.", Term(2018, kVt, "2018-01-01", "2018-06-30")),
      Lone("höstterminen 2017", Term(2017, kHt, "2017-07-01", "2017-12-31")),
      // Quarters.
      Lone("Q4 2023", Quarter(2023, 4, "2023-10-01", "2023-12-31")),
      Lone("Q4 2022", Quarter(2022, 4, "2022-10-01", "2022-12-31")),
      // Piteå's "under första kvartalet 2018".
      Lone("första kvartalet 2018",
           Quarter(2018, 1, "2018-01-01", "2018-03-31")),
      // Months.
      Lone("april 2025.", Month(2025, 4, "2025-04-01", "2025-04-30")),
      Lone("juni 2023", Month(2023, 6, "2023-06-01", "2023-06-30")),
      Lone("september 2026", Month(2026, 9, "2026-09-01", "2026-09-30")),
      Lone("april 2018", Month(2018, 4, "2018-04-01", "2018-04-30")),
      Lone("oktober 2018", Month(2018, 10, "2018-10-01", "2018-10-31")),
      Lone("januari 2022", Month(2022, 1, "2022-01-01", "2022-01-31")),
      // Days.
      Lone("2023-04-05", Day(2023, 4, 5, "2023-04-05")),
      Lone("2018-01-10", Day(2018, 1, 10, "2018-01-10")),
      Lone("30 juni 2023", Day(2023, 6, 30, "2023-06-30")),
      Lone("1 januari 2024", Day(2024, 1, 1, "2024-01-01")),
      Lone("7 februari 2023", Day(2023, 2, 7, "2023-02-07")),
      // Years.
      Lone("2024", Year(2024, "2024-01-01", "2024-12-31")),
      Lone("2023", Year(2023, "2023-01-01", "2023-12-31")),
      // The open forms: a lone one is both start and end.
      Lone("snarast", Asap()),
      Lone("Löpande", Ongoing()),
      // Ranges.
      Range("Q4 2022-\nQ4 2023", Quarter(2022, 4, "2022-10-01", "2022-12-31"),
            Quarter(2023, 4, "2023-10-01", "2023-12-31")),
      Range("VT23-HT23", Term(2023, kVt, "2023-01-01", "2023-06-30"),
            Term(2023, kHt, "2023-07-01", "2023-12-31")),
      Range("HT23-\nHT24", Term(2023, kHt, "2023-07-01", "2023-12-31"),
            Term(2024, kHt, "2024-07-01", "2024-12-31")),
      Range("mars 2023 -\nmars 2024",
            Month(2023, 3, "2023-03-01", "2023-03-31"),
            Month(2024, 3, "2024-03-01", "2024-03-31")),
      Range("Start april\n2023 – slut\ndecember\n2023",
            Month(2023, 4, "2023-04-01", "2023-04-30"),
            Month(2023, 12, "2023-12-01", "2023-12-31")),
      Range("Start april\n2023 – slut\napril 2024",
            Month(2023, 4, "2023-04-01", "2023-04-30"),
            Month(2024, 4, "2024-04-01", "2024-04-30")),
      Range("Start augusti\n2023 – slut\ndecember\n2025",
            Month(2023, 8, "2023-08-01", "2023-08-31"),
            Month(2025, 12, "2025-12-01", "2025-12-31")),
      // A hyphen between two months, one of them capitalised.
      Range("Maj 2023-\nnovember\n2024",
            Month(2023, 5, "2023-05-01", "2023-05-31"),
            Month(2024, 11, "2024-11-01", "2024-11-30")),
      // Four digits after a hyphen are a year, not a month.
      Range("2023-2024", Year(2023, "2023-01-01", "2023-12-31"),
            Year(2024, "2024-01-01", "2024-12-31")),
      Range("2022 –\n2023", Year(2022, "2022-01-01", "2022-12-31"),
            Year(2023, "2023-01-01", "2023-12-31")),
      Range("2022– 2026", Year(2022, "2022-01-01", "2022-12-31"),
            Year(2026, "2026-01-01", "2026-12-31")),
      Range("2023 till\n2025", Year(2023, "2023-01-01", "2023-12-31"),
            Year(2025, "2025-01-01", "2025-12-31")),
      Range("hösten 2017 – hösten 2020",
            Term(2017, kHt, "2017-07-01", "2017-12-31"),
            Term(2020, kHt, "2020-07-01", "2020-12-31")),
      // A comma separates a start from a prefixed end.
      Range("Uppstart feb\n2023, klart\n2024.",
            Month(2023, 2, "2023-02-01", "2023-02-28"),
            Year(2024, "2024-01-01", "2024-12-31")),
      // Prefixes: the end only.
      Ends("Klart juni 2018.", Month(2018, 6, "2018-06-01", "2018-06-30")),
      Ends("Klart januari 2018", Month(2018, 1, "2018-01-01", "2018-01-31")),
      Ends("Klart till mars 2018.", Month(2018, 3, "2018-03-01", "2018-03-31")),
      Ends("Klart december 2017.", Month(2017, 12, "2017-12-01", "2017-12-31")),
      Ends("senast den 30\njuni 2023", Day(2023, 6, 30, "2023-06-30")),
      Ends("till och med september 2026",
           Month(2026, 9, "2026-09-01", "2026-09-30")),
      // Prefixes: the start only.
      Starts("fr.o.m. 1 januari 2023", Day(2023, 1, 1, "2023-01-01")),
      Starts("fr.o.m. hösten 2022",
             Term(2022, kHt, "2022-07-01", "2022-12-31")),
      Starts("Från och med höstterminen 2017",
             Term(2017, kHt, "2017-07-01", "2017-12-31")),
      Starts("from\nHT 23", Term(2023, kHt, "2023-07-01", "2023-12-31")),
      Starts("Önskad\nstart HT\n2023",
             Term(2023, kHt, "2023-07-01", "2023-12-31")),
      Starts("Påbörjas\n2023", Year(2023, "2023-01-01", "2023-12-31")),
      // What must not read.
      Bad("Pilot HT 23", "unexpected \"Pilot\""),
      Bad("Utvärderas januari 2019.", "unexpected \"Utvärderas\""),
      Bad("Start maj 2023\n–\nvidareutveckla\n2024",
          "unexpected \"vidareutveckla\""),
      Bad("Löpande, vid\nbehov och vid\ntillfälle.", "unexpected \"vid\""),
      Bad("Löpande, vid behov", "unexpected \"vid\""),
      Bad("HT23 och fullt", "unexpected \"och\""),
      // "första" could begin "första kvartalet 2018".
      Bad("Första steg\nHT23 och fullt\nimplementerat\n2024",
          "unexpected \"steg\""),
      Bad("Sjösättning maj\n2024.", "unexpected \"Sjösättning\""),
      Bad("Förbereds VT\n23", "unexpected \"Förbereds\""),
      Bad("Pågår hösten 2017 – hösten 2020", "unexpected \"Pågår\""),
      // Two dates of different kinds (done, evaluated) in one cell.
      Bad("Klart december 2017. Utvärderas september 2018.",
          "unexpected \".\""),
      // A slash could be an academic year or a range: not guessed.
      Bad("23/24", "unexpected \"/\""),
      Bad("2022/2023", "unexpected \"/\""),
      Bad("2023/2025", "unexpected \"/\""),
      // A registry reference is no date.
      Bad("V-2022-0218", "unexpected \"V\""),
      // Not from the seeds.
      Bad("Q5 2023", "quarter 5 is not 1-4"),
      Bad("31 februari 2024", "2024-02 has no day 31"),
      Bad("mars", "expected a year after \"mars\""),
      // A month needs four digits: "april 23" could be a day.
      Bad("april 23", "unexpected \"23\""),
      Bad("", "it is empty"),
      Bad("Klart", "expected a date after \"Klart\""),
      Bad("HT24-VT24",
          "the end \"VT24\" (until 2024-06-30) is before the "
          "start \"HT24\" (from 2024-07-01)"),
  };
}

class SeedTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(SeedTableTest, ReadsAsWritten) {
  const Row& row = GetParam();
  const absl::StatusOr<PlanRange> range = ParsePlanRange(row.input);
  if (!row.error.empty()) {
    ASSERT_FALSE(range.ok()) << "read as " << range->text;
    EXPECT_EQ(range.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(range.status().message()),
                HasSubstr("\"" + Collapsed(row.input) + "\""));
    EXPECT_THAT(std::string(range.status().message()), HasSubstr(row.error));
    return;
  }
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_EQ(range->text, Collapsed(row.input));
  ASSERT_EQ(range->start.has_value(), row.start.has_value());
  ASSERT_EQ(range->end.has_value(), row.end.has_value());
  if (row.start) {
    ExpectDate(*range->start, *row.start);
    ExpectRoundTrips(*range->start, range->text);
  }
  if (row.end) {
    ExpectDate(*range->end, *row.end);
    ExpectRoundTrips(*range->end, range->text);
  }
}

// A lone date reads the same as a PlanDate, keeping all it was written as;
// a prefix or a range is no PlanDate.
TEST_P(SeedTableTest, PlanDateReadsOnlyLoneDates) {
  const Row& row = GetParam();
  const absl::StatusOr<PlanDate> date = PlanDate::Parse(row.input);
  if (!row.lone) {
    ASSERT_FALSE(date.ok()) << "read as " << date->Canonical();
    EXPECT_EQ(date.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(date.status().message()),
                HasSubstr("\"" + Collapsed(row.input) + "\""));
    return;
  }
  ASSERT_TRUE(date.ok()) << date.status();
  ExpectDate(*date, *row.start);
  EXPECT_EQ(date->text(), Collapsed(row.input));
  const absl::StatusOr<PlanDate> again = PlanDate::Parse(date->text());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->text(), date->text());
  EXPECT_EQ(*again, *date);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SeedTableTest, ::testing::ValuesIn(SeedRows()));

TEST(SeedTable, HasAtLeastFortyRows) { EXPECT_GE(SeedRows().size(), 40u); }

// ---------------------------------------------------------------------------
// Every spelling Parse promises, beyond the seeds

PlanDate Parsed(absl::string_view text) {
  absl::StatusOr<PlanDate> date = PlanDate::Parse(text);
  EXPECT_TRUE(date.ok()) << date.status();
  return date.ok() ? *date : PlanDate::AsSoonAsPossible();
}

PlanDate Made(absl::StatusOr<PlanDate> date) {
  EXPECT_TRUE(date.ok()) << date.status();
  return date.ok() ? *date : PlanDate::AsSoonAsPossible();
}

struct Spelling {
  std::string text;
  std::string canonical;
};

TEST(PlanDateTest, ALongTextIsRefusedAndQuotedOnlyInPart) {
  // A query's date filter can carry megabytes: the error (and so every log
  // line that carries it) quotes 80 bytes, cut at a character's start.
  const std::string huge =
      std::string(79, 'x') + "\xc3\xa5" + std::string(5 << 20, 'y');
  absl::StatusOr<PlanDate> date = PlanDate::Parse(huge);
  ASSERT_FALSE(date.ok());
  EXPECT_LT(date.status().message().size(), 200u);
  EXPECT_THAT(date.status().message(),
              HasSubstr(absl::StrCat("\"", std::string(79, 'x'), "...\"")));
  EXPECT_THAT(date.status().message(), HasSubstr("at most 200"));
  absl::StatusOr<PlanRange> range = ParsePlanRange(huge);
  ASSERT_FALSE(range.ok());
  EXPECT_LT(range.status().message().size(), 300u);
}

TEST(PlanDateTest, ReadsEverySpelling) {
  const std::vector<Spelling> spellings = {
      {"2023-04-05", "2023-04-05"},
      {"5 april 2023", "2023-04-05"},
      {"2023-04", "2023-04"},
      {"april 2023", "2023-04"},
      {"feb 2023", "2023-02"},
      {"March 2024", "2024-03"},
      {"mars 2024", "2024-03"},
      {"sept. 2023", "2023-09"},
      {"Q4 2022", "2022-Q4"},
      {"Q1 2024", "2024-Q1"},
      {"2023 Q4", "2023-Q4"},
      {"2023-Q4", "2023-Q4"},
      {"Q4-2023", "2023-Q4"},
      {"q4 23", "2023-Q4"},
      {"HT23", "HT2023"},
      {"HT 23", "HT2023"},
      {"HT-23", "HT2023"},
      {"ht 2023", "HT2023"},
      {"VT 2024", "VT2024"},
      {"VT24", "VT2024"},
      {"hösten 2023", "HT2023"},
      {"våren 2024", "VT2024"},
      {"höstterminen 2017", "HT2017"},
      {"vårterminen 2018", "VT2018"},
      {"autumn 2023", "HT2023"},
      {"autumn term 2023", "HT2023"},
      {"fall 2023", "HT2023"},
      {"spring 2024", "VT2024"},
      {"spring term 2024", "VT2024"},
      {"fjärde kvartalet 2018", "2018-Q4"},
      {"2024", "2024"},
      {"snarast", "as soon as possible"},
      {"snarast möjligt", "as soon as possible"},
      {"asap", "as soon as possible"},
      {"as soon as possible", "as soon as possible"},
      {"löpande", "ongoing"},
      {"fortlöpande", "ongoing"},
      {"ongoing", "ongoing"},
      {"continuous", "ongoing"},
      {"HT2023,", "HT2023"},
  };
  for (const Spelling& s : spellings) {
    SCOPED_TRACE(s.text);
    EXPECT_EQ(Parsed(s.text).Canonical(), s.canonical);
    EXPECT_EQ(Parsed(s.text).text(), s.text);
  }
}

TEST(PlanDateTest, ReadsEveryMonthName) {
  const std::vector<std::vector<std::string>> names = {
      {"januari", "january", "jan"},
      {"februari", "february", "feb"},
      {"mars", "march", "mar"},
      {"april", "apr"},
      {"maj", "may"},
      {"juni", "june", "jun"},
      {"juli", "july", "jul"},
      {"augusti", "august", "aug"},
      {"september", "sept", "sep"},
      {"oktober", "october", "okt", "oct"},
      {"november", "nov"},
      {"december", "dec"},
  };
  for (int month = 1; month <= 12; ++month) {
    for (const std::string& name : names[month - 1]) {
      SCOPED_TRACE(name);
      const PlanDate date = Parsed(name + " 2023");
      EXPECT_EQ(date.precision(), P::kMonth);
      EXPECT_EQ(date.month(), month);
    }
  }
}

TEST(PlanDateTest, IgnoresCaseAlsoOfSwedishLetters) {
  EXPECT_EQ(Parsed("LÖPANDE"), PlanDate::Ongoing());
  EXPECT_EQ(Parsed("Löpande"), PlanDate::Ongoing());
  EXPECT_EQ(Parsed("FORTLÖPANDE"), PlanDate::Ongoing());
  EXPECT_EQ(Parsed("Hösten 2023"), Made(PlanDate::OfTerm(2023, kHt)));
  EXPECT_EQ(Parsed("HÖSTTERMINEN 2023"), Made(PlanDate::OfTerm(2023, kHt)));
  EXPECT_EQ(Parsed("Våren 2024"), Made(PlanDate::OfTerm(2024, kVt)));
  EXPECT_EQ(Parsed("VÅREN 2024"), Made(PlanDate::OfTerm(2024, kVt)));
  EXPECT_EQ(Parsed("hT23"), Made(PlanDate::OfTerm(2023, kHt)));
  EXPECT_EQ(Parsed("APRIL 2023"), Made(PlanDate::Month(2023, 4)));
  EXPECT_EQ(Parsed("SNARAST"), PlanDate::AsSoonAsPossible());
}

TEST(PlanDateTest, TextKeepsTheWritingAndCollapsesWhitespace) {
  EXPECT_EQ(Parsed("HT 23").text(), "HT 23");
  EXPECT_EQ(Parsed("HT 23").Canonical(), "HT2023");
  EXPECT_EQ(Parsed("  april \n\t 2023 ").text(), "april 2023");
}

TEST(PlanDateTest, FactoryTextIsCanonical) {
  EXPECT_EQ(Made(PlanDate::Day(2023, 4, 5)).text(), "2023-04-05");
  EXPECT_EQ(Made(PlanDate::Month(2023, 4)).text(), "2023-04");
  EXPECT_EQ(Made(PlanDate::Quarter(2023, 4)).text(), "2023-Q4");
  EXPECT_EQ(Made(PlanDate::OfTerm(2023, kHt)).text(), "HT2023");
  EXPECT_EQ(Made(PlanDate::OfTerm(2024, kVt)).text(), "VT2024");
  EXPECT_EQ(Made(PlanDate::Year(2024)).text(), "2024");
  EXPECT_EQ(PlanDate::AsSoonAsPossible().text(), "as soon as possible");
  EXPECT_EQ(PlanDate::Ongoing().text(), "ongoing");
}

TEST(PlanDateTest, EqualityIsThePeriodNotTheText) {
  EXPECT_EQ(Parsed("HT 23"), Parsed("höstterminen 2023"));
  EXPECT_EQ(Parsed("HT 23"), Made(PlanDate::OfTerm(2023, kHt)));
  EXPECT_FALSE(Parsed("HT23") == Parsed("december 2023"));
  EXPECT_FALSE(Parsed("2023-Q4") == Parsed("HT23"));
  EXPECT_FALSE(Parsed("2023") == Parsed("2023-01"));
}

TEST(PlanDateTest, TwoDigitYearsAreThisCenturyAndYearsAreBounded) {
  EXPECT_EQ(Parsed("HT99").year(), 2099);
  EXPECT_EQ(Parsed("VT00").year(), 2000);
  EXPECT_EQ(Parsed("1900").year(), 1900);
  EXPECT_EQ(Parsed("2199").year(), 2199);
  for (const char* text : {"1899", "2200", "1899-12", "Q1 2200"}) {
    const absl::StatusOr<PlanDate> date = PlanDate::Parse(text);
    ASSERT_FALSE(date.ok()) << text;
    EXPECT_THAT(std::string(date.status().message()),
                HasSubstr("is outside 1900-2199"));
  }
}

TEST(PlanDateTest, KnowsLeapYears) {
  EXPECT_EQ(Iso(Parsed("29 februari 2024").last_day()), "2024-02-29");
  EXPECT_EQ(Iso(Parsed("februari 2024").last_day()), "2024-02-29");
  EXPECT_EQ(Iso(Parsed("februari 2023").last_day()), "2023-02-28");
  EXPECT_FALSE(PlanDate::Parse("29 februari 2023").ok());
}

TEST(PlanDateTest, ErrorsQuoteTheInputAndNameWhatWasUnexpected) {
  const absl::StatusOr<PlanDate> date = PlanDate::Parse("Pilot HT 23");
  ASSERT_FALSE(date.ok());
  EXPECT_EQ(date.status(),
            absl::InvalidArgumentError("cannot read \"Pilot HT 23\" as a plan "
                                       "date: unexpected \"Pilot\""));
  for (const char* text :
       {"2023-4-5", "2023 04", "Q 2023", "HT", "Q4", "xyz", "2023-04-05-",
        "12345", "5 maj", "2023-13", "2023-04-31", "\x01HT23"}) {
    const absl::StatusOr<PlanDate> bad = PlanDate::Parse(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  }
  const absl::StatusOr<PlanDate> control = PlanDate::Parse("\x01HT23");
  ASSERT_FALSE(control.ok());
  EXPECT_THAT(std::string(control.status().message()),
              HasSubstr("\"\\x01HT23\""));
}

// ---------------------------------------------------------------------------
// Ranges, beyond the seeds

struct RangeCase {
  std::string text;
  std::string start;  // Canonical(), "" when unset
  std::string end;
};

TEST(PlanRangeTest, ReadsEverySeparatorAndPrefix) {
  const std::vector<RangeCase> cases = {
      {"2023-04-05 - 2023-06-30", "2023-04-05", "2023-06-30"},
      {"2023-04-05-2023-06-30", "2023-04-05", "2023-06-30"},
      {"2023-04-2023-06", "2023-04", "2023-06"},
      {"2023-Q4-2024-Q1", "2023-Q4", "2024-Q1"},
      {"Q4-2023-Q4-2024", "2023-Q4", "2024-Q4"},
      {"HT-23-VT-24", "HT2023", "VT2024"},
      {"april 2023 to june 2023", "2023-04", "2023-06"},
      {"HT23 — VT24", "HT2023", "VT2024"},
      {"HT23–VT24", "HT2023", "VT2024"},
      {"from Q4 2022 until Q4 2023", "2022-Q4", "2023-Q4"},
      {"start HT23 - end VT24", "HT2023", "VT2024"},
      {"snarast - 2024", "as soon as possible", "2024"},
      {"2023 - löpande", "2023", "ongoing"},
      {"snarast - löpande", "as soon as possible", "ongoing"},
      {"HT23-Q3 2023", "HT2023", "2023-Q3"},  // ends after it starts
      {"start 2024", "2024", ""},
      {"starta HT24", "HT2024", ""},
      {"fr.o.m. HT23", "HT2023", ""},
      {"Start april 2023 slut december 2023", "2023-04", "2023-12"},
      {"2023 till och med 2024", "2023", "2024"},
      {"by december 2023", "", "2023-12"},
      {"until 2024", "", "2024"},
      {"end Q1 2024", "", "2024-Q1"},
      {"slut 2025", "", "2025"},
      {"senast 15 maj 2023", "", "2023-05-15"},
      {"t.o.m. VT24", "", "VT2024"},
      {"fram till september 2026", "", "2026-09"},
      {"klart snarast", "", "as soon as possible"},
      {"2023-04", "2023-04", "2023-04"},
      {"2023-12", "2023-12", "2023-12"},
  };
  for (const RangeCase& c : cases) {
    SCOPED_TRACE(c.text);
    const absl::StatusOr<PlanRange> range = ParsePlanRange(c.text);
    ASSERT_TRUE(range.ok()) << range.status();
    EXPECT_EQ(range->text, c.text);
    EXPECT_EQ(range->start ? range->start->Canonical() : "", c.start);
    EXPECT_EQ(range->end ? range->end->Canonical() : "", c.end);
  }
}

TEST(PlanRangeTest, SidesKeepTheirOwnWriting) {
  const absl::StatusOr<PlanRange> range =
      ParsePlanRange("Start april 2023 – slut december 2023");
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_EQ(range->start->text(), "april 2023");
  EXPECT_EQ(range->end->text(), "december 2023");
  const absl::StatusOr<PlanRange> lone = ParsePlanRange("  HT \n 23 ");
  ASSERT_TRUE(lone.ok()) << lone.status();
  EXPECT_EQ(lone->text, "HT 23");
  EXPECT_EQ(lone->start->text(), "HT 23");
  EXPECT_EQ(lone->end->text(), "HT 23");
}

TEST(PlanRangeTest, RefusesRangesThatEndBeforeTheyStart) {
  for (const char* text :
       {"HT24-VT24", "2024 - 2023", "2023-04-06 - 2023-04-05", "löpande - 2024",
        "2024 - snarast", "löpande - snarast"}) {
    const absl::StatusOr<PlanRange> range = ParsePlanRange(text);
    ASSERT_FALSE(range.ok()) << text;
    EXPECT_EQ(range.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(range.status().message()),
                HasSubstr("is before the start"));
  }
  // A range inside one period is fine: its end is not before its start.
  EXPECT_TRUE(ParsePlanRange("2023-04-05 - 2023-04-05").ok());
}

TEST(PlanRangeTest, RefusesMisplacedPrefixesAndSeparators) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"slut 2023 - start 2024", "\"slut\" cannot begin a range"},
      {"2023 - start 2024", "\"start\" cannot end a range"},
      {"HT23, HT24", "a \",\" separates a start only from an end"},
      {"HT23 -", "unexpected \"-\""},
      {"- HT23", "unexpected \"-\""},
      {"HT23 - - HT24", "unexpected \"-\""},
      {"2023 - 2024 - 2025", "unexpected \"-\""},
      {"start", "expected a date after \"start\""},
  };
  for (const auto& [text, why] : cases) {
    const absl::StatusOr<PlanRange> range = ParsePlanRange(text);
    ASSERT_FALSE(range.ok()) << text;
    EXPECT_THAT(std::string(range.status().message()), HasSubstr(why)) << text;
  }
}

// ---------------------------------------------------------------------------
// Ordering by end

TEST(CompareByEndTest, OrdersByTheLastDay) {
  EXPECT_LT(CompareByEnd(Parsed("Q4 2022"), Parsed("HT23")), 0);
  EXPECT_GT(CompareByEnd(Parsed("HT23"), Parsed("Q4 2022")), 0);
  // Both end on 2023-12-31.
  EXPECT_EQ(CompareByEnd(Parsed("HT23"), Parsed("december 2023")), 0);
  EXPECT_EQ(CompareByEnd(Parsed("HT23"), Parsed("2023")), 0);
  EXPECT_EQ(CompareByEnd(Parsed("Q4 2023"), Parsed("31 december 2023")), 0);
  // VT24 ends 2024-06-30, Q1 2024 on 2024-03-31.
  EXPECT_GT(CompareByEnd(Parsed("VT24"), Parsed("Q1 2024")), 0);
  EXPECT_LT(CompareByEnd(Parsed("30 juni 2023"), Parsed("juli 2023")), 0);
  EXPECT_EQ(CompareByEnd(Parsed("30 juni 2023"), Parsed("VT23")), 0);
}

TEST(CompareByEndTest, OpenFormsSortFirstAndLast) {
  const PlanDate asap = Parsed("snarast");
  const PlanDate ongoing = Parsed("Löpande");
  for (const char* text : {"1900", "2023-04-05", "HT23", "2199"}) {
    const PlanDate dated = Parsed(text);
    EXPECT_LT(CompareByEnd(asap, dated), 0) << text;
    EXPECT_GT(CompareByEnd(dated, asap), 0) << text;
    EXPECT_GT(CompareByEnd(ongoing, dated), 0) << text;
    EXPECT_LT(CompareByEnd(dated, ongoing), 0) << text;
  }
  EXPECT_LT(CompareByEnd(asap, ongoing), 0);
  EXPECT_EQ(CompareByEnd(asap, PlanDate::AsSoonAsPossible()), 0);
  EXPECT_EQ(CompareByEnd(ongoing, PlanDate::Ongoing()), 0);
}

// ---------------------------------------------------------------------------
// Factories

TEST(PlanDateFactoryTest, Validates) {
  EXPECT_FALSE(PlanDate::Day(2023, 2, 29).ok());
  EXPECT_TRUE(PlanDate::Day(2024, 2, 29).ok());
  EXPECT_FALSE(PlanDate::Day(2023, 4, 31).ok());
  EXPECT_FALSE(PlanDate::Day(2023, 4, 0).ok());
  EXPECT_FALSE(PlanDate::Day(2023, 13, 1).ok());
  EXPECT_FALSE(PlanDate::Month(2023, 0).ok());
  EXPECT_FALSE(PlanDate::Month(2023, 13).ok());
  EXPECT_FALSE(PlanDate::Quarter(2023, 0).ok());
  EXPECT_FALSE(PlanDate::Quarter(2023, 5).ok());
  EXPECT_FALSE(PlanDate::OfTerm(1899, kHt).ok());
  EXPECT_FALSE(PlanDate::OfTerm(2023, static_cast<T>(7)).ok());
  EXPECT_FALSE(PlanDate::Year(2200).ok());
  EXPECT_EQ(PlanDate::Quarter(2023, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PlanDateFactoryTest, FieldsAndPeriods) {
  ExpectDate(Made(PlanDate::Day(2023, 4, 5)), Day(2023, 4, 5, "2023-04-05"));
  ExpectDate(Made(PlanDate::Month(2024, 2)),
             Month(2024, 2, "2024-02-01", "2024-02-29"));
  ExpectDate(Made(PlanDate::Quarter(2023, 2)),
             Quarter(2023, 2, "2023-04-01", "2023-06-30"));
  ExpectDate(Made(PlanDate::Quarter(2023, 3)),
             Quarter(2023, 3, "2023-07-01", "2023-09-30"));
  ExpectDate(Made(PlanDate::OfTerm(2024, kVt)),
             Term(2024, kVt, "2024-01-01", "2024-06-30"));
  ExpectDate(Made(PlanDate::Year(2025)),
             Year(2025, "2025-01-01", "2025-12-31"));
  ExpectDate(PlanDate::AsSoonAsPossible(), Asap());
  ExpectDate(PlanDate::Ongoing(), Ongoing());
}

}  // namespace
}  // namespace plantrail::domain
