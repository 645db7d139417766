// Files in the data directory that only the server's user may read or
// write (the security log, the first admin token): opened without following
// a symbolic link, refused unless they are regular files owned by the
// server's user, created 0600 and kept so. A link planted in the data
// directory can then neither redirect a write nor leak what is written.
#ifndef PLANTRAIL_SERVICES_PRIVATE_FILE_H_
#define PLANTRAIL_SERVICES_PRIVATE_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace plantrail::services {

// Opens `path` for appending, creating it if missing; returns the
// descriptor, which the caller owns (close it). FAILED_PRECONDITION names
// the file and the rule when it is a link, not a regular file, or owned by
// another user. A file readable by others is made 0600.
absl::StatusOr<int> OpenPrivateFileForAppend(const std::string& path);

// Writes `content` to a new file at `path` (0600) and fsyncs it. Whatever
// was at `path` (a stale file, a symbolic link) is unlinked first, never
// followed.
absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PRIVATE_FILE_H_
