// Appends and queries while webhook endpoints deliver, and while one of
// them hangs: over real gRPC on loopback against a server in this process
// (its own threads), with a webhook receiver (cpp-httplib) in this process
// too. Three scenarios, each on a fresh data directory and a fresh
// receiver: (a) no endpoint, (b) one endpoint that answers 204 at once,
// (c) that one and one that holds every request open for 60 s. In each,
// --clients threads report status (PlanCommands.ReportStatus, durable: the
// server's default fsync) in a closed loop, each on its own area, and two
// threads read areas (PlanQueries.GetArea) in a closed loop, for --seconds
// after a one-second warm-up. Prints markdown tables. See README.md.
#include <httplib.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/grpcpp.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "plantrail/v1/webhooks.pb.h"
#include "services/server.h"

namespace plantrail {
namespace {

constexpr int kAreas = 100;
constexpr int kQueryThreads = 2;
constexpr char kPlan[] = "bench";
constexpr absl::Duration kWarmup = absl::Seconds(1);
// How long /hang holds a request before answering (unless released).
constexpr auto kHang = std::chrono::seconds(60);

struct Flags {
  double seconds = 10;
  int clients = 8;
};

// The webhook receiver: POST /ok answers 204 at once, POST /hang answers
// 204 after 60 s, or as soon as Release() is called.
class Receiver {
 public:
  Receiver() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_.set_keep_alive_timeout(1);
    server_.Post("/ok",
                 [this](const httplib::Request&, httplib::Response& response) {
                   ok_requests_.fetch_add(1);
                   response.status = 204;
                 });
    server_.Post(
        "/hang", [this](const httplib::Request&, httplib::Response& response) {
          hang_requests_.fetch_add(1);
          std::unique_lock lock(mu_);
          released_cv_.wait_for(lock, kHang, [this] { return released_; });
          response.status = 204;
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ > 0)
      thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() { Stop(); }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  int port() const { return port_; }
  std::string Url(const char* path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  uint64_t ok_requests() const { return ok_requests_.load(); }
  uint64_t hang_requests() const { return hang_requests_.load(); }

  // Every request held at /hang (and every later one) answers now.
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    released_cv_.notify_all();
  }

  void Stop() {
    Release();
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<uint64_t> ok_requests_{0};
  std::atomic<uint64_t> hang_requests_{0};
  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
};

// One connection per thread (a distinct channel argument keeps gRPC from
// sharing the subchannel), every call with the admin's bearer token.
class Client {
 public:
  Client(const std::string& address, const std::string& token, int index)
      : bearer_("Bearer " + token) {
    grpc::ChannelArguments args;
    args.SetInt("plantrail.bench.channel", index);
    channel_ = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    commands_ = v1::PlanCommands::NewStub(channel_);
    queries_ = v1::PlanQueries::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
  }

  void Prepare(grpc::ClientContext& context) const {
    context.AddMetadata("authorization", bearer_);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
  }
  v1::PlanCommands::Stub& commands() { return *commands_; }
  v1::PlanQueries::Stub& queries() { return *queries_; }
  v1::Admin::Stub& admin() { return *admin_; }

 private:
  std::string bearer_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PlanCommands::Stub> commands_;
  std::unique_ptr<v1::PlanQueries::Stub> queries_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

std::string AreaId(int i) { return absl::StrCat("area-", i); }

// Prints a failed call and exits: a benchmark whose setup fails measures
// nothing.
void Check(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return;
  std::fprintf(stderr, "webhook_bench: %s: %s (%d)\n", what.c_str(),
               status.error_message().c_str(),
               static_cast<int>(status.error_code()));
  std::exit(1);
}

void RegisterPlanAndAreas(Client& client) {
  v1::CommandResult result;
  {
    grpc::ClientContext context;
    client.Prepare(context);
    v1::RegisterPlanRequest request;
    request.set_plan_id(kPlan);
    request.mutable_fields()->set_title("Webhook bench plan");
    Check(client.commands().RegisterPlan(&context, request, &result),
          "RegisterPlan");
  }
  for (int i = 0; i < kAreas; ++i) {
    grpc::ClientContext context;
    client.Prepare(context);
    v1::RegisterAreaRequest request;
    request.set_plan_id(kPlan);
    request.set_area_id(AreaId(i));
    request.set_title(absl::StrCat("Bench area ", i));
    request.set_support_area(absl::StrCat("SA ", i % 7));
    Check(client.commands().RegisterArea(&context, request, &result),
          "RegisterArea");
  }
}

std::string AddWebhook(Client& client, const std::string& url) {
  grpc::ClientContext context;
  client.Prepare(context);
  v1::AddWebhookRequest request;
  request.set_url(url);
  request.add_plans(kPlan);
  request.set_description("webhook_bench");
  v1::AddWebhookResponse response;
  Check(client.admin().AddWebhook(&context, request, &response),
        "AddWebhook " + url);
  return response.endpoint().endpoint_id();
}

v1::WebhookEndpoint GetWebhook(Client& client, const std::string& id) {
  grpc::ClientContext context;
  client.Prepare(context);
  v1::GetWebhookRequest request;
  request.set_endpoint_id(id);
  v1::WebhookEndpoint endpoint;
  Check(client.admin().GetWebhook(&context, request, &endpoint),
        "GetWebhook " + id);
  return endpoint;
}

// The latencies (ms) of the calls that began and ended inside the measured
// window, and the calls that failed anywhere.
struct Samples {
  std::vector<double> ms;
  uint64_t errors = 0;
  std::string first_error;
};

enum Phase : int { kWarmingUp = 0, kMeasuring = 1, kDone = 2 };

// Calls `call` in a closed loop until the phase is kDone.
template <typename Call>
Samples Loop(const std::atomic<int>& phase, Call call) {
  Samples samples;
  while (phase.load() != kDone) {
    const int before = phase.load();
    const absl::Time start = absl::Now();
    const grpc::Status status = call();
    const absl::Time end = absl::Now();
    if (!status.ok()) {
      if (samples.errors++ == 0) samples.first_error = status.error_message();
      continue;
    }
    if (before == kMeasuring && phase.load() == kMeasuring) {
      samples.ms.push_back(absl::ToDoubleMilliseconds(end - start));
    }
  }
  return samples;
}

struct Figures {
  double per_second = 0, p50_ms = 0, p99_ms = 0;
  uint64_t errors = 0;
  std::string first_error;
};

Figures Summarize(std::vector<Samples> all, absl::Duration window) {
  Figures figures;
  std::vector<double> ms;
  for (Samples& samples : all) {
    ms.insert(ms.end(), samples.ms.begin(), samples.ms.end());
    figures.errors += samples.errors;
    if (figures.first_error.empty()) figures.first_error = samples.first_error;
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms.empty() ? 0.0
                      : ms[std::min(ms.size() - 1, size_t(q * ms.size()))];
  };
  figures.per_second = ms.size() / absl::ToDoubleSeconds(window);
  figures.p50_ms = at(0.50);
  figures.p99_ms = at(0.99);
  return figures;
}

struct EndpointEnd {
  std::string path;
  v1::WebhookEndpoint endpoint;
  uint64_t requests_received = 0;
};

struct Row {
  std::string scenario;
  Figures appends, queries;
  std::optional<uint64_t> deliveries;
  std::vector<EndpointEnd> endpoints;
  absl::Duration shutdown;
};

Row RunScenario(const Flags& flags, const std::string& name, bool with_ok,
                bool with_hang) {
  const char* tmp = getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") +
                    "/plantrail-webhook-bench-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("webhook_bench: mkdtemp");
    std::exit(1);
  }
  Receiver receiver;
  if (receiver.port() <= 0) {
    std::fprintf(stderr, "webhook_bench: the receiver cannot bind\n");
    std::exit(1);
  }
  services::ServerOptions options{.data_dir = dir, .listen = "127.0.0.1:0"};
  options.webhooks.allow_loopback = true;
  options.webhooks.connect_timeout = absl::Seconds(5);
  options.webhooks.io_timeout = absl::Seconds(30);
  options.webhooks.first_retry = absl::Seconds(1);
  auto server = services::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "webhook_bench: %s\n",
                 std::string(server.status().message()).c_str());
    std::exit(1);
  }
  const std::string address = (*server)->address();
  std::string token;
  std::ifstream((*server)->created_admin_token()) >> token;

