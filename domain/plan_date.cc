// Reading plan dates: the text is normalised (whitespace), cut into tokens
// (words, numbers, dashes, commas), and the tokens are matched against the
// few shapes a date can have. Ranges are found by trying each separator token
// (and each end prefix) as the split point; exactly one split must read, and
// of the failed readings the one that got furthest explains the error.
#include "domain/plan_date.h"

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "domain/text.h"

namespace plantrail::domain {
namespace {

constexpr int kMinYear = 1900;
constexpr int kMaxYear = 2199;

absl::Status CheckYear(int year) {
  if (year >= kMinYear && year <= kMaxYear) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("year ", year, " is outside ", kMinYear, "-", kMaxYear));
}

absl::Status CheckMonth(int month) {
  if (month >= 1 && month <= 12) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("month ", month, " is not 1-12"));
}

// ---------------------------------------------------------------------------
// Text

// Length of the whitespace at text[i] (ASCII or U+00A0), or 0.
size_t SpaceLength(absl::string_view text, size_t i) {
  if (absl::ascii_isspace(static_cast<unsigned char>(text[i]))) return 1;
  if (text.substr(i, 2) == "\xc2\xa0") return 2;
  return 0;
}

// Trims, and collapses every run of whitespace to one space.
std::string Normalize(absl::string_view text) {
  std::string out;
  bool pending_space = false;
  for (size_t i = 0; i < text.size();) {
    if (const size_t n = SpaceLength(text, i); n > 0) {
      pending_space = !out.empty();
      i += n;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(text[i++]);
  }
  return out;
}

// `text` without one trailing "." or "," (and the space before it).
absl::string_view StripTrailingPunctuation(absl::string_view text) {
  if (!text.empty() && (text.back() == '.' || text.back() == ',')) {
    text.remove_suffix(1);
    if (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  }
  return text;
}

// Control characters in an error message are shown as \xNN; a long text is
// cut (at a character's start) after kMaxQuoted bytes, so that an error and
// the log lines that carry it never echo a megabyte someone sent.
constexpr size_t kMaxQuoted = 80;

std::string Quote(absl::string_view text) {
  std::string out = "\"";
  size_t end = std::min(text.size(), kMaxQuoted);
  while (end < text.size() && end > 0 &&
         (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) {
    --end;  // not inside a UTF-8 sequence
  }
  for (const char c : text.substr(0, end)) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", u);
    } else {
      out.push_back(c);
    }
  }
  if (end < text.size()) absl::StrAppend(&out, "...");
  out.push_back('"');
  return out;
}

absl::Status CannotRead(absl::string_view written, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot read ", Quote(written), " as a plan date: ", why));
}

// ---------------------------------------------------------------------------
// Tokens

struct Token {
  enum class Kind { kWord, kNumber, kDash, kComma, kOther };
  Kind kind;
  absl::string_view raw;  // as written, in the normalised text
  std::string lower;
  size_t offset;   // of raw in the normalised text
  bool spaced;     // whitespace before it
  int value = -1;  // kNumber of at most four digits

  size_t end() const { return offset + raw.size(); }
  bool IsWord(absl::string_view word) const {
    return kind == Kind::kWord && lower == word;
  }
  bool IsNumber(size_t digits) const {
    return kind == Kind::kNumber && raw.size() == digits;
  }
};

// Length of a dash at text[i]: "-", "–" (U+2013) or "—" (U+2014); or 0.
size_t DashLength(absl::string_view text, size_t i) {
  if (text[i] == '-') return 1;
  const absl::string_view three = text.substr(i, 3);
  return three == "\xe2\x80\x93" || three == "\xe2\x80\x94" ? 3 : 0;
}

// Letters are ASCII letters and every non-ASCII character but the dashes.
bool IsLetterAt(absl::string_view text, size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  return absl::ascii_isalpha(c) || (c >= 0x80 && DashLength(text, i) == 0);
}

// A word is a letter followed by letters and dots ("fr.o.m.", "sept.").
size_t TokenLength(absl::string_view text, size_t i) {
  if (const size_t dash = DashLength(text, i); dash > 0) return dash;
  size_t end = i + 1;
  if (absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
    while (end < text.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(text[end]))) {
      ++end;
    }
  } else if (IsLetterAt(text, i)) {
    while (end < text.size() && (text[end] == '.' || IsLetterAt(text, end))) {
      ++end;
    }
  }
  return end - i;
}

