#include "services/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "audit/digest.h"
#include "common/quote.h"
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
// was copied survives a crash once this returns (`root`'s own entry in its
// parent is the caller's to sync).
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
  return FsyncPath(root);
}

absl::Status CopyKeyFiles(const fs::path& from, const fs::path& to) {
  std::error_code error;
  for (const char* name :
       {kSigningKeyFile, kSigningPublicKeyFile, kWebhookKeyFile}) {
    if (!fs::exists(from / name)) continue;
    fs::copy_file(from / name, to / name, error);
    if (!error && std::string(name) != kSigningPublicKeyFile) {
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

// A directory this backup made, open by descriptor: everything is written
// through `/proc/self/fd/N`, so a path swapped for a symbolic link after the
// checks cannot redirect a write, and the caller's path (which might carry
// anything, a token pasted by mistake among it) never reaches RocksDB's LOG.
struct MadeDirectory {
  int fd = -1;
  fs::path path;  // as the caller named it, for messages
  fs::path via_fd() const {
    return fs::path("/proc/self/fd") / std::to_string(fd);
  }
};

// Checks `directory` as a place for a new backup: absolute, no "." or ".."
// and no empty component, printable, within the system's length limits.
absl::Status CheckBackupPath(absl::string_view directory) {
  if (directory.empty() || directory.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("directory: ", QuoteForMessage(directory),
                     " must be an absolute path on the server's machine"));
  }
  if (directory.size() >= PATH_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("directory: ", directory.size(), " bytes long, at most ",
                     PATH_MAX - 1));
  }
  for (const char c : directory) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("directory: ", QuoteForMessage(directory),
                       " holds a control character"));
    }
  }
  absl::string_view rest = directory.substr(1);
  if (absl::EndsWith(rest, "/")) rest.remove_suffix(1);
  for (absl::string_view part : absl::StrSplit(rest, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "directory: ", QuoteForMessage(directory),
          " must name its directory plainly: no \".\", \"..\" or empty "
          "component"));
    }
    if (part.size() > NAME_MAX) {
      return absl::InvalidArgumentError(
          absl::StrCat("directory: a component is ", part.size(),
                       " bytes long, at most ", NAME_MAX));
    }
  }
  return absl::OkStatus();
}

// Creates `directory` and whatever of its parents is missing (0700), never
// through a symbolic link and never reusing what exists (mkdir's EEXIST is
// the O_EXCL of directories). `made` gets every directory created, parents
// first, so that a failure removes exactly those.
absl::StatusOr<MadeDirectory> MakeBackupDirectory(const fs::path& directory,
                                                  const fs::path& data_dir,
                                                  std::vector<fs::path>& made) {
  // A backup inside the data directory would be inside what it copies (and
  // inside the live log's own directory, perhaps).
  std::error_code error;
  const fs::path live = fs::weakly_canonical(data_dir, error);
  const fs::path target = directory.lexically_normal();
  if (!error) {
    auto [live_end, target_end] =
        std::mismatch(live.begin(), live.end(), target.begin(), target.end());
    if (live_end == live.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "directory: ", QuoteForMessage(directory.string()),
          " is inside the server's data directory; a backup goes elsewhere"));
    }
  }
  fs::path at = "/";
  const fs::path parent = target.parent_path();
  for (const fs::path& part : parent.relative_path()) {
    at /= part;
    struct stat info;
    if (lstat(at.c_str(), &info) == 0) {
      if (S_ISLNK(info.st_mode)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "directory: ", QuoteForMessage(at.string(), 200),
            " is a symbolic link; name the directory it points to"));
      }
      if (!S_ISDIR(info.st_mode)) {
        return absl::FailedPreconditionError(
            absl::StrCat("directory: ", QuoteForMessage(at.string(), 200),
                         " exists and is not a directory"));
      }
      continue;
    }
    if (errno != ENOENT || mkdir(at.c_str(), 0700) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "directory: cannot create ", QuoteForMessage(at.string(), 200), ": ",
          std::strerror(errno)));
    }
    made.push_back(at);
  }
  if (mkdir(target.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("directory: ", QuoteForMessage(target.string(), 200),
                       " already exists; a backup goes into a new directory"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "directory: cannot create ", QuoteForMessage(target.string(), 200),
        ": ", std::strerror(errno)));
  }
  made.push_back(target);
  MadeDirectory out{.path = target};
  out.fd =
      open(target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out.fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "directory: cannot open ", QuoteForMessage(target.string(), 200), ": ",
        std::strerror(errno)));
  }
  return out;
}

// Undoes MakeBackupDirectory and what was written into the new directory:
// the contents through the descriptor (which still names the directory made,
// whatever its path points to now), then each directory made, newest first,
// with rmdir, which removes nothing that is not an empty directory.
void RemoveMade(const MadeDirectory* directory,
                const std::vector<fs::path>& made) {
  std::error_code ignored;
  if (directory != nullptr && directory->fd >= 0) {
    for (const fs::directory_entry& entry :
         fs::directory_iterator(directory->via_fd(), ignored)) {
      fs::remove_all(entry.path(), ignored);
    }
  }
  for (auto it = made.rbegin(); it != made.rend(); ++it) rmdir(it->c_str());
}

absl::StatusOr<v1::BackupResponse> WriteBackupInto(
    const eventstore::EventStore& store, const audit::SigningKey& key,
    const fs::path& data_dir, const MadeDirectory& made) {
  const fs::path directory = made.via_fd();
  if (absl::Status copied =
          store.CreateCheckpoint((directory / kLogDirectory).string());
      !copied.ok()) {
    return absl::Status(copied.code(), absl::StrCat("cannot copy the log into ",
                                                    made.path.string(), ": ",
                                                    copied.message()));
  }
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
  PLANTRAIL_RETURN_IF_ERROR(FsyncPath(made.path.parent_path()));
  v1::BackupResponse response;
  response.set_directory(made.path.string());
  response.set_head_position(report.head_position);
  *response.mutable_digest() = std::move(digest);
  return response;
}

}  // namespace

absl::StatusOr<v1::BackupResponse> WriteBackup(
    const eventstore::EventStore& store, const audit::SigningKey& key,
    const std::string& data_dir, const std::string& directory) {
  PLANTRAIL_RETURN_IF_ERROR(CheckBackupPath(directory));
  std::vector<fs::path> made;
  absl::StatusOr<MadeDirectory> target =
      MakeBackupDirectory(fs::path(directory), fs::path(data_dir), made);
  if (!target.ok()) {
    RemoveMade(nullptr, made);
    return target.status();
  }
  absl::StatusOr<v1::BackupResponse> written =
      WriteBackupInto(store, key, data_dir, *target);
  if (!written.ok()) RemoveMade(&*target, made);
  close(target->fd);
  return written;
}

absl::Status RestoreBackup(const std::string& backup_dir,
                           const std::string& data_dir) {
  const fs::path from(backup_dir);
  const fs::path to(data_dir);
  PLANTRAIL_ASSIGN_OR_RETURN(v1::Digest digest,
                             ReadManifest(from / kBackupManifestFile));
  // Projections folded from another log would be resumed on this one.
  for (const char* name :
       {kLogDirectory, "projections", kSigningKeyFile, kWebhookKeyFile}) {
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
    fs::remove(to / kWebhookKeyFile, ignored);
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
