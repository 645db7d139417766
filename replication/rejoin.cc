#include "replication/rejoin.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "eventstore/record_format.h"
#include "grpcpp/create_channel.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/replication.grpc.pb.h"
#include "replication/terms.h"

namespace plantrail::replication {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The leader's hashes at `positions` (empty beyond its head).
absl::StatusOr<v1::GetChainHashesResponse> AskHashes(
    v1::Replication::Stub& stub, const LeaderConnection& leader,
    const std::vector<uint64_t>& positions) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + leader.timeout));
  if (!leader.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", leader.token));
  }
  v1::GetChainHashesRequest request;
  for (uint64_t position : positions) request.add_positions(position);
  v1::GetChainHashesResponse response;
  const grpc::Status status = stub.GetChainHashes(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(
        static_cast<absl::StatusCode>(status.error_code()),
        absl::StrCat("the leader at ", leader.leader,
                     " did not say its chain: ", status.error_message()));
  }
  if (response.hashes_size() != static_cast<int>(positions.size())) {
    return absl::DataLossError(
        "the leader answered the wrong number of hashes");
  }
  return response;
}

std::string Bytes(const eventstore::Hash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

absl::Status SyncPath(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags);
  if (fd < 0 || fsync(fd) != 0) {
    if (fd >= 0) close(fd);
    return absl::InternalError(absl::StrCat("cannot sync ", path));
  }
  close(fd);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Fork> FindFork(const eventstore::EventStore& log,
                              const LeaderConnection& leader) {
  auto stub = v1::Replication::NewStub(
      grpc::CreateChannel(leader.leader, leader.credentials));
  Fork fork;
  fork.head = log.HeadPosition();
  absl::StatusOr<Term> own = LastTerm(log);
  if (!own.ok()) return own.status();
  fork.term = own->term;
  // Does the leader hold this log's head, with the same hash?
  absl::StatusOr<v1::GetChainHashesResponse> at_head =
      AskHashes(*stub, leader, {fork.head});
  if (!at_head.ok()) return at_head.status();
  fork.leader_head = at_head->head();
  fork.leader_term = at_head->term();
  if (fork.head == 0) return fork;
  absl::StatusOr<eventstore::Hash> head_hash = log.HashAt(fork.head);
  if (!head_hash.ok()) return head_hash.status();
  if (at_head->hashes(0) == Bytes(*head_hash)) return fork;

  // The chains agree up to some position and differ from the next on (a
  // chain hash covers everything before it): find it by bisection.
  fork.agrees = false;
  uint64_t agree = 0;
  uint64_t differ = std::min(fork.head, fork.leader_head + 1);
  while (differ - agree > 1) {
    const uint64_t middle = agree + (differ - agree) / 2;
    absl::StatusOr<v1::GetChainHashesResponse> answer =
        AskHashes(*stub, leader, {middle});
    if (!answer.ok()) return answer.status();
    absl::StatusOr<eventstore::Hash> own_hash = log.HashAt(middle);
    if (!own_hash.ok()) return own_hash.status();
    if (answer->hashes(0) == Bytes(*own_hash)) {
      agree = middle;
    } else {
      differ = middle;
    }
  }
  fork.position = agree;
  if (agree == 0) {
    fork.refusal = absl::StrCat(
        "this log and the leader's at ", leader.leader,
        " share no history (they differ from position 1): a different "
        "cluster? Nothing was moved");
  } else if (fork.leader_term <= fork.term) {
    fork.refusal = absl::StrCat(
        "this log holds records after position ", agree, " that the leader at ",
        leader.leader, " does not, in term ", fork.term,
        ", and the leader's term (", fork.leader_term,
        ") is not newer: nothing was moved; an operator decides which "
        "history stands");
  } else {
    fork.quarantine = true;
  }
  return fork;
}

absl::StatusOr<std::string> WriteQuarantine(const eventstore::EventStore& log,
                                            const Fork& fork,
                                            const std::string& leader,
                                            const std::string& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", directory, ": ", error.message()));
  }
  fs::permissions(directory, fs::perms::owner_all, error);
  const absl::Time now = absl::Now();
  const std::string path =
      (fs::path(directory) /
       absl::StrCat(
           "after-", fork.position, "-term-", fork.term, "-",
           absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()),
           ".jsonl"))
          .string();
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, error);
  out << json{{"quarantine",
               "records a former leader wrote that its "
               "successor never had; never acknowledged to a "
               "writer by a synchronous replica"},
              {"after_position", fork.position},
              {"records", fork.head - fork.position},
              {"term", fork.term},
              {"leader", leader},
              {"leader_term", fork.leader_term},
              {"written_at", absl::FormatTime(now)}}
             .dump()
      << "\n";
  for (uint64_t next = fork.position + 1; next <= fork.head;) {
    absl::StatusOr<std::vector<eventstore::StoredRecord>> records =
        log.ReadStoredRecords(next, 1000, 16 << 20);
    if (!records.ok()) return records.status();
    if (records->empty()) break;
    for (const eventstore::StoredRecord& record : *records) {
      absl::StatusOr<eventstore::RecordedEvent> event =
          eventstore::record_format::DecodeRecord(record.record);
      if (!event.ok()) return event.status();
      json line{{"position", record.position},
                {"stream_id", event->stream_id},
                {"stream_version", event->stream_version},
                {"event_id", event->event_id},
                {"type", event->type},
                {"content_type", event->content_type},
                {"recorded_at", absl::FormatTime(event->recorded_at)},
                {"metadata", event->metadata},
                {"payload_base64", absl::Base64Escape(event->payload)},
                {"hash", eventstore::record_format::HexOf(event->hash)},
                {"record_base64", absl::Base64Escape(record.record)}};
      out << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      next = record.position + 1;
    }
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  absl::Status synced = SyncPath(path, O_RDONLY);
  if (synced.ok()) synced = SyncPath(directory, O_RDONLY | O_DIRECTORY);
  if (!synced.ok()) return synced;
  return path;
}

std::vector<QuarantineSummary> ListQuarantine(const std::string& directory) {
  std::vector<QuarantineSummary> files;
  std::error_code error;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(directory, error)) {
    if (entry.path().extension() != ".jsonl") continue;
    std::ifstream in(entry.path());
    std::string first;
    if (!std::getline(in, first)) continue;
    const json header = json::parse(first, nullptr, /*allow_exceptions=*/false);
    if (!header.is_object()) continue;
    // Read without throwing, whatever the file holds.
    auto number = [&header](const char* key) -> uint64_t {
      auto it = header.find(key);
      return it != header.end() && it->is_number_unsigned()
                 ? it->get<uint64_t>()
                 : 0;
    };
    auto text = [&header](const char* key) -> std::string {
      auto it = header.find(key);
      return it != header.end() && it->is_string() ? it->get<std::string>()
                                                   : std::string();
    };
    QuarantineSummary summary{.path = entry.path().string()};
    summary.after_position = number("after_position");
    summary.records = number("records");
    summary.term = number("term");
    summary.leader = text("leader");
    summary.leader_term = number("leader_term");
    std::string error_text;
    absl::ParseTime(absl::RFC3339_full, text("written_at"), &summary.written_at,
                    &error_text);
    files.push_back(std::move(summary));
  }
  std::sort(files.begin(), files.end(),
            [](const QuarantineSummary& a, const QuarantineSummary& b) {
              return a.path < b.path;
            });
  return files;
}

}  // namespace plantrail::replication