Token MakeToken(absl::string_view raw, size_t offset, bool spaced) {
  Token token{Token::Kind::kOther, raw, FoldCase(raw), offset, spaced};
  const unsigned char first = static_cast<unsigned char>(raw[0]);
  if (DashLength(raw, 0) == raw.size()) {
    token.kind = Token::Kind::kDash;
  } else if (absl::ascii_isdigit(first)) {
    token.kind = Token::Kind::kNumber;
    if (raw.size() <= 4) {
      token.value = 0;
      for (const char c : raw) token.value = token.value * 10 + (c - '0');
    }
  } else if (raw == ",") {
    token.kind = Token::Kind::kComma;
  } else if (IsLetterAt(raw, 0)) {
    token.kind = Token::Kind::kWord;
  }
  return token;
}

// `text` is normalised: its only whitespace is single spaces.
std::vector<Token> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  bool spaced = false;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == ' ') {
      spaced = true;
      ++i;
      continue;
    }
    const size_t length = TokenLength(text, i);
    tokens.push_back(MakeToken(text.substr(i, length), i, spaced));
    spaced = false;
    i += length;
  }
  return tokens;
}

using Tokens = std::span<const Token>;

// How many tokens at the front of `tokens` spell `phrase` (words separated by
// single spaces); 0 when they do not.
size_t MatchPhrase(Tokens tokens, absl::string_view phrase) {
  size_t n = 0;
  for (const absl::string_view word : absl::StrSplit(phrase, ' ')) {
    if (n == tokens.size() || !tokens[n].IsWord(word)) return 0;
    ++n;
  }
  return n;
}

// ---------------------------------------------------------------------------
// Vocabulary

struct NamedMonth {
  absl::string_view name;
  int month;
};
constexpr NamedMonth kMonths[] = {
    {"januari", 1},  {"january", 1},   {"jan", 1},       {"februari", 2},
    {"february", 2}, {"feb", 2},       {"mars", 3},      {"march", 3},
    {"mar", 3},      {"april", 4},     {"apr", 4},       {"maj", 5},
    {"may", 5},      {"juni", 6},      {"june", 6},      {"jun", 6},
    {"juli", 7},     {"july", 7},      {"jul", 7},       {"augusti", 8},
    {"august", 8},   {"aug", 8},       {"september", 9}, {"sept", 9},
    {"sep", 9},      {"oktober", 10},  {"october", 10},  {"okt", 10},
    {"oct", 10},     {"november", 11}, {"nov", 11},      {"december", 12},
    {"dec", 12},
};

std::optional<int> MonthNamed(const Token& token) {
  if (token.kind != Token::Kind::kWord) return std::nullopt;
  absl::string_view word = token.lower;
  if (word.size() > 1 && word.back() == '.') word.remove_suffix(1);
  for (const NamedMonth& m : kMonths) {
    if (m.name == word) return m.month;
  }
  return std::nullopt;
}

