// A fresh directory for one test, removed when the test ends. Lives under
// $TMPDIR (ctest points it into the build tree), so tests stay hermetic.
#ifndef PLANTRAIL_TESTS_TEMP_DIR_H_
#define PLANTRAIL_TESTS_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace plantrail::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base ? base : "/tmp") +
        "/plantrail-test-XXXXXX";
    std::filesystem::create_directories(
        std::filesystem::path(pattern).parent_path());
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + pattern);
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_TEMP_DIR_H_
