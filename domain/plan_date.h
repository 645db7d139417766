// Plan dates as development plans write them: loosely.
//
// A plan says "HT23", "VT 2024", "Q4 2022", "april 2023", "2023-04-05",
// "2024", "snarast" or "Löpande". A PlanDate keeps what was written (text())
// and the period it names, at the precision it was written with: a day, a
// month, a quarter, a term, a year, or one of the two open forms "as soon as
// possible" and "ongoing", which name no period.
//
// Periods:
// - a day is itself; a month is its calendar month; quarters are Q1 =
//   January-March, Q2 = April-June, Q3 = July-September, Q4 =
//   October-December; a year is its calendar year.
// - Terms are a deliberate simplification of the academic terms: VT
//   (vårtermin, spring) is 1 January-30 June and HT (hösttermin, autumn) is
//   1 July-31 December of its year. So "HT23" ends on the same day as
//   "december 2023", and every day of a year is in exactly one of its terms.
// - Years are 1900-2199. Two-digit years mean 20YY and are read only after a
//   term or a quarter ("HT23", "Q4 23"); months, days and bare years need four
//   digits ("april 2023", "2024"), because "april 23" could be a day.
//
// What Parse reads (case-insensitive, Swedish and English, surrounding
// whitespace and one trailing "." or "," ignored):
//   day      2023-04-05 | 5 april 2023 | den 30 juni 2023
//   month    2023-04 | april 2023 | feb 2023 | March 2024
//            month names: januari/january/jan, februari/february/feb,
//            mars/march/mar, april/apr, maj/may, juni/june/jun,
//            juli/july/jul, augusti/august/aug, september/sept/sep,
//            oktober/october/okt/oct, november/nov, december/dec
//            (an abbreviation may end in ".")
//   quarter  Q4 2022 | Q4-2023 | Q4 23 | 2023 Q4 | 2023-Q4 |
//            första/andra/tredje/fjärde kvartalet 2018
//   term     HT23 | HT 23 | HT-23 | VT 2024 | hösten 2023 | våren 2024 |
//            höstterminen 2017 | vårterminen 2018 | autumn 2023 |
//            autumn term 2023 | fall 2023 | spring 2024
//   year     2024
//   open     snarast | snarast möjligt | asap | as soon as possible
//            löpande | fortlöpande | ongoing | continuous
//
// Errors are absl::InvalidArgumentError quoting the input (whitespace
// normalised as in text()) and saying what could not be read, e.g.
//   cannot read "Pilot HT 23" as a plan date: unexpected "Pilot"
// Nothing here throws.
//
// Thread safety: PlanDate and PlanRange are value types, copyable and
// immutable once built; they are thread-compatible (const access from many
// threads is safe). The functions are pure.
#ifndef PLANTRAIL_DOMAIN_PLAN_DATE_H_
#define PLANTRAIL_DOMAIN_PLAN_DATE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace plantrail::domain {

struct PlanRange;

class PlanDate {
 public:
  enum class Precision {
    kDay,
    kMonth,
    kQuarter,
    kTerm,
    kYear,
    kAsSoonAsPossible,
    kOngoing
  };
  enum class Term { kSpring, kAutumn };  // VT (vårtermin) / HT (hösttermin)

  // The longest text (spaces collapsed) Parse reads: every date form the
  // plans write is far shorter, and a parse error quotes at most 80 bytes.
  static constexpr size_t kMaxTextBytes = 200;

  // Reads one date (see the grammar above); a range or a prefix such as
  // "klart" is an error here: ParsePlanRange reads those.
  static absl::StatusOr<PlanDate> Parse(absl::string_view text);

  // Factories validate their fields (year 1900-2199, month 1-12, a day of
  // that month, quarter 1-4) and fail with InvalidArgument otherwise. Their
  // text() is Canonical().
  static absl::StatusOr<PlanDate> Day(int year, int month, int day);
  static absl::StatusOr<PlanDate> Month(int year, int month);
  static absl::StatusOr<PlanDate> Quarter(int year, int quarter);
  static absl::StatusOr<PlanDate> OfTerm(int year, Term term);
  static absl::StatusOr<PlanDate> Year(int year);
  static PlanDate AsSoonAsPossible();
  static PlanDate Ongoing();