struct NamedTerm {
  absl::string_view phrase;
  PlanDate::Term term;
};
// Longer phrases first: "autumn term" before "autumn".
constexpr NamedTerm kTerms[] = {
    {"ht", PlanDate::Term::kAutumn},
    {"vt", PlanDate::Term::kSpring},
    {"höstterminen", PlanDate::Term::kAutumn},
    {"hösttermin", PlanDate::Term::kAutumn},
    {"hösten", PlanDate::Term::kAutumn},
    {"höst", PlanDate::Term::kAutumn},
    {"vårterminen", PlanDate::Term::kSpring},
    {"vårtermin", PlanDate::Term::kSpring},
    {"våren", PlanDate::Term::kSpring},
    {"vår", PlanDate::Term::kSpring},
    {"autumn term", PlanDate::Term::kAutumn},
    {"autumn", PlanDate::Term::kAutumn},
    {"fall term", PlanDate::Term::kAutumn},
    {"fall", PlanDate::Term::kAutumn},
    {"spring term", PlanDate::Term::kSpring},
    {"spring", PlanDate::Term::kSpring},
};

constexpr absl::string_view kQuarterOrdinals[] = {"första", "andra", "tredje",
                                                  "fjärde"};

struct OpenForm {
  absl::string_view phrase;
  PlanDate::Precision precision;
};
constexpr OpenForm kOpenForms[] = {
    {"snarast möjligt", PlanDate::Precision::kAsSoonAsPossible},
    {"snarast", PlanDate::Precision::kAsSoonAsPossible},
    {"asap", PlanDate::Precision::kAsSoonAsPossible},
    {"as soon as possible", PlanDate::Precision::kAsSoonAsPossible},
    {"löpande", PlanDate::Precision::kOngoing},
    {"fortlöpande", PlanDate::Precision::kOngoing},
    {"ongoing", PlanDate::Precision::kOngoing},
    {"continuous", PlanDate::Precision::kOngoing},
};

enum class Role { kBoth, kStart, kEnd };

struct Prefix {
  absl::string_view phrase;
  Role role;
};
// Longer phrases first: "klart till" before "klart".
constexpr Prefix kPrefixes[] = {
    {"klart till", Role::kEnd}, {"klart", Role::kEnd},
    {"klar", Role::kEnd},       {"slut", Role::kEnd},
    {"senast", Role::kEnd},     {"fram till och med", Role::kEnd},
    {"fram till", Role::kEnd},  {"till och med", Role::kEnd},
    {"t.o.m.", Role::kEnd},     {"by", Role::kEnd},
    {"until", Role::kEnd},      {"end", Role::kEnd},
    {"start", Role::kStart},    {"starta", Role::kStart},
    {"startar", Role::kStart},  {"startas", Role::kStart},
    {"uppstart", Role::kStart}, {"önskad start", Role::kStart},
    {"påbörjas", Role::kStart}, {"från och med", Role::kStart},
    {"från", Role::kStart},     {"fr.o.m.", Role::kStart},
    {"from", Role::kStart},
};

// ---------------------------------------------------------------------------
// One date

// Why a span of tokens is not what was wanted, and where (an offset in the
// normalised text). Of several failed readings the furthest is reported.
struct Failure {
  size_t at = 0;
  std::string why;
};

// Reads all of a span of tokens as one date.
class DateParser {
 public:
  // `end_at`: the offset just past the span, for "expected ... after".
  DateParser(Tokens tokens, size_t end_at) : tokens_(tokens), end_at_(end_at) {}

  std::optional<PlanDate> Parse() {
    std::optional<PlanDate> date = OpenOrDated();
    if (date && !Done()) return Unexpected(Next());
    return date;
  }
  const Failure& failure() const { return failure_; }

