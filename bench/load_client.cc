// plantrail_load: the load generator of bench/run. A real gRPC client of a
// running plantraild: closed loops of many in-flight calls on the callback
// API (each client slot issues its next call when the last one returns),
// spread over several connections. Prints one JSON object per run.
//
//   plantrail_load MODE --server HOST:PORT --token-file FILE [flags]
//
// Modes:
//   append     single or batched durable appends (EventStore.Append)
//   report     status reports through PlanCommands (validation, append,
//              projections), each client on its own area
//   areas      registers --areas areas (setup for the queries)
//   query      GetArea, ListAreas or GetHistory (--kind) over --areas areas
//   subscribe  commit-to-delivery latency with --subscribers live
//              subscriptions while events are appended one at a time
//   fill       --events status reports over 1,000 areas, as fast as they go
//   rebuild    rebuilds every projection and times it
//   ping       the empty unary call: grpc.health.v1.Health/Check, the
//              standard health service, on the same server and connections
//              (what a call costs with no work in it)
//   soak       mixed load at steady rates for --seconds (appends, status
//              reports, queries, subscribers that come and go), with one
//              window of figures every --interval seconds, the server's
//              memory (--server-pid) among them: bench/soak's load
//
// Latency is per call, from issue to completion; the first --warmup
// seconds are not counted.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/loop_result.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"

namespace plantrail::bench {
namespace {

using Json = nlohmann::ordered_json;

struct Flags {
  std::string mode;
  std::string server = "127.0.0.1:50051";
  std::string token_file;
  int clients = 1;
  int batch = 1;
  double seconds = 5;
  double warmup = 1;
  int areas = 10000;
  std::string kind = "get-area";
  int subscribers = 1;
  int events = 1000;
  int payload_bytes = 100;
  std::string run_id = "run";
  // soak
  double append_rate = 500;
  double report_rate = 50;
  double query_rate = 200;
  double interval = 60;
  int server_pid = 0;
};

// A payload like the event store bench's: a ~100-byte JSON object.
std::string Payload(int bytes, uint64_t n) {
  std::string payload = absl::StrCat("{\"seq\":", n, ",\"note\":\"");
  while (payload.size() + 2 < static_cast<size_t>(bytes)) payload += 'x';
  return payload + "\"}";
}

class Connections {
 public:
  Connections(const std::string& server, std::string token, int count)
      : bearer_("Bearer " + std::move(token)) {
    for (int i = 0; i < count; ++i) {
      grpc::ChannelArguments args;
      // A distinct argument per channel gives each its own connection.
      args.SetInt("plantrail.bench.channel", i);
      args.SetMaxReceiveMessageSize(64 << 20);
      channels_.push_back(grpc::CreateCustomChannel(
          server, grpc::InsecureChannelCredentials(), args));
      store_.push_back(v1::EventStore::NewStub(channels_.back()));
      commands_.push_back(v1::PlanCommands::NewStub(channels_.back()));
      queries_.push_back(v1::PlanQueries::NewStub(channels_.back()));
      admin_.push_back(v1::Admin::NewStub(channels_.back()));
      generic_.push_back(std::make_unique<grpc::GenericStub>(channels_.back()));
    }
  }

  void Prepare(grpc::ClientContext& context) const {
    context.AddMetadata("authorization", bearer_);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(60));
  }
  v1::EventStore::Stub& store(int slot) { return *store_[Index(slot)]; }
  v1::PlanCommands::Stub& commands(int slot) { return *commands_[Index(slot)]; }
  v1::PlanQueries::Stub& queries(int slot) { return *queries_[Index(slot)]; }
  v1::Admin::Stub& admin() { return *admin_[0]; }
  grpc::GenericStub& generic(int slot) { return *generic_[Index(slot)]; }

 private:
  size_t Index(int slot) const { return slot % channels_.size(); }

