#include "services/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "audit/digest.h"
#include "common/status_macros.h"

namespace plantrail::services {
namespace {

namespace fs = std::filesystem;

constexpr char kBackupFormat[] = "plantrail-backup-v1";
constexpr char kLogDirectory[] = "eventstore";

absl::Status FsyncPath(const fs::path& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const bool synced = fd >= 0 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!synced) {
    return absl::UnavailableError(absl::StrCat("cannot fsync ", path.string()));
  }
  return absl::OkStatus();
}

// fsyncs every file and directory under `root`, and `root` itself, so what
// was copied survives a crash once this returns.
absl::Status FsyncTree(const fs::path& root) {
  std::error_code error;
  for (fs::recursive_directory_iterator it(root, error), end;
       !error && it != end; it.increment(error)) {
    PLANTRAIL_RETURN_IF_ERROR(FsyncPath(it->path()));
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot walk ", root.string(), ": ", error.message()));
  }
  PLANTRAIL_RETURN_IF_ERROR(FsyncPath(root));
  return FsyncPath(root.parent_path());
}

absl::Status CopyKeyFiles(const fs::path& from, const fs::path& to) {
  std::error_code error;
  for (const char* name : {kSigningKeyFile, kSigningPublicKeyFile}) {
    if (!fs::exists(from / name)) continue;
    fs::copy_file(from / name, to / name, error);
    if (!error && std::string(name) == kSigningKeyFile) {
      fs::permissions(to / name, fs::perms::owner_read | fs::perms::owner_write,
                      error);
    }
    if (error) {
      return absl::UnavailableError(absl::StrCat(
          "cannot copy ", (from / name).string(), ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteManifest(const fs::path& path, const v1::Digest& digest) {
  nlohmann::ordered_json manifest;
  manifest["format"] = kBackupFormat;
  manifest["head_position"] = digest.position();
  manifest["digest"] = audit::DigestToJson(digest);
  std::ofstream out(path);
  out << manifest.dump(2) << "\n";
  out.close();
  if (!out) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path.string()));
  }
  return FsyncPath(path);
}

absl::StatusOr<v1::Digest> ReadManifest(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(
        "restore_from: no ", path.filename().string(), " in ",
        path.parent_path().string(), " (not a plantrail backup?)"));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json manifest =
      nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object() || manifest.value("format", "") != kBackupFormat ||
      !manifest.contains("digest")) {
    return absl::FailedPreconditionError(
        absl::StrCat("restore_from: ", path.string(), " is not a ",
                     kBackupFormat, " manifest"));
  }
  absl::StatusOr<v1::Digest> digest = audit::DigestFromJson(manifest["digest"]);
  if (!digest.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("restore_from: the digest in ", path.string(), ": ",
                     digest.status().message()));
  }
  if (absl::Status signed_ok = audit::CheckDigest(*digest); !signed_ok.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("restore_from: the digest in ", path.string(),
                     " does not check out: ", signed_ok.message()));
  }
  return digest;
}

// Opens the log at `path` and verifies it, anchored at `anchor` if given.
absl::StatusOr<eventstore::VerifyReport> VerifyCopy(
    const fs::path& path, std::optional<eventstore::ChainAnchor> anchor) {
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::unique_ptr<eventstore::EventStore> copy,
      eventstore::EventStore::Open({.path = path.string()}));
  return copy->Verify({.anchor = anchor});
}

