#include "services/leader_election.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "logging/log.h"

namespace plantrail::services {
namespace {

// How much of a lease a leader trusts: answers go out only while well
// inside it, so a leader that is slow to learn it lost never overlaps its
// successor.
constexpr double kTrustedShare = 0.5;

}  // namespace

absl::StatusOr<std::unique_ptr<LeaderElection>> LeaderElection::Create(
    const ElectionOptions& options, std::string address) {
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::vector<election::EtcdEndpoint> endpoints,
      election::ParseEtcdEndpoints(options.etcd, "election"));
  if (options.ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("election-ttl: at least 1 second");
  }
  return std::unique_ptr<LeaderElection>(
      new LeaderElection(options, std::move(address), std::move(endpoints)));
}

LeaderElection::LeaderElection(const ElectionOptions& options,
                               std::string address,
                               std::vector<election::EtcdEndpoint> endpoints)
    : options_(options),
      address_(std::move(address)),
      etcd_(std::move(endpoints),
            std::max(options.ttl / 3, absl::Milliseconds(300))) {}

LeaderElection::~LeaderElection() { Stop(); }

absl::StatusOr<ElectedRole> LeaderElection::Decide(uint64_t last_term) {
  const absl::Time deadline = absl::Now() + 10 * options_.ttl;
  absl::Status last_problem = absl::OkStatus();
  while (absl::Now() < deadline) {
    absl::StatusOr<std::optional<election::KeyValue>> holder =
        etcd_.Get(options_.key);
    if (!holder.ok()) {
      last_problem = holder.status();
    } else if (*holder && (*holder)->value != address_) {
      return ElectedRole{.leader = (*holder)->value};
    } else if (!*holder) {
      absl::StatusOr<std::optional<election::KeyValue>> term =
          etcd_.Get(options_.key + "/term");
      uint64_t begun = 0;
      if (term.ok() && *term && !absl::SimpleAtoi((*term)->value, &begun)) {
        begun = 0;  // not a number: no term recorded that this log is behind
      }
      if (!term.ok()) {
        last_problem = term.status();
      } else if (last_term < begun) {
        last_problem = absl::UnavailableError(absl::StrCat(
            "this log's last term (", last_term, ") is older than term ", begun,
            " begun by a leader: waiting for a server that holds it "
            "to win"));
      } else {
        absl::StatusOr<int64_t> lease = etcd_.GrantLease(options_.ttl);
        if (!lease.ok()) return lease.status();
        absl::StatusOr<election::EtcdClient::Campaign> campaign =
            etcd_.CreateIfAbsent(options_.key, address_, *lease);
        if (!campaign.ok()) return campaign.status();
        if (campaign->won) {
          return ElectedRole{.lead = true,
                             .lease = *lease,
                             .revision = campaign->holder.create_revision};
        }
        etcd_.RevokeLease(*lease).IgnoreError();
        return ElectedRole{.leader = campaign->holder.value};
      }
    }
    // Held by this address's previous run (its lease runs out), or nobody
    // eligible has won yet.
    absl::SleepFor(options_.ttl / 4);
  }
  return absl::UnavailableError(absl::StrCat(
      "election: no leader could be found or elected on ", options_.etcd,
      last_problem.ok() ? std::string()
                        : absl::StrCat(": ", last_problem.message())));
}

absl::Status LeaderElection::RecordTerm(uint64_t term) {
  return etcd_.Put(options_.key + "/term", absl::StrCat(term));
}

void LeaderElection::Start(ElectedRole role, Hooks hooks) {
  role_ = std::move(role);
  hooks_ = std::move(hooks);
  if (role_.lead) {
    hooks_.valid_until(absl::Now() + options_.ttl * kTrustedShare);
  }
  thread_ = std::thread([this] { Run(); });
}

void LeaderElection::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (role_.lead && role_.lease != 0) {
    // Gives the key up: a caught-up replica wins without waiting out the
    // lease.
    etcd_.RevokeLease(role_.lease).IgnoreError();
  }
}

bool LeaderElection::Sleep(absl::Duration duration) {
  MutexLock lock(&mu_);
  return !mu_.AwaitWithDeadline(
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; },
      absl::Now() + duration);
}

void LeaderElection::Run() {
  while (Sleep(options_.ttl / 6)) {
    if (!(role_.lead ? KeepLeading() : KeepFollowing())) return;
  }
}

bool LeaderElection::KeepLeading() {
  const absl::Time asked = absl::Now();
  absl::StatusOr<absl::Duration> left = etcd_.KeepAlive(role_.lease);
  if (left.ok()) {
    // Measured from before the request: the lease was at least this valid
    // then.
    hooks_.valid_until(asked + *left * kTrustedShare);
    return true;
  }
  if (!absl::IsNotFound(left.status()) &&
      absl::Now() < asked + options_.ttl * kTrustedShare) {
    return true;  // etcd unreachable for now; the fence runs out by itself
  }
  const std::string why =
      absl::StrCat("lost the leadership lease on etcd (",
                   left.status().message(), "); this server leads no more");
  logging::Error("election: lost the lease", {{"problem", why}});
  role_.lease = 0;
  hooks_.restart(why);
  return false;
}

bool LeaderElection::KeepFollowing() {
  absl::StatusOr<std::optional<election::KeyValue>> holder =
      etcd_.Get(options_.key);
  if (!holder.ok()) return true;  // try again next round
  if (*holder) {
    if ((*holder)->value == role_.leader) return true;
    hooks_.restart(absl::StrCat("another server leads now: ", (*holder)->value,
                                "; following it"));
    return false;
  }
  // Nobody leads. Only a replica that was caught up a moment ago runs: it
  // holds every acknowledged append (it is the synchronous replica).
  if (absl::Now() - hooks_.caught_up_at() > 2 * options_.ttl) {
    logging::Debug(
        "election: nobody leads, but this replica was not caught "
        "up lately; not running");
    return true;
  }
  absl::StatusOr<int64_t> lease = etcd_.GrantLease(options_.ttl);
  if (!lease.ok()) return true;
  absl::StatusOr<election::EtcdClient::Campaign> campaign =
      etcd_.CreateIfAbsent(options_.key, address_, *lease);
  if (!campaign.ok()) {
    etcd_.RevokeLease(*lease).IgnoreError();
    return true;
  }
  if (!campaign->won) {
    etcd_.RevokeLease(*lease).IgnoreError();
    if (campaign->holder.value == role_.leader) return true;
    hooks_.restart(absl::StrCat("another server won the election: ",
                                campaign->holder.value, "; following it"));
    return false;
  }
  role_ = ElectedRole{.lead = true,
                      .lease = *lease,
                      .revision = campaign->holder.create_revision};
  hooks_.valid_until(absl::Now() + options_.ttl * kTrustedShare);
  absl::StatusOr<uint64_t> term = hooks_.promote(role_.revision);
  if (!term.ok()) {
    logging::Error("election: won, but could not take over; resigning",
                   {{"problem", std::string(term.status().message())}});
    etcd_.RevokeLease(*lease).IgnoreError();
    role_.lease = 0;
    hooks_.restart(absl::StrCat("could not take over after winning: ",
                                term.status().message()));
    return false;
  }
  RecordTerm(*term).IgnoreError();
  logging::Warning("election: won; this server leads",
                   {{"term", absl::StrCat(*term)},
                    {"revision", absl::StrCat(role_.revision)}});
  return true;
}

}  // namespace plantrail::services