  Client setup(address, token, 0);
  RegisterPlanAndAreas(setup);
  std::string ok_id, hang_id;
  if (with_ok) ok_id = AddWebhook(setup, receiver.Url("/ok"));
  if (with_hang) hang_id = AddWebhook(setup, receiver.Url("/hang"));

  std::atomic<int> phase{kWarmingUp};
  const int threads = flags.clients + kQueryThreads;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < threads; ++i) {
    clients.push_back(std::make_unique<Client>(address, token, i + 1));
  }
  std::vector<Samples> appends(flags.clients), queries(kQueryThreads);
  std::vector<std::thread> running;
  for (int i = 0; i < flags.clients; ++i) {
    running.emplace_back([&, i] {
      Client& client = *clients[i];
      uint64_t n = 0;
      appends[i] = Loop(phase, [&] {
        grpc::ClientContext context;
        client.Prepare(context);
        v1::ReportStatusRequest request;
        request.set_plan_id(kPlan);
        request.set_area_id(AreaId(i));
        request.set_phase(v1::PHASE_IN_PROGRESS);
        request.set_health(v1::HEALTH_ON_TRACK);
        request.set_narrative(
            absl::StrCat("Report ", ++n, " of client ", i, " of the bench"));
        v1::CommandResult result;
        return client.commands().ReportStatus(&context, request, &result);
      });
    });
  }
  for (int q = 0; q < kQueryThreads; ++q) {
    running.emplace_back([&, q] {
      Client& client = *clients[flags.clients + q];
      int n = q;
      queries[q] = Loop(phase, [&] {
        grpc::ClientContext context;
        client.Prepare(context);
        v1::GetAreaRequest request;
        request.set_plan_id(kPlan);
        request.set_area_id(AreaId(n++ % kAreas));
        v1::GetAreaResponse response;
        return client.queries().GetArea(&context, request, &response);
      });
    });
  }
  absl::SleepFor(kWarmup);
  const uint64_t delivered_before =
      with_ok ? GetWebhook(setup, ok_id).delivered() : 0;
  const absl::Time start = absl::Now();
  phase.store(kMeasuring);
  absl::SleepFor(absl::Seconds(flags.seconds));
  phase.store(kDone);
  const absl::Time end = absl::Now();
  Row row;
  row.scenario = name;
  if (with_ok) {
    row.deliveries = GetWebhook(setup, ok_id).delivered() - delivered_before;
  }
  for (std::thread& thread : running) thread.join();
  row.appends = Summarize(std::move(appends), end - start);
  row.queries = Summarize(std::move(queries), end - start);
  if (with_ok) {
    row.endpoints.push_back(
        {"/ok", GetWebhook(setup, ok_id), receiver.ok_requests()});
  }
  if (with_hang) {
    row.endpoints.push_back(
        {"/hang", GetWebhook(setup, hang_id), receiver.hang_requests()});
  }