 private:
  bool Done() const { return pos_ == tokens_.size(); }
  const Token* Peek() const { return Done() ? nullptr : &tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_++]; }
  // A dash with no space on either side ("HT-23", "2023-04").
  bool NextIsTightDash() const {
    return !Done() && tokens_[pos_].kind == Token::Kind::kDash &&
           !tokens_[pos_].spaced && pos_ + 1 < tokens_.size() &&
           !tokens_[pos_ + 1].spaced;
  }

  std::nullopt_t Fail(size_t at, std::string why) {
    failure_ = {at, std::move(why)};
    return std::nullopt;
  }
  std::nullopt_t Unexpected(const Token& token) {
    return Fail(token.offset, absl::StrCat("unexpected ", Quote(token.raw)));
  }
  // The next token should be `what`: say what came instead.
  std::nullopt_t Expected(absl::string_view what) {
    if (!Done()) return Unexpected(*Peek());
    if (pos_ == 0) return Fail(end_at_, absl::StrCat("expected ", what));
    return Fail(end_at_, absl::StrCat("expected ", what, " after ",
                                      Quote(tokens_[pos_ - 1].raw)));
  }
  std::optional<PlanDate> Made(absl::StatusOr<PlanDate> made, size_t at) {
    if (!made.ok()) return Fail(at, std::string(made.status().message()));
    return *std::move(made);
  }

  std::optional<PlanDate> OpenOrDated() {
    for (const OpenForm& form : kOpenForms) {
      if (const size_t n = MatchPhrase(tokens_, form.phrase); n > 0) {
        pos_ = n;
        return form.precision == PlanDate::Precision::kOngoing
                   ? PlanDate::Ongoing()
                   : PlanDate::AsSoonAsPossible();
      }
    }
    return Dated();
  }

  std::optional<PlanDate> Dated() {
    const Token* first = Peek();
    if (first == nullptr) return Expected("a date");
    if (first->IsNumber(4)) return FromYear();
    if (first->kind == Token::Kind::kNumber || first->IsWord("den")) {
      return FromDay();
    }
    if (first->IsWord("q")) return FromQuarter();
    if (MonthNamed(*first)) return FromMonth();
    for (const absl::string_view ordinal : kQuarterOrdinals) {
      if (first->IsWord(ordinal)) return FromQuarterInWords();
    }
    for (const NamedTerm& term : kTerms) {
      if (const size_t n = MatchPhrase(tokens_.subspan(pos_), term.phrase)) {
        pos_ += n;
        return FromTerm(term.term, first->offset);
      }
    }
    return Unexpected(*first);
  }

  // 2024 | 2023-04 | 2023-04-05 | 2023 Q4 | 2023-Q4
  std::optional<PlanDate> FromYear() {
    const Token& year = Next();
    const bool dash = NextIsTightDash();
    if (dash) Next();
    const Token* next = Peek();
    if (next != nullptr && next->IsWord("q")) {
      Next();
      return QuarterOf(year.value, year.offset);
    }
    if (!dash) return Made(PlanDate::Year(year.value), year.offset);
    if (next == nullptr || !next->IsNumber(2)) return Expected("a month");
    const int month = Next().value;
    if (!NextIsTightDash()) {
      return Made(PlanDate::Month(year.value, month), year.offset);
    }
    Next();
    if (Done() || !Peek()->IsNumber(2)) return Expected("a day");
    return Made(PlanDate::Day(year.value, month, Next().value), year.offset);
  }

  // 5 april 2023 | den 30 juni 2023
  std::optional<PlanDate> FromDay() {
    const size_t at = Peek()->offset;
    if (Peek()->IsWord("den")) Next();
    if (Done() || Peek()->kind != Token::Kind::kNumber ||
        Peek()->raw.size() > 2) {
      return Expected("a day");
    }
    const int day = Next().value;
    std::optional<int> month;
    if (!Done()) month = MonthNamed(*Peek());
    if (!month) return Expected("a month");
    Next();
    const std::optional<int> year = TakeYear(/*two_digits=*/false);
    if (!year) return std::nullopt;
    return Made(PlanDate::Day(*year, *month, day), at);
  }

  // april 2023
  std::optional<PlanDate> FromMonth() {
    const Token& name = Next();
    const std::optional<int> year = TakeYear(/*two_digits=*/false);
    if (!year) return std::nullopt;
    return Made(PlanDate::Month(*year, *MonthNamed(name)), name.offset);
  }

  // Q4 2022 | Q4-2023 | Q4 23
  std::optional<PlanDate> FromQuarter() {
    const Token& q = Next();
    if (Done() || !Peek()->IsNumber(1)) return Expected("a quarter number");
    const int quarter = Next().value;
    if (NextIsTightDash()) Next();
    const std::optional<int> year = TakeYear(/*two_digits=*/true);
    if (!year) return std::nullopt;
    return Made(PlanDate::Quarter(*year, quarter), q.offset);
  }

  // After "2023 Q" or "2023-Q": the quarter's number.
  std::optional<PlanDate> QuarterOf(int year, size_t at) {
    if (Done() || !Peek()->IsNumber(1)) return Expected("a quarter number");
    return Made(PlanDate::Quarter(year, Next().value), at);
  }

  // första kvartalet 2018
  std::optional<PlanDate> FromQuarterInWords() {
    const Token& ordinal = Next();
    if (Done() || !(Peek()->IsWord("kvartalet") || Peek()->IsWord("kvartal"))) {
      return Expected("\"kvartalet\"");
    }
    Next();
    const std::optional<int> year = TakeYear(/*two_digits=*/false);
    if (!year) return std::nullopt;
    int quarter = 1;
    while (kQuarterOrdinals[quarter - 1] != ordinal.lower) ++quarter;
    return Made(PlanDate::Quarter(*year, quarter), ordinal.offset);
  }

  // After "HT", "hösten", "spring term", ...: [-] year.
  std::optional<PlanDate> FromTerm(PlanDate::Term term, size_t at) {
    if (NextIsTightDash()) Next();
    const std::optional<int> year = TakeYear(/*two_digits=*/true);
    if (!year) return std::nullopt;
    return Made(PlanDate::OfTerm(*year, term), at);
  }

  // Four digits, or (when allowed) two meaning 20YY.
  std::optional<int> TakeYear(bool two_digits) {
    if (!Done() && Peek()->IsNumber(4)) return Next().value;
    if (two_digits && !Done() && Peek()->IsNumber(2)) {
      return 2000 + Next().value;
    }
    return Expected("a year");
  }

  Tokens tokens_;
  size_t end_at_;
  size_t pos_ = 0;
  Failure failure_;
};

