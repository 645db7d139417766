// The peer for bench/run: PostgreSQL as an event store. One table with a
// global bigserial position, a unique (stream, version) and a jsonb payload;
// synchronous_commit stays on, so a commit returns after the WAL is flushed,
// as plantrail acknowledges after its fsync. Each of --clients connections
// appends --batch events at a time to a stream of its own, with the version
// it expects: the unique index refuses a wrong one, as plantrail's expected
// version does. Prints one JSON object like plantrail_load's.
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/loop_result.h"
#include "nlohmann/json.hpp"

namespace {

constexpr char kSchema[] = R"sql(
DROP TABLE IF EXISTS events;
CREATE TABLE events (
  position bigserial PRIMARY KEY,
  stream_id text NOT NULL,
  version bigint NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, version)
);
)sql";

// Inserts $5 events with versions $2 .. $2 + $5 - 1 in one statement (one
// transaction, one commit).
constexpr char kAppend[] =
    "INSERT INTO events (stream_id, version, type, payload) "
    "SELECT $1, v, $3, $4::jsonb FROM generate_series($2::bigint, "
    "$2::bigint + $5::bigint - 1) AS v";

PGconn* Connect(const std::string& conninfo) {
  PGconn* connection = PQconnectdb(conninfo.c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    std::cerr << "pg_peer: " << PQerrorMessage(connection);
    std::exit(1);
  }
  return connection;
}

void Exec(PGconn* connection, const char* sql) {
  PGresult* result = PQexec(connection, sql);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::cerr << "pg_peer: " << PQerrorMessage(connection);
    std::exit(1);
  }
  PQclear(result);
}

}  // namespace

int main(int argc, char** argv) {
  std::string conninfo;
  int clients = 1, batch = 1, payload_bytes = 100;
  double seconds = 5, warmup = 1;
  CLI::App app{"pg_peer: PostgreSQL as an event store, durably"};
  app.add_option("--conninfo", conninfo)->required();
  app.add_option("--clients", clients);
  app.add_option("--batch", batch);
  app.add_option("--payload-bytes", payload_bytes);
  app.add_option("--seconds", seconds);
  app.add_option("--warmup", warmup);
  CLI11_PARSE(app, argc, argv);

  {
    PGconn* setup = Connect(conninfo);
    Exec(setup, kSchema);
    PGresult* settings = PQexec(setup, "SHOW synchronous_commit");
    const std::string synchronous = PQgetvalue(settings, 0, 0);
    PQclear(settings);
    if (synchronous != "on") {
      std::cerr << "pg_peer: synchronous_commit is " << synchronous
                << ", not on\n";
      return 1;
    }
    PQfinish(setup);
  }
  std::string payload = "{\"seq\":0,\"note\":\"";
  while (payload.size() + 2 < static_cast<size_t>(payload_bytes)) {
    payload += 'x';
  }
  payload += "\"}";

  const absl::Time measure_from = absl::Now() + absl::Seconds(warmup);
  const absl::Time stop_at = measure_from + absl::Seconds(seconds);
  std::vector<std::vector<int64_t>> latencies(clients);
  std::vector<uint64_t> calls(clients, 0);
  std::vector<std::thread> workers;
  for (int c = 0; c < clients; ++c) {
    workers.emplace_back([&, c] {
      PGconn* connection = Connect(conninfo);
      PGresult* prepared = PQprepare(connection, "append", kAppend, 5, nullptr);
      if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
        std::cerr << "pg_peer: " << PQerrorMessage(connection);
        std::exit(1);
      }
      PQclear(prepared);
      const std::string stream = absl::StrCat("bench-", c);
      const std::string count = absl::StrCat(batch);
      for (uint64_t version = 1;; version += batch) {
        const std::string first = absl::StrCat(version);
        const char* values[5] = {stream.c_str(), first.c_str(), "BenchEvent",
                                 payload.c_str(), count.c_str()};
        const absl::Time issued = absl::Now();
        PGresult* result = PQexecPrepared(connection, "append", 5, values,
                                          nullptr, nullptr, 0);
        if (PQresultStatus(result) != PGRES_COMMAND_OK) {
          std::cerr << "pg_peer: " << PQerrorMessage(connection);
          std::exit(1);
        }
        PQclear(result);
        const absl::Time finished = absl::Now();
        if (issued >= measure_from && finished <= stop_at) {
          ++calls[c];
          latencies[c].push_back(absl::ToInt64Microseconds(finished - issued));
        }
        if (finished >= stop_at) break;
      }
      PQfinish(connection);
    });
  }
  for (std::thread& worker : workers) worker.join();
  std::vector<int64_t> all;
  uint64_t total = 0;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    total += calls[c];
  }
  const nlohmann::ordered_json json = plantrail::bench::LoopResult(
      "postgresql", clients, batch, total, seconds, std::move(all));
  std::cout << json.dump() << std::endl;
  return 0;
}
