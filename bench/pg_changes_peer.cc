// The peer for bench/changes: PostgreSQL answering GetChanges' question
// ("which areas changed between two days, from what to what") over the
// same history as changes_bench (10,000 areas of 100 events, recorded 86 s
// apart, reports speaking for three days before they are recorded, a
// schedule revision every tenth round), done the way a careful schema would
// do it: a row per area event holding the area's state after it, keyed
// (area, position), with indexes by recorded day and by (area, business
// day). An answer takes, per area, its last row before the window and its
// last row by the window's end (one index seek each, LATERAL), and returns
// the areas whose two rows differ, both states in each row: the same seeks
// plantrail's changes projection makes. Prints one JSON object per window.
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace {

// changes_bench's history, generated in the database. Position p (from 1)
// is round (p - 1) / areas of area (p - 1) % areas; recorded at the first
// day plus 86 s per position; a report speaks for three days before the
// time of the position before it (changes_bench dates it from its clock
// before the append that records it). Phase 2 planned, 3 in progress; health 1 on
// track, 2 at risk, 4 unknown.
constexpr char kSchema[] = R"sql(
DROP TABLE IF EXISTS area_steps;
DROP TABLE IF EXISTS areas;
CREATE TABLE areas (area int PRIMARY KEY);
INSERT INTO areas SELECT generate_series(0, $areas - 1);
CREATE TABLE area_steps (
  area int NOT NULL,
  position bigint NOT NULL,
  recorded_day date NOT NULL,
  business_day date NOT NULL,
  phase smallint NOT NULL,
  health smallint NOT NULL,
  planned_end int NOT NULL,
  baseline_end int NOT NULL,
  reports int NOT NULL,
  PRIMARY KEY (area, position)
);
INSERT INTO area_steps
SELECT area, position, recorded_day,
       CASE WHEN round = 0 THEN date '0001-01-01'
            WHEN round % 10 = 0 THEN recorded_day
            ELSE reported_from - 3 END,
       CASE WHEN round = 0 THEN 2 ELSE 3 END,
       CASE WHEN round = 0 THEN 4
            WHEN (area + round - (CASE WHEN round % 10 = 0 THEN 1 ELSE 0 END)) % 5 = 0
              THEN 2 ELSE 1 END,
       2025 + round / 10, 2025, round - round / 10
FROM (SELECT area, round, round::bigint * $areas + area + 1 AS position,
             (timestamp '$first' + ((round::bigint * $areas + area + 1) * 86)
                * interval '1 second')::date AS recorded_day,
             (timestamp '$first' + ((round::bigint * $areas + area) * 86)
                * interval '1 second')::date AS reported_from
      FROM generate_series(0, $areas - 1) AS area,
           generate_series(0, $rounds - 1) AS round) AS history;
CREATE INDEX area_steps_by_day ON area_steps (recorded_day, position);
CREATE INDEX area_steps_by_business_day
  ON area_steps (area, business_day, position);
ANALYZE area_steps;
ANALYZE areas;
)sql";

// $1 since, $2 until (days, inclusive). By recorded time the ends are
// prefixes of the log: cut positions first, then each area's last row up
// to each.
constexpr char kRecorded[] = R"sql(
WITH cuts AS (
  SELECT coalesce((SELECT position FROM area_steps WHERE recorded_day < $1
                   ORDER BY recorded_day DESC, position DESC LIMIT 1), 0)
           AS start_cut,
         coalesce((SELECT position FROM area_steps WHERE recorded_day <= $2
                   ORDER BY recorded_day DESC, position DESC LIMIT 1), 0)
           AS end_cut)
SELECT a.area, s.phase, s.health, s.planned_end, s.reports,
       e.phase, e.health, e.planned_end, e.baseline_end, e.reports
FROM areas a CROSS JOIN cuts
CROSS JOIN LATERAL (
  SELECT * FROM area_steps x WHERE x.area = a.area AND x.position <= cuts.end_cut
  ORDER BY x.position DESC LIMIT 1) e
LEFT JOIN LATERAL (
  SELECT * FROM area_steps x
  WHERE x.area = a.area AND x.position <= cuts.start_cut
  ORDER BY x.position DESC LIMIT 1) s ON true
WHERE s.position IS DISTINCT FROM e.position
)sql";

// By business date, for areas whose events came in the order of their
// business days (all of them here, as in plantrail's fast path).
constexpr char kBusiness[] = R"sql(
SELECT a.area, s.phase, s.health, s.planned_end, s.reports,
       e.phase, e.health, e.planned_end, e.baseline_end, e.reports
