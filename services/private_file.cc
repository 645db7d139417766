#include "services/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace plantrail::services {
namespace {

absl::Status CannotOpen(const std::string& path, absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("data_dir: ", path, " ", why,
                   " [rule: private files are regular files of the server's "
                   "user, mode 0600]"));
}

}  // namespace

absl::StatusOr<int> OpenPrivateFileForAppend(const std::string& path) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
           0600);
  if (fd < 0) {
    return CannotOpen(
        path, errno == ELOOP
                  ? "is a symbolic link"
                  : absl::StrCat("cannot be opened: ", std::strerror(errno)));
  }
  struct stat info;
  absl::Status problem;
  if (fstat(fd, &info) != 0) {
    problem = CannotOpen(
        path, absl::StrCat("cannot be examined: ", std::strerror(errno)));
  } else if (!S_ISREG(info.st_mode)) {
    problem = CannotOpen(path, "is not a regular file");
  } else if (info.st_uid != geteuid()) {
    problem = CannotOpen(
        path, absl::StrCat("belongs to user ", info.st_uid,
                           ", not to the server's user ", geteuid()));
  } else if ((info.st_mode & 077) != 0 && fchmod(fd, 0600) != 0) {
    problem = CannotOpen(
        path, absl::StrCat("cannot be made 0600: ", std::strerror(errno)));
  }
  if (!problem.ok()) {
    close(fd);
    return problem;
  }
  return fd;
}

absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return CannotOpen(
        path, absl::StrCat("cannot be replaced: ", std::strerror(errno)));
  }
  const int fd = open(
      path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return CannotOpen(
        path, absl::StrCat("cannot be created: ", std::strerror(errno)));
  }
  const bool written = fchmod(fd, 0600) == 0 &&
                       write(fd, content.data(), content.size()) ==
                           static_cast<ssize_t>(content.size()) &&
                       fsync(fd) == 0;
  close(fd);
  if (!written) {
    return CannotOpen(
        path, absl::StrCat("cannot be written: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace plantrail::services
