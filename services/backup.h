// Backups of a running server and restores from them.
//
// A backup directory holds:
//   eventstore/   a RocksDB checkpoint of the log, taken while appends go
//                 on: one moment, complete appends only
//   signing.key   the server's Ed25519 key (0600), so a restored server
//   signing.pub   signs with the key auditors already pinned
//   webhook.key   the key that seals the webhook endpoints' secrets (0600),
//                 so a restored server goes on signing its deliveries
//   backup.json   a digest of the copy's last event, signed when the backup
//                 was verified
// Projections are not in it: a restored server folds them again from the
// log. Nor is admin.token: every token lives on in the log's security
// stream, and a file of secrets does not belong in a backup.
#ifndef PLANTRAIL_SERVICES_BACKUP_H_
#define PLANTRAIL_SERVICES_BACKUP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/signing_key.h"
#include "eventstore/event_store.h"
#include "plantrail/v1/admin.pb.h"

namespace plantrail::services {

// Where the server keeps its signing key, in its data directory.
inline constexpr char kSigningKeyFile[] = "signing.key";
inline constexpr char kSigningPublicKeyFile[] = "signing.pub";
inline constexpr char kBackupManifestFile[] = "backup.json";
// The webhook key (services/webhook_registry.h), in the data directory
// unless the server is told to keep it elsewhere.
inline constexpr char kWebhookKeyFile[] = "webhook.key";

// Writes a backup of `store` (the log of `data_dir`, signing with `key`)
// into `directory`, which must be absolute, name its directory plainly (no
// ".", ".." or empty component, no symbolic link on the way), lie outside
// `data_dir` and not exist; missing parents are created (0700). Then opens
// the copy, verifies its chain and signs a digest of its head. On any
// failure what this call created is removed, and nothing else: a backup is
// whole or absent, and never deletes what was there before it.
absl::StatusOr<v1::BackupResponse> WriteBackup(
    const eventstore::EventStore& store, const audit::SigningKey& key,
    const std::string& data_dir, const std::string& directory);

// Fills `data_dir` (which must hold no log yet) from the backup at
// `backup_dir`, and checks that the restored log verifies and ends exactly
// at the backup's signed digest. On failure, what was copied is removed.
absl::Status RestoreBackup(const std::string& backup_dir,
                           const std::string& data_dir);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_BACKUP_H_