FROM areas a
CROSS JOIN LATERAL (
  SELECT * FROM area_steps x WHERE x.area = a.area AND x.business_day <= $2
  ORDER BY x.business_day DESC, x.position DESC LIMIT 1) e
LEFT JOIN LATERAL (
  SELECT * FROM area_steps x WHERE x.area = a.area AND x.business_day < $1
  ORDER BY x.business_day DESC, x.position DESC LIMIT 1) s ON true
WHERE s.position IS DISTINCT FROM e.position
)sql";

PGconn* connection = nullptr;

void Fail(const std::string& what) {
  std::cerr << "pg_changes_peer: " << what << ": "
            << PQerrorMessage(connection);
  std::exit(1);
}

std::string Replace(std::string text, const std::string& from,
                    const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::string conninfo;
  int areas = 10000, rounds = 100;
  double min_seconds = 0.5;
  CLI::App app{"pg_changes_peer: PostgreSQL answering what changed"};
  app.add_option("--conninfo", conninfo)->required();
  app.add_option("--areas", areas);
  app.add_option("--rounds", rounds);
  app.add_option("--min-seconds", min_seconds,
                 "Repeat each window at least this long");
  CLI11_PARSE(app, argc, argv);

  connection = PQconnectdb(conninfo.c_str());
  if (PQstatus(connection) != CONNECTION_OK) Fail("connect");
  const absl::CivilDay first_day(2022, 1, 1);  // changes_bench's
  std::string schema = Replace(kSchema, "$areas", absl::StrCat(areas));
  schema = Replace(schema, "$rounds", absl::StrCat(rounds));
  schema = Replace(schema, "$first", absl::FormatCivilTime(first_day));
  const absl::Time load_start = absl::Now();
  PGresult* loaded = PQexec(connection, schema.c_str());
  if (PQresultStatus(loaded) != PGRES_COMMAND_OK) Fail("load");
  PQclear(loaded);
  const double load_seconds = absl::ToDoubleSeconds(absl::Now() - load_start);
  const absl::CivilDay last_day = absl::ToCivilDay(
      absl::FromCivil(first_day, absl::UTCTimeZone()) +
          absl::Seconds(86) * static_cast<double>(int64_t{areas} * rounds),
      absl::UTCTimeZone());
  for (const auto& [name, sql] :
       {std::pair{"recorded", kRecorded}, std::pair{"business", kBusiness}}) {
    PGresult* prepared = PQprepare(connection, name, sql, 2, nullptr);
    if (PQresultStatus(prepared) != PGRES_COMMAND_OK) Fail("prepare");
    PQclear(prepared);
  }

  struct Window {
    const char* label;
    int days;  // 0: a window before the history
    const char* basis;
  };
  for (const Window& window :
       {Window{"quiet", 0, "recorded"}, Window{"week", 7, "recorded"},
        Window{"month", 30, "recorded"}, Window{"year", 365, "recorded"},
        Window{"week", 7, "business"}, Window{"month", 30, "business"},
        Window{"year", 365, "business"}}) {
    const absl::CivilDay since =
        window.days == 0 ? first_day - 30 : last_day - (window.days - 1);
    const absl::CivilDay until = window.days == 0 ? first_day - 1 : last_day;
    const std::string since_text = absl::FormatCivilTime(since);
    const std::string until_text = absl::FormatCivilTime(until);
    const char* values[2] = {since_text.c_str(), until_text.c_str()};
    std::vector<double> times;
    int rows = 0;
    size_t bytes = 0;
    const absl::Time stop = absl::Now() + absl::Seconds(min_seconds);
    while (times.size() < 3 || absl::Now() < stop) {
      const absl::Time start = absl::Now();
      PGresult* result = PQexecPrepared(connection, window.basis, 2, values,
                                        nullptr, nullptr, 0);
      if (PQresultStatus(result) != PGRES_TUPLES_OK) Fail(window.label);
      rows = PQntuples(result);
      bytes = 0;
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < PQnfields(result); ++c) {
          bytes += PQgetlength(result, r, c);
        }
      }
      PQclear(result);
      times.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    std::sort(times.begin(), times.end());
    nlohmann::ordered_json json;
    json["system"] = "postgresql";
    json["window"] = window.label;
    json["basis"] = window.basis;
    json["areas"] = areas;
    json["events"] = int64_t{areas} * rounds;
    json["areas_changed"] = rows;
    json["answer_bytes"] = bytes;
    json["median_ms"] = times[times.size() / 2];
    json["runs"] = times.size();
    json["load_seconds"] = load_seconds;
    std::cout << json.dump() << std::endl;
  }
  PQfinish(connection);
  return 0;
}