  // The hanging request first, or the dispatcher's Stop would wait for it
  // (up to the I/O timeout).
  const absl::Time shutdown_start = absl::Now();
  receiver.Release();
  (*server)->Shutdown(absl::Seconds(1));
  server->reset();
  receiver.Stop();
  row.shutdown = absl::Now() - shutdown_start;
  clients.clear();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return row;
}

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return false;
    }
    if (arg == "--seconds") {
      if (!absl::SimpleAtod(value, &flags.seconds) || flags.seconds <= 0) {
        return false;
      }
    } else if (arg == "--clients") {
      if (!absl::SimpleAtoi(value, &flags.clients) || flags.clients < 1 ||
          flags.clients > kAreas) {
        return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

std::string Ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", ms);
  return text;
}

std::string Rate(double per_second) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", per_second);
  return text;
}

}  // namespace
}  // namespace plantrail

int main(int argc, char** argv) {
  plantrail::Flags flags;
  if (!plantrail::ParseFlags(argc, argv, flags)) {
    std::fprintf(stderr,
                 "usage: webhook_bench [--seconds S (10)] [--clients N (8, "
                 "at most %d)]\n",
                 plantrail::kAreas);
    return 2;
  }
  std::vector<plantrail::Row> rows;
  rows.push_back(
      plantrail::RunScenario(flags, "(a) no endpoint", false, false));
  rows.push_back(plantrail::RunScenario(flags, "(b) /ok", true, false));
  rows.push_back(plantrail::RunScenario(flags, "(c) /ok + /hang", true, true));

  std::printf(
      "%d appending clients (ReportStatus, fsync), %d query clients "
      "(GetArea), %d areas; %g s measured per scenario after %g s of "
      "warm-up; a fresh data directory per scenario.\n\n",
      flags.clients, plantrail::kQueryThreads, plantrail::kAreas, flags.seconds,
      absl::ToDoubleSeconds(plantrail::kWarmup));
  std::printf(
      "| scenario | appends/s | append p50 ms | append p99 ms | queries/s | "
      "query p50 ms | query p99 ms | webhook deliveries during the run "
      "|\n|---|---|---|---|---|---|---|---|\n");
  for (const plantrail::Row& row : rows) {
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n",
                row.scenario.c_str(),
                plantrail::Rate(row.appends.per_second).c_str(),
                plantrail::Ms(row.appends.p50_ms).c_str(),
                plantrail::Ms(row.appends.p99_ms).c_str(),
                plantrail::Rate(row.queries.per_second).c_str(),
                plantrail::Ms(row.queries.p50_ms).c_str(),
                plantrail::Ms(row.queries.p99_ms).c_str(),
                row.deliveries ? absl::StrCat(*row.deliveries).c_str() : "–");
  }
  std::printf(
      "\nThe endpoints when the load stopped:\n\n"
      "| scenario | endpoint | state | delivered | lag_events | lag s | "
      "requests received | last error |\n|---|---|---|---|---|---|---|---|\n");
  for (const plantrail::Row& row : rows) {
    for (const plantrail::EndpointEnd& end : row.endpoints) {
      const plantrail::v1::WebhookEndpoint& e = end.endpoint;
      std::printf("| %s | %s | %s | %llu | %llu | %.1f | %llu | %s |\n",
                  row.scenario.c_str(), end.path.c_str(),
                  plantrail::v1::WebhookState_Name(e.state()).c_str(),
                  static_cast<unsigned long long>(e.delivered()),
                  static_cast<unsigned long long>(e.lag_events()),
                  e.lag_seconds(),
                  static_cast<unsigned long long>(end.requests_received),
                  e.last_error().empty() ? "–" : e.last_error().c_str());
    }
  }
  std::printf("\n");
  int failed = 0;
  for (const plantrail::Row& row : rows) {
    std::printf("%s: shutdown (release /hang, server, receiver) took %.2f s",
                row.scenario.c_str(), absl::ToDoubleSeconds(row.shutdown));
    for (const auto* figures : {&row.appends, &row.queries}) {
      if (figures->errors > 0) {
        ++failed;
        std::printf("; %llu failed calls (%s)",
                    static_cast<unsigned long long>(figures->errors),
                    figures->first_error.c_str());
      }
    }
    std::printf("\n");
  }
  return failed > 0 ? 1 : 0;
}
