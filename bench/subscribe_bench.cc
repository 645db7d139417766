// Change stream commit-to-delivery latency, over real gRPC on loopback: the
// server runs in this process (its own threads), subscribers and a writer
// are gRPC clients. Latency is the time from an event's recorded_at
// (stamped when its commit group is committed) to its arrival at a
// subscriber, for every event at every subscriber. See README.md.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "services/server.h"

namespace plantrail {
namespace {

struct Result {
  int subscribers;
  size_t samples;
  double p50_us, p99_us, max_us;
};

Result Run(const std::string& address, const std::string& token,
           int subscribers, int events) {
  const std::string bearer = "Bearer " + token;
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto store = v1::EventStore::NewStub(channel);
  // Start from now, so that only this run's events count.
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>>>
      readers;
  for (int i = 0; i < subscribers; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->AddMetadata("authorization", bearer);
    v1::SubscribeRequest request;
    request.mutable_now();
    readers.push_back(store->Subscribe(contexts.back().get(), request));
    v1::SubscribeResponse caught_up;
    readers.back()->Read(&caught_up);
  }
  std::vector<std::vector<double>> latencies(subscribers);
  std::vector<std::thread> consumers;
  for (int i = 0; i < subscribers; ++i) {
    consumers.emplace_back([&, i] {
      v1::SubscribeResponse message;
      int received = 0;
      while (received < events && readers[i]->Read(&message)) {
        const absl::Time now = absl::Now();
        for (const auto& event : message.events().events()) {
          const absl::Time committed =
              absl::FromUnixSeconds(event.recorded_at().seconds()) +
              absl::Nanoseconds(event.recorded_at().nanos());
          latencies[i].push_back(absl::ToDoubleMicroseconds(now - committed));
          ++received;
        }
      }
    });
  }
  // One durable append every 2 ms: latency, not throughput, is measured.
  for (int i = 0; i < events; ++i) {
    v1::AppendRequest request;
    request.set_stream_id("bench");
    request.add_events()->set_type("Noted");
    v1::AppendResponse response;
    grpc::ClientContext context;
    context.AddMetadata("authorization", bearer);
    store->Append(&context, request, &response);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (auto& consumer : consumers) consumer.join();
  for (auto& context : contexts) context->TryCancel();
  for (auto& reader : readers) reader->Finish().IgnoreError();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto at = [&](double q) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, size_t(q * all.size()))];
  };
  return {subscribers, all.size(), at(0.50), at(0.99),
          all.empty() ? 0 : all.back()};
}

}  // namespace
}  // namespace plantrail

int main() {
  const char* tmp = getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") +
                    "/plantrail-subscribe-bench-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return 1;
  auto server = plantrail::services::Server::Start(
      {.data_dir = dir, .listen = "127.0.0.1:0"});
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  const std::string address = (*server)->address();
  // The admin token the server's first start wrote.
  std::string token;
  std::ifstream((*server)->created_admin_token()) >> token;
  std::printf(
      "| subscribers | deliveries | p50 | p99 | max "
      "|\n|---|---|---|---|---|\n");
  for (int subscribers : {1, 100}) {
    const plantrail::Result r =
        plantrail::Run(address, token, subscribers, 500);
    std::printf("| %d | %zu | %.0f µs | %.0f µs | %.0f µs |\n", r.subscribers,
                r.samples, r.p50_us, r.p99_us, r.max_us);
  }
  (*server)->Shutdown(absl::Seconds(5));
  server->reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