absl::StatusOr<v1::BackupResponse> WriteBackupInto(
    const eventstore::EventStore& store, const audit::SigningKey& key,
    const fs::path& data_dir, const fs::path& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (!error) {
    fs::permissions(directory, fs::perms::owner_all, error);
  }
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("directory: cannot create ", directory.string(), ": ",
                     error.message()));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      store.CreateCheckpoint((directory / kLogDirectory).string()));
  PLANTRAIL_RETURN_IF_ERROR(CopyKeyFiles(data_dir, directory));
  PLANTRAIL_ASSIGN_OR_RETURN(
      eventstore::VerifyReport report,
      VerifyCopy(directory / kLogDirectory, std::nullopt));
  if (!report.ok) {
    return absl::DataLossError(
        absl::StrCat("the copy does not verify at position ",
                     report.first_broken_position, ": ", report.problem));
  }
  if (report.head_position == 0) {
    return absl::FailedPreconditionError(
        "the log is empty: nothing to back up");
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      v1::Digest digest,
      audit::SignDigest(key, report.head_position, report.head_hash,
                        report.head_position, absl::Now()));
  PLANTRAIL_RETURN_IF_ERROR(
      WriteManifest(directory / kBackupManifestFile, digest));
  PLANTRAIL_RETURN_IF_ERROR(FsyncTree(directory));
  v1::BackupResponse response;
  response.set_directory(directory.string());
  response.set_head_position(report.head_position);
  *response.mutable_digest() = std::move(digest);
  return response;
}

}  // namespace

absl::StatusOr<v1::BackupResponse> WriteBackup(
    const eventstore::EventStore& store, const audit::SigningKey& key,
    const std::string& data_dir, const std::string& directory) {
  const fs::path path(directory);
  if (directory.empty() || !path.is_absolute()) {
    return absl::InvalidArgumentError(
        absl::StrCat("directory: \"", directory,
                     "\" must be an absolute path on the server's machine"));
  }
  if (fs::exists(path)) {
    return absl::AlreadyExistsError(
        absl::StrCat("directory: ", directory,
                     " already exists; a backup goes into a new directory"));
  }
  absl::StatusOr<v1::BackupResponse> written =
      WriteBackupInto(store, key, data_dir, path);
  if (!written.ok()) {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  return written;
}

absl::Status RestoreBackup(const std::string& backup_dir,
                           const std::string& data_dir) {
  const fs::path from(backup_dir);
  const fs::path to(data_dir);
  PLANTRAIL_ASSIGN_OR_RETURN(v1::Digest digest,
                             ReadManifest(from / kBackupManifestFile));
  // Projections folded from another log would be resumed on this one.
  for (const char* name : {kLogDirectory, "projections", kSigningKeyFile}) {
    if (fs::exists(to / name)) {
      return absl::FailedPreconditionError(
          absl::StrCat("data_dir: ", (to / name).string(),
                       " exists; restore into a data directory without a log, "
                       "projections or key"));
    }
  }
  auto undo = [&to] {
    std::error_code ignored;
    fs::remove_all(to / kLogDirectory, ignored);
    fs::remove(to / kSigningKeyFile, ignored);
    fs::remove(to / kSigningPublicKeyFile, ignored);
  };
  std::error_code error;
  fs::create_directories(to, error);
  if (!error) {
    fs::copy(from / kLogDirectory, to / kLogDirectory,
             fs::copy_options::recursive, error);
  }
  if (error) {
    undo();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot copy ", (from / kLogDirectory).string(), " to ",
                     to.string(), ": ", error.message()));
  }
  absl::Status restored = CopyKeyFiles(from, to);
  if (restored.ok()) restored = FsyncTree(to / kLogDirectory);
  if (restored.ok()) restored = FsyncPath(to);
  if (restored.ok()) {
    absl::StatusOr<eventstore::VerifyReport> report = VerifyCopy(
        to / kLogDirectory,
        eventstore::ChainAnchor{
            .position = digest.position(),
            .hash = *audit::HashFromBytes(digest.head_hash(), "head_hash")});
    if (!report.ok()) {
      restored = report.status();
    } else if (!report->ok) {
      restored = absl::DataLossError(absl::StrCat(
          "restore_from: the backup's log does not verify at position ",
          report->first_broken_position, ": ", report->problem));
    } else if (report->head_position != digest.position()) {
      restored = absl::DataLossError(absl::StrCat(
          "restore_from: the backup's log ends at ", report->head_position,
          ", its digest at ", digest.position()));
    }
  }
  if (!restored.ok()) undo();
  return restored;
}

}  // namespace plantrail::services