// ---------------------------------------------------------------------------
// Ranges

// One side of a range: a date with an optional prefix.
struct Side {
  std::optional<PlanDate> date;  // nullopt: failure says why
  Role role = Role::kBoth;
  absl::string_view prefix;   // as written; empty without one
  size_t prefix_at = 0;       // offset of the prefix
  absl::string_view written;  // the date's own tokens, as written
  Failure failure;
};

// The prefix at the front of `tokens` and its length in tokens; nullptr
// without one.
const Prefix* MatchPrefix(Tokens tokens, size_t& length) {
  for (const Prefix& prefix : kPrefixes) {
    length = MatchPhrase(tokens, prefix.phrase);
    if (length > 0) return &prefix;
  }
  return nullptr;
}

// Reads the prefix at the front of `tokens` into `side`; its token count.
size_t ReadPrefix(Tokens tokens, absl::string_view text, Side& side) {
  size_t n = 0;
  const Prefix* prefix = MatchPrefix(tokens, n);
  if (prefix == nullptr) return 0;
  side.role = prefix->role;
  side.prefix_at = tokens[0].offset;
  side.prefix =
      text.substr(side.prefix_at, tokens[n - 1].end() - side.prefix_at);
  return n;
}

// `end_at`: the offset just past `tokens`; `text`: the normalised text.
Side ReadSide(Tokens tokens, size_t end_at, absl::string_view text) {
  Side side;
  const Tokens rest = tokens.subspan(ReadPrefix(tokens, text, side));
  if (rest.empty()) {
    side.failure = {end_at,
                    absl::StrCat("expected a date after ", Quote(side.prefix))};
    return side;
  }
  DateParser parser(rest, end_at);
  side.date = parser.Parse();
  side.failure = parser.failure();
  if (side.date) {
    side.written = text.substr(rest.front().offset,
                               rest.back().end() - rest.front().offset);
  }
  return side;
}

