// A small client of etcd's v3 API through its JSON gateway (grpc-gateway:
// POST /v3/..., keys and values base64, 64-bit integers as JSON strings),
// with what a leader election needs and no more: leases (grant, keep alive,
// revoke) and one key (create if absent, read, delete if still ours).
//
// Plain HTTP over cpp-httplib, one connection per request: etcd's gateway is
// the one interface every packaged etcd serves without generated gRPC stubs,
// and an election makes a request every few seconds, so a connection pool
// would buy nothing.
//
// Errors (nothing throws):
//   - kInvalidArgument: a malformed endpoint list, a client without
//     endpoints.
//   - kUnavailable: no endpoint answered (no connection, a timeout, an HTTP
//     error without etcd's answer in it, or etcd's own "unavailable": no
//     leader, a request timed out in raft); the message names every endpoint
//     tried and why each failed.
//   - etcd's answer to a request it refused: its gRPC code (the same numbers
//     as absl::StatusCode) with etcd's message, as in "etcd 127.0.0.1:2379
//     /v3/kv/txn: etcdserver: requested lease not found" (kNotFound).
//   - kInternal: an answer that is not the JSON etcd's gateway writes.
//
// Thread safety: every method may be called concurrently; the only state
// shared between calls is which endpoint answered last.
#ifndef PLANTRAIL_ELECTION_ETCD_CLIENT_H_
#define PLANTRAIL_ELECTION_ETCD_CLIENT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace plantrail::election {

struct EtcdEndpoint {
  // A host name, an IPv4 address or an IPv6 address (without brackets).
  std::string host;
  int port = 0;

  // "HOST:PORT", an IPv6 host in brackets.
  std::string ToString() const;
  friend bool operator==(const EtcdEndpoint&, const EtcdEndpoint&) = default;
};

// Splits "HOST:PORT[,HOST:PORT...]" (an IPv6 host in brackets, as in
// [::1]:2379; no scheme, no spaces) into endpoints, in order. The port is 1
// to 65535; an endpoint may not repeat. Fails with kInvalidArgument: `flag`,
// ": ", the list and the rule it breaks (`flag` names the setting the list
// came from, say "election").
absl::StatusOr<std::vector<EtcdEndpoint>> ParseEtcdEndpoints(
    absl::string_view list, absl::string_view flag);

// One key as etcd stores it. Revisions are etcd's (the whole store's
// counter); lease is 0 for a key without one.
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

class EtcdClient {
 public:
  // `timeout` bounds each request's connect, and each read and write on its
  // connection, on each endpoint tried.
  EtcdClient(std::vector<EtcdEndpoint> endpoints, absl::Duration timeout);
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Every call below tries the endpoints in order, starting from the one
  // that answered last and wrapping around, until one answers; kUnavailable
  // when none does. An endpoint is tried once per call: no other retries.
  // A request whose answer was lost may have been applied; each method says
  // what that means for it.

  // A new lease of `ttl` rounded up to whole seconds, at least 1. etcd may
  // grant more: it raises a TTL to 1.5 election timeouts (2 s for a 1 s TTL
  // on its defaults); KeepAlive() says what it granted. A lost answer leaves
  // a lease nobody keeps alive, which expires on its own.
  absl::StatusOr<int64_t> GrantLease(absl::Duration ttl);

  // Refreshes `lease` and returns its TTL from now on. kNotFound when the
  // lease has expired, was revoked, or never was (etcd answers all three
  // alike). A keep-alive never revives a lease etcd found expired.
  absl::StatusOr<absl::Duration> KeepAlive(int64_t lease);

  // Revokes `lease`, deleting every key attached to it. OK also when the
  // lease is already gone.
  absl::Status RevokeLease(int64_t lease);

  struct Campaign {
    // Whether the key is ours: created by this call, or already created
    // under `lease` (by a call of ours whose answer was lost).
    bool won = false;
    // The key's holder: ours when won (create_revision is the revision
    // that created it), else whoever holds it.
    KeyValue holder;
    // The store's revision when etcd answered.
    int64_t revision = 0;
  };
  // Creates `key` = `value` attached to `lease` (0: none) if no such key
  // exists, in one transaction: of concurrent campaigns for a key exactly
  // one wins. kNotFound (etcd's) when `lease` has expired.
  absl::StatusOr<Campaign> CreateIfAbsent(const std::string& key,
                                          const std::string& value,
                                          int64_t lease);

  // The key, or nullopt when it does not exist.
  absl::StatusOr<std::optional<KeyValue>> Get(const std::string& key);

  // Sets `key` to `value`, with no lease (it stays).
  absl::Status Put(const std::string& key, const std::string& value);

  // Deletes `key` only while its create_revision is `create_revision`, so
  // that a resigning leader never deletes its successor's key. Returns
  // whether it deleted it (false also when the key is absent; and when a
  // lost answer had deleted it already).
  absl::StatusOr<bool> DeleteIf(const std::string& key,
                                int64_t create_revision);

 private:
  const std::vector<EtcdEndpoint> endpoints_;
  const absl::Duration timeout_;
  // The index of the endpoint that answered last: where the next call
  // starts. Relaxed: it is a hint, any value of it is correct.
  std::atomic<size_t> preferred_{0};
};

}  // namespace plantrail::election

#endif  // PLANTRAIL_ELECTION_ETCD_CLIENT_H_