  std::string bearer_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::EventStore::Stub>> store_;
  std::vector<std::unique_ptr<v1::PlanCommands::Stub>> commands_;
  std::vector<std::unique_ptr<v1::PlanQueries::Stub>> queries_;
  std::vector<std::unique_ptr<v1::Admin::Stub>> admin_;
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_;
};

struct LoopOutcome {
  uint64_t calls = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<int64_t> latencies_us;
  double seconds = 0;
};

// One closed loop per client slot: `start` issues a call for (slot, n) and
// calls `done` with its status when it completes (on a gRPC thread).
using Done = std::function<void(const grpc::Status&)>;
using Start = std::function<void(int slot, uint64_t n, Done done)>;

LoopOutcome ClosedLoop(int clients, absl::Duration warmup,
                       absl::Duration duration, const Start& start) {
  struct Slot {
    uint64_t n = 0;
    uint64_t calls = 0;
    uint64_t errors = 0;
    std::string first_error;
    std::vector<int64_t> latencies_us;
  };
  std::vector<Slot> slots(clients);
  const absl::Time begin = absl::Now();
  const absl::Time measure_from = begin + warmup;
  const absl::Time stop_at = measure_from + duration;
  std::atomic<int> active{clients};
  absl::Notification all_done;
  std::function<void(int)> next = [&](int i) {
    const absl::Time issued = absl::Now();
    start(i, slots[i].n++, [&, i, issued](const grpc::Status& status) {
      const absl::Time finished = absl::Now();
      Slot& slot = slots[i];
      if (issued >= measure_from && finished <= stop_at) {
        if (status.ok()) {
          ++slot.calls;
          slot.latencies_us.push_back(
              absl::ToInt64Microseconds(finished - issued));
        } else {
          ++slot.errors;
          if (slot.first_error.empty()) {
            slot.first_error = status.error_message();
          }
        }
      }
      if (finished < stop_at) {
        next(i);
      } else if (active.fetch_sub(1) == 1) {
        all_done.Notify();
      }
    });
  };
  for (int i = 0; i < clients; ++i) next(i);
  all_done.WaitForNotification();
  LoopOutcome result;
  result.seconds = absl::ToDoubleSeconds(duration);
  for (Slot& slot : slots) {
    result.calls += slot.calls;
    result.errors += slot.errors;
    if (result.first_error.empty()) result.first_error = slot.first_error;
    result.latencies_us.insert(result.latencies_us.end(),
                               slot.latencies_us.begin(),
                               slot.latencies_us.end());
  }
  return result;
}

Json Report(const Flags& flags, LoopOutcome result, int per_call) {
  Json json = plantrail::bench::LoopResult(flags.mode, flags.clients, per_call,
                                           result.calls, result.seconds,
                                           std::move(result.latencies_us));
  json["errors"] = result.errors;
  if (!result.first_error.empty()) json["first_error"] = result.first_error;
  return json;
}

absl::Duration Seconds(double seconds) { return absl::Seconds(seconds); }

// --- Modes ------------------------------------------------------------------

Json RunAppend(const Flags& flags, Connections& connections) {
  const LoopOutcome result = ClosedLoop(
      flags.clients, Seconds(flags.warmup), Seconds(flags.seconds),
      [&](int slot, uint64_t n, Done done) {
        struct Call {
          grpc::ClientContext context;
          v1::AppendRequest request;
          v1::AppendResponse response;
        };
        auto call = std::make_shared<Call>();
        connections.Prepare(call->context);
        call->request.set_stream_id(
            absl::StrCat("bench-", flags.run_id, "-", slot));
        call->request.mutable_expected_version()->mutable_any();
        for (int e = 0; e < flags.batch; ++e) {
          v1::ProposedEvent* event = call->request.add_events();
          event->set_type("BenchEvent");
          event->set_content_type("application/json");
          event->set_payload(Payload(flags.payload_bytes, n * flags.batch + e));
        }
        connections.store(slot).async()->Append(
            &call->context, &call->request, &call->response,
            [call, done](grpc::Status status) { done(status); });
      });
  return Report(flags, result, flags.batch);
}

// Health/Check through the generic stub: Debian's gRPC ships no health.proto.
// The request is an empty HealthCheckRequest (the server as a whole: zero
// bytes); the answer must be HealthCheckResponse{status: SERVING}, which
// is field 1 as a varint 1: the bytes 08 01.
Json RunPing(const Flags& flags, Connections& connections) {
  const LoopOutcome result = ClosedLoop(
      flags.clients, Seconds(flags.warmup), Seconds(flags.seconds),
      [&](int slot, uint64_t, Done done) {
        struct Call {
          grpc::ClientContext context;
          grpc::ByteBuffer request;
          grpc::ByteBuffer response;
        };
        auto call = std::make_shared<Call>();
        connections.Prepare(call->context);
        grpc::Slice empty;
        call->request = grpc::ByteBuffer(&empty, 1);
        connections.generic(slot).UnaryCall(
            &call->context, "/grpc.health.v1.Health/Check", {}, &call->request,
            &call->response, [call, done](grpc::Status status) {
              std::vector<grpc::Slice> slices;
              std::string answer;
              if (status.ok() && call->response.Dump(&slices).ok()) {
                for (const grpc::Slice& slice : slices) {
                  answer.append(reinterpret_cast<const char*>(slice.begin()),
                                slice.size());
                }
              }
              if (status.ok() && answer != std::string("\x08\x01", 2)) {
                status = grpc::Status(grpc::StatusCode::UNKNOWN,
                                      "Health/Check: not SERVING");
              }
              done(status);
            });
      });
  return Report(flags, result, 1);
}

grpc::Status RegisterAreas(const Flags& flags, Connections& connections,
                           const std::string& prefix, int count) {
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  grpc::Status first_error;
  std::mutex error_mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&, t] {
      for (int i; (i = next.fetch_add(1)) < count && !failed;) {
        grpc::ClientContext context;
        connections.Prepare(context);
        v1::RegisterAreaRequest request;
        request.set_area_id(absl::StrCat(prefix, i));
        request.set_title(absl::StrCat("Bench area ", i));
        request.set_support_area(absl::StrCat("SA ", i % 7));
        request.set_planned_start("2026-01-01");
        request.set_planned_end("HT27");
        request.mutable_options()->set_command_id(
            absl::StrCat("bench-register-", prefix, i));
        v1::CommandResult result;
        grpc::Status status =
            connections.commands(t).RegisterArea(&context, request, &result);
        if (!status.ok()) {
          std::lock_guard lock(error_mutex);
          if (!failed) first_error = status;
          failed = true;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return failed ? first_error : grpc::Status::OK;
}

void ReportStatus(Connections& connections, int slot,
                  const std::string& area_id, uint64_t n, Done done) {
  struct Call {
    grpc::ClientContext context;
    v1::ReportStatusRequest request;
    v1::CommandResult response;
  };
  auto call = std::make_shared<Call>();
  connections.Prepare(call->context);
  call->request.set_area_id(area_id);
  call->request.set_phase(v1::PHASE_IN_PROGRESS);
  call->request.set_health(n % 2 ? v1::HEALTH_ON_TRACK : v1::HEALTH_AT_RISK);
  call->request.set_narrative(absl::StrCat("Report ", n, " of the bench"));
  connections.commands(slot).async()->ReportStatus(
      &call->context, &call->request, &call->response,
      [call, done](grpc::Status status) { done(status); });
}

Json RunReport(const Flags& flags, Connections& connections) {
  const std::string prefix = absl::StrCat("bench-", flags.run_id, "-");
  if (grpc::Status registered =
          RegisterAreas(flags, connections, prefix, flags.clients);
      !registered.ok()) {
    return {{"mode", flags.mode}, {"error", registered.error_message()}};
  }
  const LoopOutcome result =
      ClosedLoop(flags.clients, Seconds(flags.warmup), Seconds(flags.seconds),
                 [&](int slot, uint64_t n, Done done) {
                   ReportStatus(connections, slot, absl::StrCat(prefix, slot),
                                n, std::move(done));
                 });
  return Report(flags, result, 1);
}

Json RunAreas(const Flags& flags, Connections& connections) {
  const absl::Time start = absl::Now();
  grpc::Status status =
      RegisterAreas(flags, connections, "bench-q-", flags.areas);
  Json json = {{"mode", flags.mode},
               {"areas", flags.areas},
               {"seconds", absl::ToDoubleSeconds(absl::Now() - start)}};
  if (!status.ok()) json["error"] = status.error_message();
  return json;
}

Json RunQuery(const Flags& flags, Connections& connections) {
  std::vector<std::mt19937_64> random;
  for (int i = 0; i < flags.clients; ++i) random.emplace_back(i + 1);
  const LoopOutcome result = ClosedLoop(
      flags.clients, Seconds(flags.warmup), Seconds(flags.seconds),
      [&](int slot, uint64_t n, Done done) {
        const std::string area = absl::StrCat(
            "bench-q-", random[slot]() % static_cast<uint64_t>(flags.areas));
        auto context = std::make_shared<grpc::ClientContext>();
        connections.Prepare(*context);
        auto& stub = connections.queries(slot);
        if (flags.kind == "get-area") {
          auto request = std::make_shared<v1::GetAreaRequest>();
          auto response = std::make_shared<v1::GetAreaResponse>();
          request->set_area_id(area);
          stub.async()->GetArea(context.get(), request.get(), response.get(),
                                [context, request, response,
                                 done](grpc::Status status) { done(status); });
        } else if (flags.kind == "list-areas") {
          auto request = std::make_shared<v1::ListAreasRequest>();
          auto response = std::make_shared<v1::ListAreasResponse>();
          request->set_support_area(absl::StrCat("SA ", n % 7));
          stub.async()->ListAreas(context.get(), request.get(), response.get(),
                                  [context, request, response, done](
                                      grpc::Status status) { done(status); });
        } else {
          auto request = std::make_shared<v1::GetHistoryRequest>();
          auto response = std::make_shared<v1::GetHistoryResponse>();
          request->set_area_id(area);
          stub.async()->GetHistory(context.get(), request.get(), response.get(),
                                   [context, request, response, done](
                                       grpc::Status status) { done(status); });
        }
      });
  Json json = Report(flags, result, 1);
  json["kind"] = flags.kind;
  json["areas"] = flags.areas;
  return json;
}

// Subscribers from now; one writer appends --events events one at a time;
// latency = arrival at a subscriber - the event's recorded_at (stamped just
// before its commit group is written and fsync'd).
Json RunSubscribe(const Flags& flags, Connections& connections) {
  const std::string stream = absl::StrCat("bench-sub-", flags.run_id);
  std::vector<std::vector<int64_t>> latencies(flags.subscribers);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> readers;
  std::atomic<int> ready{0};
  for (int s = 0; s < flags.subscribers; ++s) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    connections.Prepare(*contexts.back());
    readers.emplace_back([&, s] {
      v1::SubscribeRequest request;
      request.mutable_now();
      request.mutable_filter()->add_stream_prefixes(stream);
      auto reader = connections.store(s).Subscribe(contexts[s].get(), request);
      v1::SubscribeResponse message;
      bool counted = false;
      int received = 0;
      while (reader->Read(&message)) {
        if (message.has_caught_up() && !counted) {
          counted = true;
          ready.fetch_add(1);
        }
        if (!message.has_events()) continue;
        const absl::Time now = absl::Now();
        for (const v1::RecordedEvent& event : message.events().events()) {
          const absl::Time recorded =
              absl::FromUnixSeconds(event.recorded_at().seconds()) +
              absl::Nanoseconds(event.recorded_at().nanos());
          latencies[s].push_back(absl::ToInt64Microseconds(now - recorded));
          ++received;
        }
        if (received >= flags.events) break;
      }
      contexts[s]->TryCancel();
      reader->Finish().ok();
    });
  }
  while (ready.load() < flags.subscribers) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int n = 0; n < flags.events; ++n) {
    grpc::ClientContext context;
    connections.Prepare(context);
    v1::AppendRequest request;
    request.set_stream_id(stream);
    request.mutable_expected_version()->mutable_any();
    v1::ProposedEvent* event = request.add_events();
    event->set_type("BenchEvent");
    event->set_content_type("application/json");
    event->set_payload(Payload(flags.payload_bytes, n));
    v1::AppendResponse response;
    connections.store(0).Append(&context, request, &response).ok();
    // A steady trickle, not a burst: the latency of a live change stream.
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  for (std::thread& reader : readers) reader.join();
  std::vector<int64_t> all;
  for (auto& one : latencies) all.insert(all.end(), one.begin(), one.end());
  Json json = {{"mode", flags.mode},
               {"subscribers", flags.subscribers},
               {"events", flags.events},
               {"deliveries", all.size()}};
  json["p50_us"] = Percentile(all, 50);
  json["p99_us"] = Percentile(all, 99);
  return json;
}

Json RunFill(const Flags& flags, Connections& connections) {
  constexpr int kAreas = 1000;
  const std::string prefix = absl::StrCat("bench-fill-", flags.run_id, "-");
  if (grpc::Status registered =
          RegisterAreas(flags, connections, prefix, kAreas);
      !registered.ok()) {
    return {{"mode", flags.mode}, {"error", registered.error_message()}};
  }
  std::atomic<int> issued{kAreas};
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> errors{0};
  absl::Notification done;
  const absl::Time start = absl::Now();
  std::function<void(int)> next = [&](int slot) {
    const int n = issued.fetch_add(1);
    if (n >= flags.events) {
      if (in_flight.fetch_sub(1) == 1) done.Notify();
      return;
    }
    // Each slot keeps to its own areas, so no two reports race for one.
    const int area = slot + flags.clients * (n % (kAreas / flags.clients));
    ReportStatus(connections, slot, absl::StrCat(prefix, area % kAreas), n,
                 [&, slot](const grpc::Status& status) {
                   if (!status.ok()) errors.fetch_add(1);
                   next(slot);
                 });
  };
  in_flight = flags.clients;
  for (int slot = 0; slot < flags.clients; ++slot) next(slot);
  done.WaitForNotification();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return {{"mode", flags.mode},
          {"events", flags.events},
          {"errors", errors.load()},
          {"seconds", seconds},
          {"items_per_second", (flags.events - kAreas) / seconds}};
}

Json RunRebuild(const Flags& flags, Connections& connections) {
  auto list = [&]() {
    grpc::ClientContext context;
    connections.Prepare(context);
    v1::ListProjectionsResponse response;
    connections.admin().ListProjections(&context, {}, &response).ok();
    return response;
  };
  Json json = {{"mode", flags.mode}};
  Json projections = Json::array();
  const v1::ListProjectionsResponse initial = list();
  for (const v1::ProjectionStatus& before : initial.projections()) {
    grpc::ClientContext context;
    connections.Prepare(context);
    v1::RebuildProjectionRequest request;
    request.set_name(before.name());
    v1::RebuildProjectionResponse response;
    const absl::Time start = absl::Now();
    grpc::Status status =
        connections.admin().RebuildProjection(&context, request, &response);
    if (!status.ok()) {
      json["error"] = status.error_message();
      return json;
    }
    uint64_t events = 0;
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      bool finished = false;
      const v1::ListProjectionsResponse current = list();
      for (const v1::ProjectionStatus& now : current.projections()) {
        if (now.name() == before.name() &&
            now.generation() > before.generation()) {
          finished = true;
          events = now.checkpoint();
        }
      }
      if (finished) break;
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    projections.push_back({{"name", before.name()},
                           {"events", events},
                           {"seconds", seconds},
                           {"items_per_second", events / seconds}});
  }
  json["projections"] = projections;
  return json;
}

// --- Soak -------------------------------------------------------------------

// The figures of one window of a soak; thread-safe.
class SoakWindow {
 public:
  enum Kind { kAppend, kReport, kQuery, kKinds };

  void Call(Kind kind, absl::Time issued, const grpc::Status& status) {
    const int64_t us = absl::ToInt64Microseconds(absl::Now() - issued);
    std::lock_guard lock(mu_);
    if (status.ok()) {
      latencies_us_[kind].push_back(us);
    } else {
      ++errors_;
      if (first_error_.empty()) first_error_ = status.error_message();
    }
  }
  void Subscription(uint64_t deliveries, uint64_t gaps) {
    std::lock_guard lock(mu_);
    ++subscriptions_;
    deliveries_ += deliveries;
    gaps_ += gaps;
  }
  // The window so far, and a new one begun.
  Json Take() {
    std::lock_guard lock(mu_);
    Json json;
    const char* names[kKinds] = {"append", "report", "query"};
    const char* counts[kKinds] = {"appends", "reports", "queries"};
    for (int kind = 0; kind < kKinds; ++kind) {
      json[counts[kind]] = latencies_us_[kind].size();
      json[absl::StrCat(names[kind], "_p50_us")] =
          Percentile(latencies_us_[kind], 50);
      json[absl::StrCat(names[kind], "_p99_us")] =
          Percentile(latencies_us_[kind], 99);
      latencies_us_[kind].clear();
    }
    json["subscriptions"] = subscriptions_;
    json["deliveries"] = deliveries_;
    json["gaps"] = gaps_;
    json["errors"] = errors_;
    if (!first_error_.empty()) json["first_error"] = first_error_;
    subscriptions_ = deliveries_ = gaps_ = errors_ = 0;
    first_error_.clear();
    return json;
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> latencies_us_[kKinds];
  uint64_t subscriptions_ = 0, deliveries_ = 0, gaps_ = 0, errors_ = 0;
  std::string first_error_;
};

// Calls `call(n)` about `rate` times a second until `stop`, on this thread.
void Paced(double rate, absl::Time stop,
           const std::function<void(uint64_t n)>& call) {
  const absl::Duration period = absl::Seconds(1 / rate);
  absl::Time next = absl::Now();
  for (uint64_t n = 0; absl::Now() < stop; ++n) {
    call(n);
    // Behind schedule: go on at once, but never try to catch up a burst.
    next = std::max(next + period, absl::Now() - absl::Seconds(1));
    absl::SleepFor(next - absl::Now());
  }
}

uint64_t ResidentKb(int pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) return std::stoull(line.substr(6));
  }
  return 0;
}

Json RunSoak(const Flags& flags, Connections& connections) {
  constexpr int kAppenders = 4, kReporters = 2, kQueriers = 2;
  const std::string prefix = absl::StrCat("soak-", flags.run_id, "-");
  if (grpc::Status registered =
          RegisterAreas(flags, connections, prefix, flags.areas);
      !registered.ok()) {
    return {{"mode", flags.mode}, {"error", registered.error_message()}};
  }
  SoakWindow window;
  std::atomic<uint64_t> head{0};
  const absl::Time begin = absl::Now();
  const absl::Time stop = begin + Seconds(flags.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&, t] {
      Paced(flags.append_rate / kAppenders, stop, [&](uint64_t n) {
        grpc::ClientContext context;
        connections.Prepare(context);
        v1::AppendRequest request;
        request.set_stream_id(absl::StrCat(prefix, "log-", t));
        v1::ProposedEvent* event = request.add_events();
        event->set_type("SoakEvent");
        event->set_content_type("application/json");
        event->set_payload(Payload(flags.payload_bytes, n));
        v1::AppendResponse response;
        const absl::Time issued = absl::Now();
        const grpc::Status status =
            connections.store(t).Append(&context, request, &response);
        window.Call(SoakWindow::kAppend, issued, status);
        if (status.ok()) head = std::max(head.load(), response.last_position());
      });
    });
  }
  for (int t = 0; t < kReporters; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(t);
      Paced(flags.report_rate / kReporters, stop, [&](uint64_t n) {
        grpc::ClientContext context;
        connections.Prepare(context);
        v1::ReportStatusRequest request;
        request.set_area_id(absl::StrCat(prefix, random() % flags.areas));
        request.set_phase(v1::PHASE_IN_PROGRESS);
        request.set_health(n % 2 ? v1::HEALTH_ON_TRACK : v1::HEALTH_AT_RISK);
        request.set_narrative(absl::StrCat("Soak report ", n));
        v1::CommandResult result;
        const absl::Time issued = absl::Now();
        window.Call(
            SoakWindow::kReport, issued,
            connections.commands(t).ReportStatus(&context, request, &result));
      });
    });
  }
  for (int t = 0; t < kQueriers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(100 + t);
      Paced(flags.query_rate / kQueriers, stop, [&](uint64_t n) {
        grpc::ClientContext context;
        connections.Prepare(context);
        const std::string area = absl::StrCat(prefix, random() % flags.areas);
        auto& stub = connections.queries(t);
        const absl::Time issued = absl::Now();
        grpc::Status status;
        if (n % 3 == 0) {
          v1::GetAreaRequest request;
          request.set_area_id(area);
          v1::GetAreaResponse response;
          status = stub.GetArea(&context, request, &response);
        } else if (n % 3 == 1) {
          v1::GetHistoryRequest request;
          request.set_area_id(area);
          v1::GetHistoryResponse response;
          status = stub.GetHistory(&context, request, &response);
        } else {
          v1::ListAreasRequest request;
          request.set_support_area(absl::StrCat("SA ", n % 7));
          v1::ListAreasResponse response;
          status = stub.ListAreas(&context, request, &response);
        }
        window.Call(SoakWindow::kQuery, issued, status);
      });
    });
  }
  // Subscribers that come and go: each follows the log from a little
  // behind the head for 1 to 10 s, checks that positions come without a
  // gap, leaves, and starts again.
  for (int t = 0; t < flags.subscribers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(1000 + t);
      while (absl::Now() < stop) {
        grpc::ClientContext context;
        connections.Prepare(context);
        context.set_deadline(std::min(
            absl::ToChronoTime(absl::Now() +
                               absl::Milliseconds(1000 + random() % 9000)),
            absl::ToChronoTime(stop)));
        v1::SubscribeRequest request;
        const uint64_t from =
            head.load() - std::min<uint64_t>(head.load(), random() % 2000);
        request.set_after_position(from);
        auto reader = connections.store(t).Subscribe(&context, request);
        v1::SubscribeResponse message;
        uint64_t last = from, deliveries = 0, gaps = 0;
        while (reader->Read(&message)) {
          for (const v1::RecordedEvent& event : message.events().events()) {
            if (event.position() != last + 1) ++gaps;
            last = event.position();
            ++deliveries;
          }
        }
        const grpc::Status status = reader->Finish();
        if (status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
          window.Call(SoakWindow::kQuery, absl::Now(), status);
        }
        window.Subscription(deliveries, gaps);
      }
    });
  }
  Json windows = Json::array();
  for (absl::Time next = begin + Seconds(flags.interval); next <= stop;
       next += Seconds(flags.interval)) {
    absl::SleepFor(next - absl::Now());
    Json taken = window.Take();
    taken["minute"] = absl::ToDoubleMinutes(absl::Now() - begin);
    taken["head"] = head.load();
    if (flags.server_pid > 0) taken["rss_kb"] = ResidentKb(flags.server_pid);
    std::cerr << taken.dump() << std::endl;
    windows.push_back(std::move(taken));
  }
  for (std::thread& thread : threads) thread.join();
  return {{"mode", flags.mode},
          {"seconds", flags.seconds},
          {"append_rate", flags.append_rate},
          {"report_rate", flags.report_rate},
          {"query_rate", flags.query_rate},
          {"subscribers", flags.subscribers},
          {"areas", flags.areas},
          {"windows", windows}};
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"plantrail_load: bench/run's gRPC load generator"};
  app.add_option("mode", flags.mode)
      ->required()
      ->check(CLI::IsMember({"append", "report", "areas", "query", "subscribe",
                             "fill", "rebuild", "soak", "ping"}));
  app.add_option("--server", flags.server);
  app.add_option("--token-file", flags.token_file)->required();
  app.add_option("--clients", flags.clients);
  app.add_option("--batch", flags.batch);
  app.add_option("--seconds", flags.seconds);
  app.add_option("--warmup", flags.warmup);
  app.add_option("--areas", flags.areas);
  app.add_option("--kind", flags.kind)
      ->check(CLI::IsMember({"get-area", "list-areas", "history"}));
  app.add_option("--subscribers", flags.subscribers);
  app.add_option("--events", flags.events);
  app.add_option("--payload-bytes", flags.payload_bytes);
  app.add_option("--run-id", flags.run_id);
  app.add_option("--append-rate", flags.append_rate, "soak: appends a second");
  app.add_option("--report-rate", flags.report_rate,
                 "soak: status reports a second");
  app.add_option("--query-rate", flags.query_rate, "soak: queries a second");
  app.add_option("--interval", flags.interval, "soak: seconds per window");
  app.add_option("--server-pid", flags.server_pid,
                 "soak: the server whose memory each window reads");
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(flags.token_file);
  std::string token;
  std::getline(in, token);
  Connections connections(
      flags.server, std::string(absl::StripAsciiWhitespace(token)),
      flags.mode == "soak" ? 8 : std::max(1, std::min(flags.clients, 8)));
  Json result;
  if (flags.mode == "append") result = RunAppend(flags, connections);
  if (flags.mode == "report") result = RunReport(flags, connections);
  if (flags.mode == "areas") result = RunAreas(flags, connections);
  if (flags.mode == "query") result = RunQuery(flags, connections);
  if (flags.mode == "subscribe") result = RunSubscribe(flags, connections);
  if (flags.mode == "fill") result = RunFill(flags, connections);
  if (flags.mode == "rebuild") result = RunRebuild(flags, connections);
  if (flags.mode == "soak") result = RunSoak(flags, connections);
  if (flags.mode == "ping") result = RunPing(flags, connections);
  std::cout << result.dump() << std::endl;
  return result.contains("error") ? 1 : 0;
}

}  // namespace
}  // namespace plantrail::bench

int main(int argc, char** argv) { return plantrail::bench::Main(argc, argv); }