bool IsSeparator(const Token& token) {
  return token.kind == Token::Kind::kDash ||
         token.kind == Token::Kind::kComma || token.IsWord("to") ||
         token.IsWord("till");
}

// Where a range may split: at a separator token, or just before an end
// prefix ("from Q4 2022 until Q4 2023"); `separator` is null for the latter.
struct Split {
  size_t start_end;  // start: tokens [0, start_end)
  size_t end_begin;  // end: tokens [end_begin, size)
  const Token* separator;
};

std::vector<Split> Splits(Tokens tokens) {
  std::vector<Split> splits;
  for (size_t i = 1; i < tokens.size(); ++i) {
    if (IsSeparator(tokens[i]) && i + 1 < tokens.size()) {
      splits.push_back({i, i + 1, &tokens[i]});
    }
    size_t n = 0;
    const Prefix* prefix = MatchPrefix(tokens.subspan(i), n);
    if (prefix != nullptr && prefix->role == Role::kEnd) {
      splits.push_back({i, i, nullptr});
    }
  }
  return splits;
}

// Why `start` and `end`, read either side of a split, are no range; nullopt
// when they are one. A reading that fails only on its prefixes or its comma
// got through all of the text, so its failure is placed at `text_end` and
// wins over failures part of the way.
std::optional<Failure> NotARange(const Side& start, const Token* separator,
                                 const Side& end, size_t text_end) {
  if (!start.date) return start.failure;
  if (!end.date) return end.failure;
  if (start.role == Role::kEnd) {
    return Failure{text_end,
                   absl::StrCat(Quote(start.prefix), " cannot begin a range")};
  }
  if (end.role == Role::kStart) {
    return Failure{text_end,
                   absl::StrCat(Quote(end.prefix), " cannot end a range")};
  }
  if (separator != nullptr && separator->kind == Token::Kind::kComma &&
      end.role != Role::kEnd) {
    return Failure{text_end,
                   "a \",\" separates a start only from an end with a prefix "
                   "such as \"klart\""};
  }
  return std::nullopt;
}

// Every way `tokens` reads as a start and an end; `furthest` keeps the
// furthest failure of the others.
std::vector<std::pair<Side, Side>> Readings(Tokens tokens,
                                            absl::string_view text,
                                            Failure& furthest) {
  std::vector<std::pair<Side, Side>> readings;
  for (const Split& split : Splits(tokens)) {
    const size_t start_end_at = tokens[split.start_end].offset;
    Side start = ReadSide(tokens.first(split.start_end), start_end_at, text);
    Side end = ReadSide(tokens.subspan(split.end_begin), text.size(), text);
    if (std::optional<Failure> no =
            NotARange(start, split.separator, end, text.size())) {
      if (no->at >= furthest.at) furthest = *std::move(no);
      continue;
    }
    readings.emplace_back(std::move(start), std::move(end));
  }
  return readings;
}

// 0 for "as soon as possible", 1 for a dated period, 2 for "ongoing".
int OpenRank(const PlanDate& date) {
  switch (date.precision()) {
    case PlanDate::Precision::kAsSoonAsPossible:
      return 0;
    case PlanDate::Precision::kOngoing:
      return 2;
    default:
      return 1;
  }
}

bool EndsBeforeItStarts(const PlanDate& start, const PlanDate& end) {
  if (OpenRank(start) == 1 && OpenRank(end) == 1) {
    return *end.last_day() < *start.first_day();
  }
  return OpenRank(end) < OpenRank(start);
}

// "VT24" (from 2024-01-01), with `day` where there is one.
std::string Named(const PlanDate& date, absl::string_view word,
                  std::optional<absl::CivilDay> day) {
  if (!day) return Quote(date.text());
  return absl::StrCat(Quote(date.text()), " (", word, " ",
                      absl::FormatCivilTime(*day), ")");
}

}  // namespace

