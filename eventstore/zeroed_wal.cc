#include "eventstore/zeroed_wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sync.h"

namespace plantrail::eventstore {
namespace {

rocksdb::IOStatus IoError(absl::string_view what, const std::string& path,
                          int error) {
  const std::string message =
      absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOSPC) return rocksdb::IOStatus::NoSpace(message);
  return rocksdb::IOStatus::IOError(message);
}

// NNNNNN.log: RocksDB's name for a WAL file.
bool IsWalFile(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  absl::string_view number = name;
  if (!absl::ConsumeSuffix(&number, ".log") || number.empty()) return false;
  return std::all_of(number.begin(), number.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

// Writes `bytes` zeros to a new file at `path` and syncs it; false (and no
// file) when it could not. `stop` is polled between chunks.
template <typename Stop>
bool WriteZeros(const std::string& path, uint64_t bytes, Stop stop) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  static const std::vector<char> kZeros(1 << 20, 0);
  bool written = true;
  for (uint64_t done = 0; written && done < bytes;) {
    if (stop()) {
      written = false;
      break;
    }
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kZeros.size(), bytes - done));
    const ssize_t wrote = ::write(fd, kZeros.data(), n);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      written = false;
      break;
    }
    done += static_cast<uint64_t>(wrote);
  }
  if (written && ::fdatasync(fd) != 0) written = false;
  ::close(fd);
  if (!written) ::unlink(path.c_str());
  return written;
}

// A WAL file in a zeroed spare: written in place from offset 0, cut to what
// was written when closed.
class ZeroedWalFile final : public rocksdb::FSWritableFile {
 public:
  ZeroedWalFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~ZeroedWalFile() override {
    if (fd_ >= 0) Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions&,
                           rocksdb::IODebugContext*) override {
    const char* from = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t wrote =
          ::pwrite(fd_, from, left, static_cast<off_t>(size_));
      if (wrote < 0) {
        if (errno == EINTR) continue;
        return IoError("cannot append to", path_, errno);
      }
      from += wrote;
      left -= static_cast<size_t>(wrote);
      size_ += static_cast<uint64_t>(wrote);
    }
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo&,
                           rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions&,
                             rocksdb::IODebugContext*) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return IoError("cannot truncate", path_, errno);
    }
    size_ = size;
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions&,
                          rocksdb::IODebugContext*) override {
    if (fd_ < 0) return rocksdb::IOStatus::OK();
    // The zeros after the records go: a closed WAL file is exactly its
    // records, as RocksDB's own files are.
    rocksdb::IOStatus status;
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      status = IoError("cannot cut", path_, errno);
    }
    if (::close(fd_) != 0 && status.ok()) {
      status = IoError("cannot close", path_, errno);
    }
    fd_ = -1;
    return status;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions&,
                          rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();  // nothing is buffered here
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&,
                         rocksdb::IODebugContext*) override {
    if (::fdatasync(fd_) != 0) return IoError("cannot sync", path_, errno);
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&,
                          rocksdb::IODebugContext*) override {
    if (::fsync(fd_) != 0) return IoError("cannot sync", path_, errno);
    return rocksdb::IOStatus::OK();
  }
  bool IsSyncThreadSafe() const override { return true; }
  uint64_t GetFileSize(const rocksdb::IOOptions&,
                       rocksdb::IODebugContext*) override {
    return size_;
  }

 private:
  const std::string path_;
  int fd_;
  uint64_t size_ = 0;  // what RocksDB wrote; the file is longer until Close
};

class ZeroedWalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  ZeroedWalFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                      std::string directory, uint64_t file_bytes)
      : rocksdb::FileSystemWrapper(std::move(base)),
        spare_((std::filesystem::path(directory) / kSpareWalName).string()),
        making_(spare_ + ".tmp"),
        file_bytes_(file_bytes) {
    std::error_code ignored;
    std::filesystem::create_directories(directory, ignored);
    ::unlink(making_.c_str());
    struct stat spare;
    bool ready = false;
    if (::stat(spare_.c_str(), &spare) == 0 &&
        static_cast<uint64_t>(spare.st_size) == file_bytes_) {
      ready = true;  // from the previous open, still zeros
    } else {
      ::unlink(spare_.c_str());
      ready = MakeSpare([] { return false; });
    }
    {
      MutexLock lock(&mu_);
      ready_ = ready;
    }
    maker_ = std::thread([this] { MakeSpares(); });
  }

  ~ZeroedWalFileSystem() override {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    maker_.join();
  }

  const char* Name() const override { return "PlantrailZeroedWal"; }

  rocksdb::IOStatus NewWritableFile(
      const std::string& path, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* file,
      rocksdb::IODebugContext* dbg) override {
    if (!IsWalFile(path) || options.use_direct_writes || !TakeSpare(path)) {
      return target()->NewWritableFile(path, options, file, dbg);
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return IoError("cannot open", path, errno);
    *file = std::make_unique<ZeroedWalFile>(path, fd);
    return rocksdb::IOStatus::OK();
  }

 private:
  // Renames the spare to `path` when one is ready.
  bool TakeSpare(const std::string& path) {
    MutexLock lock(&mu_);
    if (!ready_) return false;
    ready_ = false;  // the maker starts on the next one
    return ::rename(spare_.c_str(), path.c_str()) == 0;
  }

  template <typename Stop>
  bool MakeSpare(Stop stop) {
    if (!WriteZeros(making_, file_bytes_, stop)) return false;
    // Named the spare only once all of it is zeros on disk.
    if (::rename(making_.c_str(), spare_.c_str()) != 0) {
      ::unlink(making_.c_str());
      return false;
    }
    return true;
  }

  void MakeSpares() {
    for (;;) {
      {
        MutexLock lock(&mu_);
        mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !ready_;
        });
        if (stopping_) return;
      }
      const bool made = MakeSpare([this] {
        MutexLock lock(&mu_);
        return stopping_;
      });
      MutexLock lock(&mu_);
      if (made) {
        ready_ = true;
      } else if (!stopping_) {
        // A full disk, say: RocksDB gets ordinary files meanwhile.
        mu_.AwaitWithDeadline(
            [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; },
            absl::Now() + absl::Seconds(1));
      }
    }
  }

  const std::string spare_;
  const std::string making_;
  const uint64_t file_bytes_;
  Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread maker_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewZeroedWalFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, std::string directory,
    uint64_t file_bytes) {
  return std::make_shared<ZeroedWalFileSystem>(
      std::move(base), std::move(directory), file_bytes);
}

}  // namespace plantrail::eventstore
