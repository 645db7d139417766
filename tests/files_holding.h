// Which files on disk still hold a text: for the tests that prove a
// redaction leaves no copy in a data directory or a backup.
#ifndef PLANTRAIL_TESTS_FILES_HOLDING_H_
#define PLANTRAIL_TESTS_FILES_HOLDING_H_

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace plantrail::testing {

// The regular files under `dir` (recursively) whose bytes contain `text`.
inline std::vector<std::string> FilesHolding(const std::string& dir,
                                             const std::string& text) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    if (bytes.find(text) != std::string::npos) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_FILES_HOLDING_H_