// ---------------------------------------------------------------------------
// PlanDate

PlanDate::PlanDate(Precision precision, int year, int month, int day,
                   int quarter, Term term)
    : precision_(precision),
      year_(year),
      month_(month),
      day_(day),
      quarter_(quarter),
      term_(term) {
  text_ = Canonical();
}

PlanDate PlanDate::Written(PlanDate date, absl::string_view text) {
  date.text_ = std::string(text);
  return date;
}

absl::StatusOr<PlanDate> PlanDate::Parse(absl::string_view text) {
  const std::string written = Normalize(text);
  if (written.size() > kMaxTextBytes) {
    return CannotRead(
        written, absl::StrCat("it is ", written.size(), " bytes long, at most ",
                              kMaxTextBytes));
  }
  const absl::string_view body = StripTrailingPunctuation(written);
  const std::vector<Token> tokens = Tokenize(body);
  if (tokens.empty()) return CannotRead(written, "it is empty");
  DateParser parser(tokens, body.size());
  const std::optional<PlanDate> date = parser.Parse();
  if (!date) return CannotRead(written, parser.failure().why);
  return Written(*date, written);
}

absl::StatusOr<PlanDate> PlanDate::Day(int year, int month, int day) {
  if (absl::Status s = CheckYear(year); !s.ok()) return s;
  if (absl::Status s = CheckMonth(month); !s.ok()) return s;
  const absl::CivilDay civil(year, month, day);
  if (day < 1 || civil.month() != month || civil.day() != day) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%04d-%02d has no day %d", year, month, day));
  }
  return PlanDate(Precision::kDay, year, month, day, 0, Term{});
}

absl::StatusOr<PlanDate> PlanDate::Month(int year, int month) {
  if (absl::Status s = CheckYear(year); !s.ok()) return s;
  if (absl::Status s = CheckMonth(month); !s.ok()) return s;
  return PlanDate(Precision::kMonth, year, month, 0, 0, Term{});
}

absl::StatusOr<PlanDate> PlanDate::Quarter(int year, int quarter) {
  if (absl::Status s = CheckYear(year); !s.ok()) return s;
  if (quarter < 1 || quarter > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("quarter ", quarter, " is not 1-4"));
  }
  return PlanDate(Precision::kQuarter, year, 0, 0, quarter, Term{});
}

absl::StatusOr<PlanDate> PlanDate::OfTerm(int year, Term term) {
  if (absl::Status s = CheckYear(year); !s.ok()) return s;
  if (term != Term::kSpring && term != Term::kAutumn) {
    return absl::InvalidArgumentError(
        absl::StrCat("term ", static_cast<int>(term), " is not VT or HT"));
  }
  return PlanDate(Precision::kTerm, year, 0, 0, 0, term);
}

absl::StatusOr<PlanDate> PlanDate::Year(int year) {
  if (absl::Status s = CheckYear(year); !s.ok()) return s;
  return PlanDate(Precision::kYear, year, 0, 0, 0, Term{});
}

PlanDate PlanDate::AsSoonAsPossible() {
  return PlanDate(Precision::kAsSoonAsPossible, 0, 0, 0, 0, Term{});
}

PlanDate PlanDate::Ongoing() {
  return PlanDate(Precision::kOngoing, 0, 0, 0, 0, Term{});
}

int PlanDate::FirstMonth() const {
  switch (precision_) {
    case Precision::kDay:
    case Precision::kMonth:
      return month_;
    case Precision::kQuarter:
      return 3 * quarter_ - 2;
    case Precision::kTerm:
      return term_ == Term::kSpring ? 1 : 7;
    default:
      return 1;
  }
}

