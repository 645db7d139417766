// What replication costs durable appends: EventStore.Append of one small
// event (the ~100-byte JSON payload of bench/run), acknowledged after the
// fsync, over real gRPC on loopback against real plantraild processes, in
// one run next to the ceiling and the peer of bench/run:
//   - the ceiling: raw RocksDB, a synced WriteBatch per append
//     (bench/rocksdb_ceiling, run as it is);
//   - the peer: PostgreSQL with synchronous_commit on, on one node
//     (bench/pg_peer, with a PostgreSQL of its own from bench/postgres.sh);
//     left out when pg_peer was not built (no libpq) or with --postgres 0;
//   - plantraild alone;
//   - plantraild with one replica (--replica-of) following asynchronously;
//   - plantraild with --sync-replicas 1 and one replica: an append is
//     acknowledged once the replica holds it durably.
// Each with 1 and 16 clients (--clients): threads in a closed loop, each on
// its own connection and its own stream, for --seconds after a one-second
// warm-up. Each plantraild setup gets fresh data directories; a replica
// starts with the leader's signing and webhook keys and has caught up
// before the load starts. After each load it reports how far the replica
// was behind when the load stopped and how long it took to catch up.
// Prints a markdown table. See README.md.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/replication.pb.h"

extern char** environ;

namespace plantrail {
namespace {

namespace fs = std::filesystem;

constexpr absl::Duration kWarmup = absl::Seconds(1);
// How long a server may take to print its address, and a replica to catch
// up (before the load, and after it for the figure).
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kCatchUpTimeout = absl::Seconds(30);
constexpr int kPayloadBytes = 100;

struct Flags {
  double seconds = 3;
  std::vector<int> clients = {1, 16};
  bool postgres = true;
};

// --- Child processes

// The work directory and the children still running, for Fail().
std::string g_work;
std::vector<pid_t> g_children;

// Prints `what`, kills every child still running, removes the work
// directory and exits: a benchmark whose setup fails measures nothing.
[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "replication_bench: %s\n", what.c_str());
  for (pid_t pid : g_children) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  if (!g_work.empty()) {
    std::error_code ignored;
    fs::remove_all(g_work, ignored);
  }
  std::exit(1);
}

void Forget(pid_t pid) {
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid),
                   g_children.end());
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Tail(const std::string& text, size_t bytes = 2000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

// The CPU time (user and system) `pid` has used so far; 0 if unknown.
double CpuSeconds(pid_t pid) {
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t comm_end = stat.rfind(')');
  if (comm_end == std::string::npos) return 0;
  // After the command: state (field 3) ... utime (14), stime (15).
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(comm_end + 2), ' ');
  double utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtod(fields[11], &utime) ||
      !absl::SimpleAtod(fields[12], &stime)) {
    return 0;
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Spawns `args` with stdout into `out` (or a pipe, when `pipe_out` is set:
// its read end) and stderr into the file `err`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& out,
            const std::string& err, int* pipe_out = nullptr) {
  int fds[2] = {-1, -1};
  if (pipe_out != nullptr && pipe(fds) != 0) Fail("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (pipe_out != nullptr) {
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& arg : copy) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int spawned =
      posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (pipe_out != nullptr) {
    close(fds[1]);
    *pipe_out = fds[0];
  }
  if (spawned != 0) Fail(absl::StrCat("cannot run ", args[0]));
  g_children.push_back(pid);
  return pid;
}

// Runs `args` to completion; returns what it printed on stdout. Fails the
// run (with its stderr) when it does not exit 0.
std::string Capture(const std::vector<std::string>& args,
                    const std::string& err) {
  int out = -1;
  const pid_t pid = Spawn(args, "", err, &out);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(out, buffer, sizeof buffer)) > 0;) {
    text.append(buffer, n);
  }
  close(out);
  int status = 0;
  waitpid(pid, &status, 0);
  Forget(pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    Fail(absl::StrCat(args[0], " failed: ", Tail(ReadFile(err))));
  }
  return text;
}

