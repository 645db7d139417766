// RocksDB's info log (the LOG file in a database's directory), written so
// that a full disk cannot take the process down.
//
// RocksDB's own file logger, once a write to LOG has failed, aborts the
// process on its next line (an assertion in Debian's build of 7.8) — and a
// full disk is exactly when RocksDB has most to log. This one drops lines
// it cannot write, and rolls LOG over to LOG.old at `max_bytes`.
#ifndef PLANTRAIL_EVENTSTORE_INFO_LOG_H_
#define PLANTRAIL_EVENTSTORE_INFO_LOG_H_

#include <cstdarg>
#include <cstdint>
#include <memory>
#include <string>

#include "common/sync.h"
#include "rocksdb/env.h"

namespace plantrail::eventstore {

// Thread-safe, as RocksDB requires of a Logger.
class InfoLog : public rocksdb::Logger {
 public:
  // Logs into `directory`/LOG (created if missing) at INFO level and up.
  static std::shared_ptr<rocksdb::Logger> Open(const std::string& directory,
                                               uint64_t max_bytes = 8 << 20);
  ~InfoLog() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;

 private:
  InfoLog(std::string path, uint64_t max_bytes);
  void OpenFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const uint64_t max_bytes_;
  Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_INFO_LOG_H_
