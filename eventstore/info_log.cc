#include "eventstore/info_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace plantrail::eventstore {

std::shared_ptr<rocksdb::Logger> InfoLog::Open(const std::string& directory,
                                               uint64_t max_bytes) {
  std::error_code ignored;
  std::filesystem::create_directories(directory, ignored);
  return std::shared_ptr<rocksdb::Logger>(
      new InfoLog(directory + "/LOG", max_bytes));
}

InfoLog::InfoLog(std::string path, uint64_t max_bytes)
    : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL),
      path_(std::move(path)),
      max_bytes_(max_bytes) {
  MutexLock lock(&mu_);
  OpenFile();
}

InfoLog::~InfoLog() {
  MutexLock lock(&mu_);
  if (fd_ >= 0) close(fd_);
}

void InfoLog::OpenFile() {
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat info;
  bytes_ = fd_ >= 0 && fstat(fd_, &info) == 0 ? info.st_size : 0;
}

void InfoLog::Logv(const char* format, va_list ap) {
  char line[4096];
  const std::string stamp = absl::FormatTime("%Y/%m/%d-%H:%M:%E6S ",
                                             absl::Now(), absl::UTCTimeZone());
  const int stamped = std::snprintf(line, sizeof(line), "%s", stamp.c_str());
  // vsnprintf says how long the whole message would have been (it is cut to
  // the buffer), or is negative for a format it cannot render.
  const int message =
      std::vsnprintf(line + stamped, sizeof(line) - stamped, format, ap);
  size_t length =
      std::min<size_t>(stamped + std::max(message, 0), sizeof(line) - 2);
  if (length == 0 || line[length - 1] != '\n') line[length++] = '\n';

  MutexLock lock(&mu_);
  if (bytes_ + length > max_bytes_) {
    if (fd_ >= 0) close(fd_);
    std::error_code ignored;
    std::filesystem::rename(path_, path_ + ".old", ignored);
    OpenFile();
  }
  if (fd_ < 0) return;
  // A line that cannot be written (the disk is full) is dropped: losing a
  // log line is better than losing the process.
  if (write(fd_, line, length) == static_cast<ssize_t>(length)) {
    bytes_ += length;
  }
}

}  // namespace plantrail::eventstore