// One plantraild on a free loopback port, its output in files next to its
// data directory.
class Daemon {
 public:
  Daemon(const fs::path& data, const std::vector<std::string>& extra)
      : data_(data),
        out_(data.string() + ".out"),
        err_(data.string() + ".err") {
    std::vector<std::string> args = {PLANTRAILD_PATH, "--data-dir",
                                     data.string(), "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = Spawn(args, out_, err_);
    const std::string marker = "listening on ";
    const absl::Time deadline = absl::Now() + kStartTimeout;
    for (;;) {
      const std::string out = ReadFile(out_);
      const size_t at = out.find(marker);
      const size_t end =
          at == std::string::npos ? at : out.find(' ', at + marker.size());
      if (end != std::string::npos) {
        address_ = out.substr(at + marker.size(), end - at - marker.size());
        break;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        Forget(pid_);
        Fail(absl::StrCat("plantraild exited: ", Tail(ReadFile(err_))));
      }
      if (absl::Now() > deadline) {
        Fail(
            absl::StrCat("plantraild did not come up: ", Tail(ReadFile(err_))));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  ~Daemon() { Stop(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  const fs::path& data() const { return data_; }

  // SIGTERM, and waits for the exit (a clean shutdown).
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    Forget(pid_);
    pid_ = -1;
  }

 private:
  fs::path data_;
  std::string out_, err_;
  pid_t pid_ = -1;
  std::string address_;
};

// --- gRPC clients

// One connection per client (a distinct channel argument keeps gRPC from
// sharing the subchannel), every call with the leader's admin token.
class Client {
 public:
  Client(const std::string& address, const std::string& token, int index)
      : bearer_("Bearer " + token) {
    grpc::ChannelArguments args;
    args.SetInt("plantrail.bench.channel", index);
    channel_ = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    store_ = v1::EventStore::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
  }

  void Prepare(grpc::ClientContext& context) const {
    context.AddMetadata("authorization", bearer_);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
  }
  v1::EventStore::Stub& store() { return *store_; }
  v1::Admin::Stub& admin() { return *admin_; }

 private:
  std::string bearer_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStore::Stub> store_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

grpc::Status GetStats(Client& client, v1::GetStatsResponse& stats) {
  grpc::ClientContext context;
  client.Prepare(context);
  return client.admin().GetStats(&context, {}, &stats);
}

v1::GetStatsResponse Stats(Client& client, const std::string& what) {
  v1::GetStatsResponse stats;
  const grpc::Status status = GetStats(client, stats);
  if (!status.ok()) {
    Fail(absl::StrCat("GetStats of ", what, ": ", status.error_message()));
  }
  return stats;
}

// The head of the replica's log; nullopt while it refuses our token (it
// has not yet replicated the leader's tokens).
std::optional<uint64_t> ReplicaHead(Client& replica) {
  v1::GetStatsResponse stats;
  if (!GetStats(replica, stats).ok()) return std::nullopt;
  return stats.head_position();
}

// Waits until the leader has the replica following it and the replica's
// head is the leader's; the time that took, or nullopt after `timeout`.
std::optional<absl::Duration> AwaitCaughtUp(Client& leader, Client& replica,
                                            absl::Duration timeout) {
  const absl::Time start = absl::Now();
  const uint64_t head = Stats(leader, "the leader").head_position();
  while (absl::Now() - start < timeout) {
    const std::optional<uint64_t> at = ReplicaHead(replica);
    if (at && *at >= head &&
        Stats(leader, "the leader").replication().replicas_size() >= 1) {
      return absl::Now() - start;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return std::nullopt;
}

// A payload like bench/run's: a ~100-byte JSON object.
std::string Payload(uint64_t n) {
  std::string payload = absl::StrCat("{\"seq\":", n, ",\"note\":\"");
  while (payload.size() + 2 < static_cast<size_t>(kPayloadBytes)) {
    payload += 'x';
  }
  return payload + "\"}";
}

// --- Measuring

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

// What bench/run's programs print (bench/loop_result.h): rate and p50/p99
// in microseconds.
Figures FromLoopResult(const std::string& line, const std::string& what) {
  const nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.contains("items_per_second")) {
    Fail(absl::StrCat(what, " printed: ", line));
  }
  Figures figures;
  figures.per_second = json["items_per_second"].get<double>();
  figures.p50_ms = json["p50_us"].get<double>() / 1000;
  figures.p99_ms = json["p99_us"].get<double>() / 1000;
  return figures;
}

struct Row {
  std::string setup;
  int clients = 0;
  Figures appends;
  // plantraild, in the measured window: the leader's appends per synced
  // commit group (one fsync), and the cores it kept busy.
  bool plantraild = false;
  std::optional<double> appends_per_fsync;
  double leader_cores = 0;
  // With a replica: the same of the replica (events it wrote per fsync),
  // how many events it was behind when the load stopped, and how long it
  // then took to catch up (nullopt: not in time).
  bool has_replica = false;
  std::optional<double> replica_events_per_fsync;
  double replica_cores = 0;
  std::optional<uint64_t> replica_behind;
  std::optional<absl::Duration> caught_up_after;
};

std::optional<double> PerFsync(uint64_t count, uint64_t before_fsyncs,
                               uint64_t after_fsyncs) {
  if (after_fsyncs <= before_fsyncs) return std::nullopt;
  return static_cast<double>(count) / (after_fsyncs - before_fsyncs);
}

// `clients` closed loops of single-event appends against the leader, each
// on a stream of its own; `replica` (and `replica_pid`) when there is one.
Row MeasureAppends(const Flags& flags, const std::string& setup, int clients,
                   const std::string& address, const std::string& token,
                   Client& leader, pid_t leader_pid, Client* replica,
                   pid_t replica_pid) {
  std::vector<std::unique_ptr<Client>> connections;
  for (int i = 0; i < clients; ++i) {
    connections.push_back(std::make_unique<Client>(address, token, i + 1));
  }
  std::atomic<int> phase{kWarmingUp};
  std::vector<Samples> samples(clients);
  std::vector<std::thread> running;
  for (int i = 0; i < clients; ++i) {
    running.emplace_back([&, i] {
      Client& client = *connections[i];
      const std::string stream = absl::StrCat("bench-c", clients, "-", i);
      uint64_t n = 0;
      samples[i] = Loop(phase, [&] {
        grpc::ClientContext context;
        client.Prepare(context);
        v1::AppendRequest request;
        request.set_stream_id(stream);
        request.mutable_expected_version()->mutable_any();
        v1::ProposedEvent* event = request.add_events();
        event->set_type("BenchEvent");
        event->set_content_type("application/json");
        event->set_payload(Payload(n++));
        v1::AppendResponse response;
        return client.store().Append(&context, request, &response);
      });
    });
  }
  absl::SleepFor(kWarmup);
  const v1::GetStatsResponse before = Stats(leader, "the leader");
  v1::GetStatsResponse replica_before, replica_after;
  if (replica != nullptr) replica_before = Stats(*replica, "the replica");
  const double leader_cpu = CpuSeconds(leader_pid);
  const double replica_cpu = replica != nullptr ? CpuSeconds(replica_pid) : 0;
  const absl::Time start = absl::Now();
  phase.store(kMeasuring);
  absl::SleepFor(absl::Seconds(flags.seconds));
  phase.store(kDone);
  const absl::Time end = absl::Now();
  const double window = absl::ToDoubleSeconds(end - start);
  Row row;
  row.leader_cores = (CpuSeconds(leader_pid) - leader_cpu) / window;
  if (replica != nullptr) {
    row.replica_cores = (CpuSeconds(replica_pid) - replica_cpu) / window;
  }
  const v1::GetStatsResponse after = Stats(leader, "the leader");
  if (replica != nullptr) replica_after = Stats(*replica, "the replica");
  for (std::thread& thread : running) thread.join();
  row.setup = setup;
  row.clients = clients;
  row.plantraild = true;
  row.appends = Summarize(std::move(samples), end - start);
  row.appends_per_fsync =
      PerFsync(after.appends() - before.appends(), before.synced_commits(),
               after.synced_commits());
  if (replica != nullptr) {
    row.has_replica = true;
    row.replica_events_per_fsync = PerFsync(
        replica_after.events_appended() - replica_before.events_appended(),
        replica_before.synced_commits(), replica_after.synced_commits());
    const uint64_t head = Stats(leader, "the leader").head_position();
    const std::optional<uint64_t> at = ReplicaHead(*replica);
    if (at) row.replica_behind = head > *at ? head - *at : 0;
    row.caught_up_after = AwaitCaughtUp(leader, *replica, kCatchUpTimeout);
  }
  return row;
}

fs::path MakePrivateDir(const fs::path& path) {
  fs::create_directories(path);
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

// plantraild alone, or with a replica (asynchronous, or with
// --sync-replicas 1): fresh data directories, every --clients count.
std::vector<Row> RunPlantrail(const Flags& flags, const std::string& setup,
                              const std::string& name, int replicas,
                              bool sync) {
  const fs::path dir = MakePrivateDir(fs::path(g_work) / name);
  std::vector<std::string> leader_flags;
  if (sync) leader_flags = {"--sync-replicas", "1"};
  Daemon leader_process(dir / "leader", leader_flags);
  std::string token;
  std::ifstream(dir / "leader" / "admin.token") >> token;
  if (token.empty()) Fail("the leader wrote no admin.token");
  Client leader(leader_process.address(), token, 0);

  std::unique_ptr<Daemon> replica_process;
  std::unique_ptr<Client> replica;
  if (replicas > 0) {
    // As tests/e2e/replication_e2e_test.cc's ReplicaData(): the leader's
    // signing and webhook keys in a private data directory.
    const fs::path data = MakePrivateDir(dir / "replica");
    for (const char* file : {"signing.key", "signing.pub", "webhook.key"}) {
      fs::copy_file(dir / "leader" / file, data / file);
    }
    replica_process = std::make_unique<Daemon>(
        data,
        std::vector<std::string>{"--replica-of", leader_process.address(),
                                 "--replica-token-file",
                                 (dir / "leader" / "admin.token").string(),
                                 "--replica-name", "replica-1"});
    replica = std::make_unique<Client>(replica_process->address(), token, 0);
    if (!AwaitCaughtUp(leader, *replica, kCatchUpTimeout)) {
      Fail(absl::StrCat(setup,
                        ": the replica did not catch up before the load"));
    }
  }
  std::vector<Row> rows;
  for (int clients : flags.clients) {
    rows.push_back(
        MeasureAppends(flags, setup, clients, leader_process.address(), token,
                       leader, leader_process.pid(), replica.get(),
                       replica_process ? replica_process->pid() : 0));
  }
  replica.reset();
  if (replica_process) replica_process->Stop();
  leader_process.Stop();
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return rows;
}

// The ceiling: bench/rocksdb_ceiling as bench/run runs it.
std::vector<Row> RunCeiling(const Flags& flags) {
  std::vector<Row> rows;
  for (int clients : flags.clients) {
    const std::string out = Capture(
        {ROCKSDB_CEILING_PATH, "--path", g_work + "/rocksdb", "--threads",
         absl::StrCat(clients), "--seconds", absl::StrCat(flags.seconds),
         "--warmup", absl::StrCat(absl::ToDoubleSeconds(kWarmup))},
        g_work + "/rocksdb_ceiling.err");
    Row row;
    row.setup = "ceiling: raw RocksDB, synced WriteBatch";
    row.clients = clients;
    row.appends = FromLoopResult(out, "rocksdb_ceiling");
    rows.push_back(row);
  }
  return rows;
}

// The peer: bench/pg_peer against a PostgreSQL of its own, started and
// stopped by bench/postgres.sh as bench/run does.
std::vector<Row> RunPostgres(const Flags& flags) {
#ifdef PG_PEER_PATH
  // Run as the postgres user when we are root: it must reach $work.
  fs::permissions(g_work, fs::perms::owner_all | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);
  constexpr char kScript[] = R"sh(
set -euo pipefail
source_dir=$1 work=$2 peer=$3 seconds=$4 warmup=$5
shift 5
source "$source_dir/bench/postgres.sh"
trap stop_postgres EXIT
start_postgres
for clients in "$@"; do
  "$peer" --conninfo "$conninfo" --clients "$clients" --seconds "$seconds" \
    --warmup "$warmup"
done
)sh";
  std::vector<std::string> args = {
      "bash",
      "-c",
      kScript,
      "bash",
      PLANTRAIL_SOURCE_DIR,
      g_work,
      PG_PEER_PATH,
      absl::StrCat(flags.seconds),
      absl::StrCat(absl::ToDoubleSeconds(kWarmup))};
  for (int clients : flags.clients) args.push_back(absl::StrCat(clients));
  const std::string out = Capture(args, g_work + "/postgres.err");
  std::vector<std::string> lines =
      absl::StrSplit(out, '\n', absl::SkipWhitespace());
  if (lines.size() != flags.clients.size()) {
    Fail(absl::StrCat("pg_peer printed: ", out));
  }
  std::vector<Row> rows;
  for (size_t i = 0; i < lines.size(); ++i) {
    Row row;
    row.setup = "peer: PostgreSQL, synchronous_commit on, one node";
    row.clients = flags.clients[i];
    row.appends = FromLoopResult(lines[i], "pg_peer");
    rows.push_back(row);
  }
  return rows;
#else
  (void)flags;
  return {};
#endif
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
      flags.clients.clear();
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        int clients = 0;
        if (!absl::SimpleAtoi(part, &clients) || clients < 1 || clients > 256) {
          return false;
        }
        flags.clients.push_back(clients);
      }
    } else if (arg == "--postgres") {
      if (!absl::SimpleAtob(value, &flags.postgres)) return false;
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

std::string Ratio(double part, double whole) {
  if (whole <= 0) return "–";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", part / whole);
  return text;
}

// The row of `setup` with `clients`, if measured.
const Row* Find(const std::vector<Row>& rows, const std::string& setup,
                int clients) {
  for (const Row& row : rows) {
    if (row.setup == setup && row.clients == clients) return &row;
  }
  return nullptr;
}

int Main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) {
    std::fprintf(stderr,
                 "usage: replication_bench [--seconds S (3)] [--clients "
                 "N,N,... (1,16)] [--postgres 0|1 (1)]\n");
    return 2;
  }
  const char* tmp = getenv("TMPDIR");
  g_work = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") +
           "/plantrail-replication-bench-XXXXXX";
  if (mkdtemp(g_work.data()) == nullptr) {
    std::perror("replication_bench: mkdtemp");
    return 1;
  }
  const absl::Time started = absl::Now();

  const std::string kAlone = "plantraild alone";
  const std::string kAsync = "plantraild + 1 replica, asynchronous";
  const std::string kSync = "plantraild + 1 replica, --sync-replicas 1";
  std::vector<Row> rows = RunCeiling(flags);
  bool postgres = false;
#ifdef PG_PEER_PATH
  if (flags.postgres) {
    for (Row& row : RunPostgres(flags)) rows.push_back(std::move(row));
    postgres = true;
  }
#endif
  for (auto [setup, name, replicas, sync] :
       {std::tuple{kAlone, "alone", 0, false},
        std::tuple{kAsync, "async", 1, false},
        std::tuple{kSync, "sync", 1, true}}) {
    for (Row& row : RunPlantrail(flags, setup, name, replicas, sync)) {
      rows.push_back(std::move(row));
    }
  }
  std::error_code ignored;
  fs::remove_all(g_work, ignored);

  std::string clients;
  for (int n : flags.clients) {
    absl::StrAppend(&clients, clients.empty() ? "" : " and ", n);
  }
  std::printf(
      "Durable single-event appends (EventStore.Append, a ~%d-byte JSON "
      "payload, fsync), %s clients in a closed loop, each on its own "
      "connection and stream; %g s measured after %g s of warm-up; a fresh "
      "data directory per setup; everything on loopback on this machine."
      "%s Took %.0f s.\n\n",
      kPayloadBytes, clients.c_str(), flags.seconds,
      absl::ToDoubleSeconds(kWarmup),
      postgres ? "" : " PostgreSQL not measured.",
      absl::ToDoubleSeconds(absl::Now() - started));
  std::printf(
      "| setup | clients | appends/s | p50 ms | p99 ms | of the ceiling | of "
      "plantraild alone |\n|---|---|---|---|---|---|---|\n");
  const std::string ceiling = rows.front().setup;
  for (const Row& row : rows) {
    const Row* top = Find(rows, ceiling, row.clients);
    const Row* alone = Find(rows, kAlone, row.clients);
    std::printf(
        "| %s | %d | %s | %s | %s | %s | %s |\n", row.setup.c_str(),
        row.clients, Rate(row.appends.per_second).c_str(),
        Ms(row.appends.p50_ms).c_str(), Ms(row.appends.p99_ms).c_str(),
        top == &row || top == nullptr
            ? "–"
            : Ratio(row.appends.per_second, top->appends.per_second).c_str(),
        !row.plantraild || alone == &row || alone == nullptr
            ? "–"
            : Ratio(row.appends.per_second, alone->appends.per_second).c_str());
  }
  std::printf(
      "\nThe servers in the measured window (CPU: cores kept busy, of %ld), "
      "and the replica when the load stopped:\n\n"
      "| setup | clients | leader CPU | leader appends per fsync | replica "
      "CPU | replica events per fsync | replica behind when the load "
      "stopped | replica caught up after |\n"
      "|---|---|---|---|---|---|---|---|\n",
      sysconf(_SC_NPROCESSORS_ONLN));
  auto fixed = [](std::optional<double> value, const char* format) {
    if (!value) return std::string("–");
    char text[32];
    std::snprintf(text, sizeof text, format, *value);
    return std::string(text);
  };
  for (const Row& row : rows) {
    if (!row.plantraild) continue;
    std::string behind = "–", caught_up = "–";
    if (row.has_replica) {
      behind = row.replica_behind ? absl::StrCat(*row.replica_behind, " events")
                                  : "unknown";
      caught_up =
          row.caught_up_after
              ? absl::StrCat(
                    Ms(absl::ToDoubleMilliseconds(*row.caught_up_after)), " ms")
              : absl::StrCat("not in ", absl::ToDoubleSeconds(kCatchUpTimeout),
                             " s");
    }
    std::printf(
        "| %s | %d | %s | %s | %s | %s | %s | %s |\n", row.setup.c_str(),
        row.clients, fixed(row.leader_cores, "%.2f").c_str(),
        fixed(row.appends_per_fsync, "%.1f").c_str(),
        row.has_replica ? fixed(row.replica_cores, "%.2f").c_str() : "–",
        fixed(row.replica_events_per_fsync, "%.1f").c_str(), behind.c_str(),
        caught_up.c_str());
  }
  std::printf("\n");
  int failed = 0;
  for (const Row& row : rows) {
    if (row.appends.errors > 0) {
      ++failed;
      std::printf("%s, %d clients: %llu failed calls (%s)\n", row.setup.c_str(),
                  row.clients,
                  static_cast<unsigned long long>(row.appends.errors),
                  row.appends.first_error.c_str());
    }
  }
  if (failed == 0) std::printf("No call failed.\n");
  return failed > 0 ? 1 : 0;
}

}  // namespace
}  // namespace plantrail

int main(int argc, char** argv) { return plantrail::Main(argc, argv); }
