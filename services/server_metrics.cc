// Server::RenderMetrics: what the metrics endpoint serves. Names follow the
// Prometheus conventions: a plantrail_ prefix, base units (seconds, bytes),
// _total for counters; the gRPC families use the names of
// go-grpc-prometheus, the process ones those of the client libraries. The
// full list, with the alerts worth setting, is in docs/operations.md.
#include <sys/statvfs.h>

#include "absl/strings/str_cat.h"
#include "metrics/exposition.h"
#include "metrics/process.h"
#include "services/server.h"

#ifndef PLANTRAIL_VERSION
#define PLANTRAIL_VERSION "unknown"
#endif

namespace plantrail::services {
namespace {

using metrics::Exposition;
using metrics::Labels;
using metrics::Type;

void Gauge(Exposition& out, const char* name, const char* help, double value,
           const Labels& labels = {}) {
  out.Family(name, Type::kGauge, help);
  out.Sample(value, labels);
}

void Counter(Exposition& out, const char* name, const char* help,
             double value) {
  out.Family(name, Type::kCounter, help);
  out.Sample(value);
}

void WriteLogMetrics(Exposition& out, const eventstore::Stats& stats) {
  Gauge(out, "plantrail_log_head_position",
        "Position of the last event committed to the log.",
        static_cast<double>(stats.head_position));
  Counter(out, "plantrail_appends_total",
          "Appends acknowledged (including idempotent replays).",
          static_cast<double>(stats.appends));
  Counter(out, "plantrail_appends_replayed_total",
          "Appends acknowledged as replays of events already in the log.",
          static_cast<double>(stats.replayed_appends));
  Counter(out, "plantrail_appends_rejected_total",
          "Appends refused: expected version, validation, no space.",
          static_cast<double>(stats.rejected_appends));
  Counter(out, "plantrail_events_appended_total", "Events written to the log.",
          static_cast<double>(stats.events_appended));
  out.Family("plantrail_append_duration_seconds", Type::kHistogram,
             "Time from an append being queued for the writer (it passed "
             "validation) to its answer: queueing, the commit, its fsync.");
  out.Sample(stats.append_seconds);
  Counter(out, "plantrail_commit_groups_total",
          "Commit groups written (one RocksDB WriteBatch each).",
          static_cast<double>(stats.commit_groups));
  Counter(out, "plantrail_fsyncs_total",
          "Commit groups fsync'd before their appends were acknowledged.",
          static_cast<double>(stats.synced_commits));
  Counter(out, "plantrail_wal_syncs_total", "WAL syncs RocksDB itself counted.",
          static_cast<double>(stats.wal_syncs));
  out.Family("plantrail_commit_duration_seconds", Type::kHistogram,
             "Time to write one commit group, its fsync included.");
  out.Sample(stats.commit_seconds);
  out.Family("plantrail_commit_group_events", Type::kHistogram,
             "Events per commit group (per fsync).");
  out.Sample(stats.group_events);
  out.Family("plantrail_reads_total", Type::kCounter,
             "Reads of the log that succeeded, by kind: one stream, or the "
             "whole log by position.");
  out.Sample(static_cast<double>(stats.stream_reads), {{"kind", "stream"}});
  out.Sample(static_cast<double>(stats.log_reads), {{"kind", "log"}});
  Counter(out, "plantrail_events_read_total", "Events returned by reads.",
          static_cast<double>(stats.events_read));
}

void WriteRocksDbMetrics(
    Exposition& out,
    const std::vector<std::pair<const char*, eventstore::RocksDbStats>>&
        databases) {
  struct Property {
    const char* name;
    Type type;
    const char* help;
    uint64_t eventstore::RocksDbStats::*field;
    double scale = 1;
  };
  static const Property kProperties[] = {
      {"plantrail_rocksdb_sst_files_bytes", Type::kGauge,
       "Size of the database's SST files.",
       &eventstore::RocksDbStats::sst_files_bytes},
      {"plantrail_rocksdb_live_data_bytes", Type::kGauge,
       "RocksDB's estimate of the live data's size.",
       &eventstore::RocksDbStats::live_data_bytes},
      {"plantrail_rocksdb_memtable_bytes", Type::kGauge,
       "Memory held by memtables.", &eventstore::RocksDbStats::memtable_bytes},
      {"plantrail_rocksdb_table_readers_bytes", Type::kGauge,
       "Memory held by SST index and filter blocks outside the cache.",
       &eventstore::RocksDbStats::table_readers_bytes},
      {"plantrail_rocksdb_block_cache_bytes", Type::kGauge,
       "Memory held by the block cache.",
       &eventstore::RocksDbStats::block_cache_bytes},
      {"plantrail_rocksdb_pending_compaction_bytes", Type::kGauge,
       "Bytes compaction has yet to rewrite (backlog).",
       &eventstore::RocksDbStats::pending_compaction_bytes},
      {"plantrail_rocksdb_running_compactions", Type::kGauge,
       "Compactions running now.",
       &eventstore::RocksDbStats::running_compactions},
      {"plantrail_rocksdb_running_flushes", Type::kGauge,
       "Memtable flushes running now.",
       &eventstore::RocksDbStats::running_flushes},
      {"plantrail_rocksdb_background_errors", Type::kGauge,
       "Background errors (flush, compaction) since the database opened.",
       &eventstore::RocksDbStats::background_errors},
      {"plantrail_rocksdb_written_bytes_total", Type::kCounter,
       "Bytes written by RocksDB (user writes).",
       &eventstore::RocksDbStats::bytes_written},
      {"plantrail_rocksdb_read_bytes_total", Type::kCounter,
       "Bytes read by RocksDB (user reads).",
       &eventstore::RocksDbStats::bytes_read},
      {"plantrail_rocksdb_wal_written_bytes_total", Type::kCounter,
       "Bytes written to the write-ahead log.",
       &eventstore::RocksDbStats::wal_bytes},
      {"plantrail_rocksdb_compaction_written_bytes_total", Type::kCounter,
       "Bytes written by compactions.",
       &eventstore::RocksDbStats::compaction_bytes_written},
      {"plantrail_rocksdb_flush_written_bytes_total", Type::kCounter,
       "Bytes written by memtable flushes.",
       &eventstore::RocksDbStats::flush_bytes_written},
      {"plantrail_rocksdb_block_cache_hits_total", Type::kCounter,
       "Block cache hits.", &eventstore::RocksDbStats::block_cache_hits},
      {"plantrail_rocksdb_block_cache_misses_total", Type::kCounter,
       "Block cache misses.", &eventstore::RocksDbStats::block_cache_misses},
      {"plantrail_rocksdb_stall_seconds_total", Type::kCounter,
       "Time writes were stalled by RocksDB's write controller.",
       &eventstore::RocksDbStats::stall_micros, 1e-6},
  };
  for (const Property& property : kProperties) {
    out.Family(property.name, property.type, property.help);
    for (const auto& [name, stats] : databases) {
      // Tickers are counted only where RocksDB keeps statistics.
      if (property.type == Type::kCounter && !stats.has_statistics) continue;
      out.Sample(static_cast<double>(stats.*(property.field)) * property.scale,
                 {{"db", name}});
    }
  }
}

// One sample per live endpoint, labelled with its id (at most
// kMaxWebhooks: a bounded label set).
void WriteWebhookMetrics(Exposition& out,
                         const std::vector<v1::WebhookEndpoint>& endpoints) {
  struct Family {
    const char* name;
    Type type;
    const char* help;
    double (*value)(const v1::WebhookEndpoint& endpoint);
  };
  static const Family kFamilies[] = {
      {"plantrail_webhook_delivered_total", Type::kCounter,
       "Webhook requests acknowledged with a 2xx since the server started.",
       [](const v1::WebhookEndpoint& e) {
         return static_cast<double>(e.delivered());
       }},
      {"plantrail_webhook_failed_total", Type::kCounter,
       "Webhook requests that failed (no answer, or not a 2xx).",
       [](const v1::WebhookEndpoint& e) {
         return static_cast<double>(e.failed());
       }},
      {"plantrail_webhook_retries_total", Type::kCounter,
       "Webhook requests that were retries of a failed one.",
       [](const v1::WebhookEndpoint& e) {
         return static_cast<double>(e.retries());
       }},
      {"plantrail_webhook_lag_events", Type::kGauge,
       "Positions between the head and what the endpoint has been "
       "delivered.",
       [](const v1::WebhookEndpoint& e) {
         return static_cast<double>(e.lag_events());
       }},
      {"plantrail_webhook_lag_seconds", Type::kGauge,
       "Age of the oldest event the endpoint has not been delivered yet.",
       [](const v1::WebhookEndpoint& e) { return e.lag_seconds(); }},
      {"plantrail_webhook_failing", Type::kGauge,
       "1 while the endpoint has been retrying for the failing time.",
       [](const v1::WebhookEndpoint& e) {
         return e.state() == v1::WEBHOOK_FAILING ? 1.0 : 0.0;
       }},
      {"plantrail_webhook_paused", Type::kGauge,
       "1 while the endpoint is paused.",
       [](const v1::WebhookEndpoint& e) {
         return e.state() == v1::WEBHOOK_PAUSED ? 1.0 : 0.0;
       }},
  };
  for (const Family& family : kFamilies) {
    out.Family(family.name, family.type, family.help);
    for (const v1::WebhookEndpoint& endpoint : endpoints) {
      out.Sample(family.value(endpoint),
                 {{"endpoint", endpoint.endpoint_id()}});
    }
  }
}

void WriteReplicationMetrics(Exposition& out,
                             const v1::ReplicationStatus& state) {
  const bool replica = state.role() == v1::ReplicationStatus::REPLICA;
  Gauge(out, "plantrail_replication_is_leader",
        "1 on a leader (accepts writes), 0 on a replica.", replica ? 0 : 1);
  Gauge(out, "plantrail_replication_term",
        "The last leadership term this server's log holds (0: none).",
        static_cast<double>(state.term()));
  if (replica) {
    Gauge(out, "plantrail_replication_following",
          "On a replica: 1 while it receives its leader's records, 0 while "
          "it connects again or after it stopped.",
          state.follow_state() == v1::ReplicationStatus::FOLLOWING ? 1 : 0,
          {{"leader", state.leader()}});
    Gauge(out, "plantrail_replication_stopped",
          "On a replica: 1 after it stopped following for good (a refused "
          "record, a forked log); an operator acts.",
          state.follow_state() == v1::ReplicationStatus::STOPPED ? 1 : 0,
          {{"leader", state.leader()}});
    Gauge(out, "plantrail_replication_lag_events",
          "On a replica: positions between the leader's head and this log's.",
          static_cast<double>(state.lag_events()),
          {{"leader", state.leader()}});
    Gauge(out, "plantrail_replication_lag_seconds",
          "On a replica: how much older this log's head is than the "
          "leader's, in the leader's record times.",
          state.lag_seconds(), {{"leader", state.leader()}});
  }
  out.Family("plantrail_replica_durable_position", Type::kGauge,
             "The position up to which a replica following this server says "
             "its log is durable.");
  for (const v1::ReplicaStatus& follower : state.replicas()) {
    out.Sample(static_cast<double>(follower.durable_position()),
               {{"replica", follower.replica_name()}});
  }
  out.Family("plantrail_replica_sent_position", Type::kGauge,
             "The last position sent to a replica following this server.");
  for (const v1::ReplicaStatus& follower : state.replicas()) {
    out.Sample(static_cast<double>(follower.sent_position()),
               {{"replica", follower.replica_name()}});
  }
}

}  // namespace

std::string Server::RenderMetrics() const {
  Exposition out;
  Gauge(out, "plantrail_build_info",
        "Always 1; the labels say which plantraild this is.", 1,
        {{"version", PLANTRAIL_VERSION}});

  const eventstore::Stats log = store_->GetStats();
  WriteLogMetrics(out, log);

  rpc_observer_->WriteMetrics(out);

  const SubscriptionHub::Stats subscriptions = subscriptions_->GetStats();
  Gauge(out, "plantrail_subscriptions_open",
        "Change-stream subscriptions open now.",
        static_cast<double>(subscriptions.open));
  Gauge(out, "plantrail_subscriptions_behind",
        "Open subscriptions at least 1000 positions behind the head.",
        static_cast<double>(subscriptions.behind));
  Gauge(out, "plantrail_subscription_max_lag_events",
        "Positions between the head and the furthest-behind open "
        "subscription.",
        static_cast<double>(subscriptions.max_lag));
  Counter(out, "plantrail_subscription_events_sent_total",
          "Events delivered to subscribers.",
          static_cast<double>(subscriptions.events_sent));

  WriteWebhookMetrics(out, webhooks_->Live());
  WriteReplicationMetrics(out, ReplicationState());
  if (sync_gate_ != nullptr) {
    const replication::SyncGate::Stats sync = sync_gate_->GetStats();
    Gauge(out, "plantrail_replication_synchronous",
          "1 while appends wait for --sync-replicas replicas; 0 while the "
          "fallback acknowledges them alone.",
          sync.asynchronous ? 0 : 1);
    Counter(out, "plantrail_replication_sync_timeouts_total",
            "Appends that failed waiting for their synchronous replicas.",
            static_cast<double>(sync.timed_out));
    Counter(out, "plantrail_replication_async_acknowledged_total",
            "Appends acknowledged without their synchronous replicas (the "
            "fallback).",
            static_cast<double>(sync.acknowledged_async));
  }

  using projections::RunnerStatus;
  struct ProjectionFamily {
    const char* name;
    Type type;
    const char* help;
    double (*value)(const RunnerStatus& runner, uint64_t head);
  };
  static const ProjectionFamily kProjectionFamilies[] = {
      {"plantrail_projection_checkpoint_position", Type::kGauge,
       "Position up to which the projection's live copy is folded.",
       [](const RunnerStatus& r, uint64_t) {
         return static_cast<double>(r.checkpoint);
       }},
      {"plantrail_projection_lag_events", Type::kGauge,
       "Positions the projection's live copy is behind the log.",
       [](const RunnerStatus& r, uint64_t head) {
         return head > r.checkpoint ? static_cast<double>(head - r.checkpoint)
                                    : 0.0;
       }},
      {"plantrail_projection_events_applied_total", Type::kCounter,
       "Events the projection has applied since the server started.",
       [](const RunnerStatus& r, uint64_t) {
         return static_cast<double>(r.events_applied);
       }},
      {"plantrail_projection_rebuilding", Type::kGauge,
       "1 while a rebuild of the projection runs.",
       [](const RunnerStatus& r, uint64_t) {
         return r.state == RunnerStatus::State::kRebuilding ? 1.0 : 0.0;
       }},
      {"plantrail_projection_failed", Type::kGauge,
       "1 when the projection stopped on an error (see the log).",
       [](const RunnerStatus& r, uint64_t) {
         return r.state == RunnerStatus::State::kFailed ? 1.0 : 0.0;
       }},
  };
  const RunnerStatus runners[] = {area_state_->Status(), history_->Status(),
                                  changes_->Status()};
  for (const ProjectionFamily& family : kProjectionFamilies) {
    out.Family(family.name, family.type, family.help);
    for (const RunnerStatus& runner : runners) {
      out.Sample(family.value(runner, log.head_position),
                 {{"projection", runner.name}});
    }
  }

  WriteRocksDbMetrics(out, {{"eventstore", log.storage},
                            {"projections", projection_store_->Stats()}});

  struct statvfs disk {};
  if (statvfs(options_.data_dir.c_str(), &disk) == 0) {
    Gauge(out, "plantrail_data_dir_free_bytes",
          "Free space (for unprivileged users) on the data directory's disk.",
          static_cast<double>(disk.f_bavail) *
              static_cast<double>(disk.f_frsize));
    Gauge(out, "plantrail_data_dir_size_bytes",
          "Size of the data directory's disk.",
          static_cast<double>(disk.f_blocks) *
              static_cast<double>(disk.f_frsize));
  }
  Gauge(out, "plantrail_min_free_bytes",
        "The free-space floor (--min-free-mb): below it appends are refused.",
        static_cast<double>(options_.min_free_bytes));

  metrics::WriteProcessMetrics(out);
  return std::move(out).Text();
}

}  // namespace plantrail::services