int PlanDate::LastMonth() const {
  switch (precision_) {
    case Precision::kDay:
    case Precision::kMonth:
      return month_;
    case Precision::kQuarter:
      return 3 * quarter_;
    case Precision::kTerm:
      return term_ == Term::kSpring ? 6 : 12;
    default:
      return 12;
  }
}

std::optional<absl::CivilDay> PlanDate::first_day() const {
  if (OpenRank(*this) != 1) return std::nullopt;
  return absl::CivilDay(year_, FirstMonth(),
                        precision_ == Precision::kDay ? day_ : 1);
}

std::optional<absl::CivilDay> PlanDate::last_day() const {
  if (OpenRank(*this) != 1) return std::nullopt;
  if (precision_ == Precision::kDay) {
    return absl::CivilDay(year_, month_, day_);
  }
  // The day before the first of the next month.
  return absl::CivilDay(absl::CivilMonth(year_, LastMonth()) + 1) - 1;
}

std::string PlanDate::Canonical() const {
  switch (precision_) {
    case Precision::kDay:
      return absl::StrFormat("%04d-%02d-%02d", year_, month_, day_);
    case Precision::kMonth:
      return absl::StrFormat("%04d-%02d", year_, month_);
    case Precision::kQuarter:
      return absl::StrFormat("%04d-Q%d", year_, quarter_);
    case Precision::kTerm:
      return absl::StrCat(term_ == Term::kSpring ? "VT" : "HT", year_);
    case Precision::kYear:
      return absl::StrCat(year_);
    case Precision::kAsSoonAsPossible:
      return "as soon as possible";
    case Precision::kOngoing:
      return "ongoing";
  }
  return "";
}

bool operator==(const PlanDate& a, const PlanDate& b) {
  return std::tie(a.precision_, a.year_, a.month_, a.day_, a.quarter_,
                  a.term_) ==
         std::tie(b.precision_, b.year_, b.month_, b.day_, b.quarter_, b.term_);
}

int CompareByEnd(const PlanDate& a, const PlanDate& b) {
  const int rank_a = OpenRank(a);
  const int rank_b = OpenRank(b);
  if (rank_a != rank_b) return rank_a < rank_b ? -1 : 1;
  if (rank_a != 1) return 0;
  const absl::CivilDay end_a = *a.last_day();
  const absl::CivilDay end_b = *b.last_day();
  if (end_a == end_b) return 0;
  return end_a < end_b ? -1 : 1;
}

// ---------------------------------------------------------------------------
// PlanRange

absl::StatusOr<PlanRange> ParsePlanRange(absl::string_view text) {
  const std::string written = Normalize(text);
  const absl::string_view body = StripTrailingPunctuation(written);
  const std::vector<Token> all = Tokenize(body);
  if (all.empty()) return CannotRead(written, "it is empty");
  const Tokens tokens(all);

  const Side whole = ReadSide(tokens, body.size(), body);
  if (whole.date) {
    const PlanDate date = PlanDate::Written(*whole.date, whole.written);
    PlanRange range{.text = written};
    if (whole.role != Role::kEnd) range.start = date;
    if (whole.role != Role::kStart) range.end = date;
    return range;
  }

  Failure furthest = whole.failure;
  const std::vector<std::pair<Side, Side>> readings =
      Readings(tokens, body, furthest);
  if (readings.empty()) return CannotRead(written, furthest.why);
  if (readings.size() > 1) {
    return CannotRead(written, "it reads as more than one range");
  }

  const PlanDate start =
      PlanDate::Written(*readings[0].first.date, readings[0].first.written);
  const PlanDate end =
      PlanDate::Written(*readings[0].second.date, readings[0].second.written);
  if (EndsBeforeItStarts(start, end)) {
    return CannotRead(
        written, absl::StrCat("the end ", Named(end, "until", end.last_day()),
                              " is before the start ",
                              Named(start, "from", start.first_day())));
  }
  return PlanRange{.start = start, .end = end, .text = written};
}

}  // namespace plantrail::domain