  Precision precision() const { return precision_; }
  // 0 for the open forms.
  int year() const { return year_; }
  // kDay and kMonth only; 0 otherwise.
  int month() const { return month_; }
  // kDay only; 0 otherwise.
  int day() const { return day_; }
  // kQuarter only (1-4); 0 otherwise.
  int quarter() const { return quarter_; }
  // Meaningful for kTerm only; Term{} (kSpring) otherwise, so check
  // precision() first.
  Term term() const { return term_; }

  // The period's first and last civil day; nullopt for the open forms.
  std::optional<absl::CivilDay> first_day() const;
  std::optional<absl::CivilDay> last_day() const;

  // As written: the parsed text with surrounding whitespace trimmed and inner
  // runs of whitespace collapsed to one space ("HT 23" stays "HT 23"). For a
  // date built by a factory, its Canonical().
  const std::string& text() const { return text_; }

  // One spelling per period: "2023-04-05", "2023-04", "2023-Q4", "HT2023",
  // "VT2024", "2024", "as soon as possible", "ongoing". Parse(Canonical())
  // gives the same period.
  std::string Canonical() const;

  // Same period (precision and fields); text() is presentation and ignored.
  friend bool operator==(const PlanDate& a, const PlanDate& b);

 private:
  PlanDate(Precision precision, int year, int month, int day, int quarter,
           Term term);
  // The first and last month of a month, quarter, term or year.
  int FirstMonth() const;
  int LastMonth() const;
  // `date` with `text` as its written form.
  static PlanDate Written(PlanDate date, absl::string_view text);
  friend absl::StatusOr<PlanRange> ParsePlanRange(absl::string_view text);

  Precision precision_;
  int year_ = 0;
  int month_ = 0;
  int day_ = 0;
  int quarter_ = 0;
  Term term_ = Term::kSpring;
  std::string text_;
};

// Orders by the period's end (last_day): <0, 0, >0. "As soon as possible"
// sorts before every dated period, "ongoing" after every one; two dates of
// the same open form compare equal. Periods that end on the same day compare
// equal ("HT23" and "december 2023").
int CompareByEnd(const PlanDate& a, const PlanDate& b);

// A planned start and/or end as one text gives them: the "planned start/end"
// cell of a plan. At least one of start and end is set.
struct PlanRange {
  std::optional<PlanDate> start;
  std::optional<PlanDate> end;
  // As written, normalised like PlanDate::text(). The dates' own text() is
  // the part of it that spells each date ("april 2023" in "Start april 2023 -
  // slut december 2023").
  std::string text;
};

// Reads a planned start and/or end. The rules:
//
// - A lone date without a prefix is both the start and the end: the work is
//   planned to happen within that period ("HT23": starts no earlier than
//   2023-07-01, done by 2023-12-31). The open forms follow the same rule:
//   "snarast" starts and ends as soon as possible (so it sorts first by end),
//   "Löpande" starts and ends "ongoing" (so it sorts last).
// - A prefix makes a lone date only the end: "klart", "klart till", "klar",
//   "slut", "senast", "till och med", "t.o.m.", "fram till", "fram till och
//   med", "by", "until", "end"; or only the start: "start", "starta",
//   "startar", "startas", "uppstart", "önskad start", "påbörjas", "från",
//   "från och med", "fr.o.m.", "from". ("Klart juni 2018": end June 2018.)
// - A range is "<start> <sep> <end>" where <sep> is "-", "–" (en dash), "—"
//   (em dash), "to" or "till" ("Q4 2022-Q4 2023", "VT23-HT23",
//   "mars 2023 - mars 2024", "2023 till 2025"). Each side may carry a prefix
//   of its own kind ("Start april 2023 – slut december 2023"). An end prefix
//   also separates on its own ("from Q4 2022 until Q4 2023"), and a ","
//   separates a start from an end only when the end has an end prefix
//   ("Uppstart feb 2023, klart 2024"). A dash inside a date is never a
//   separator ("2023-04-05", "2023-04", "2023-Q4", "HT-23", "Q4-2023"); four
//   digits after a dash are a year ("2023-2024" is a range of years).
// - A range must not end before it starts: the end's last day must not be
//   before the start's first day; an "ongoing" start needs an "ongoing" end
//   and an "as soon as possible" end needs an "as soon as possible" start.
//   Otherwise the error names both dates.
// - A text that reads as a range in more than one way is an error.
absl::StatusOr<PlanRange> ParsePlanRange(absl::string_view text);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_PLAN_DATE_H_
