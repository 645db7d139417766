// The mechanics of the layer test (layers_test.cc holds the rules): which
// headers a source file reaches, directly or through the project's own
// headers, and which libraries a target reaches through ours; each finding
// a line that names the file and line (or the target) and the rule broken.
// Kept apart from the rules so that the test can feed it synthetic files
// and show that a broken rule is found.
#ifndef PLANTRAIL_TESTS_LAYERS_LAYER_CHECK_H_
#define PLANTRAIL_TESTS_LAYERS_LAYER_CHECK_H_

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace plantrail::layers {

// Source files by their path from the source root ("domain/decide.cc"),
// with their text.
using SourceTree = std::map<std::string, std::string>;

// Every .h and .cc file under `folders` (relative to `root`).
SourceTree ReadSourceTree(const std::filesystem::path& root,
                          const std::vector<std::string>& folders);

struct SourceRule {
  // Said with each violation, e.g. "domain/ does no I/O".
  std::string rule;
  // ECMAScript regex on a file's path from the source root: the files the
  // rule is about.
  std::string applies_to;
  // Regexes on an included path ("grpcpp/grpcpp.h", "fstream"). An include
  // breaks the rule whether the file itself has it or reaches it through
  // headers of the tree (a header of ours that includes a forbidden one);
  // the path is matched as written and, for a header of the tree, as its
  // path from the root.
  std::vector<std::string> forbidden_includes;
  // Regexes on the file's own code, its comments and the contents of its
  // string literals left out ("absl::Now\\s*\\(").
  std::vector<std::string> forbidden_code;
};

// One line per violation, sorted:
//   domain/x.cc:3: #include <fstream> [domain/ does no I/O]
//   clients/cli/y.cc:5: #include "audit/a.h" -> audit/a.h:9: #include
//     "eventstore/rocksdb_event_store.h" [...]    (on one line)
//   domain/x.cc:12: absl::Now() [domain/ reads no clock]
// A header reached by several ways is reported once, by the shortest.
std::vector<std::string> CheckSources(const SourceTree& tree,
                                      const std::vector<SourceRule>& rules);

// A library or program of ours and what it links (PUBLIC, PRIVATE and
// INTERFACE alike): our targets by their real name ("plantrail_domain"),
// others as CMake names them ("gRPC::grpc++").
struct Target {
  std::string name;
  // Its CMakeLists.txt's folder from the source root ("clients/cli").
  std::string folder;
  std::vector<std::string> links;
};
using LinkGraph = std::map<std::string, Target>;

// The file tests/layers/CMakeLists.txt writes: per line
// "name<TAB>folder<TAB>link;link;...".
absl::StatusOr<LinkGraph> ParseLinkGraph(const std::string& text);

struct LinkRule {
  std::string rule;
  // Regex on "folder:name" ("domain:plantrail_domain").
  std::string applies_to;
  // Regexes on a library linked directly or through our targets.
  std::vector<std::string> forbidden;
};

// One line per violation, sorted:
//   plantrail_domain (domain) links gRPC::grpc++ through plantrail_x [...]
std::vector<std::string> CheckLinks(const LinkGraph& graph,
                                    const std::vector<LinkRule>& rules);

// The file's code, line by line, without comments and with string and
// character literals emptied (their quotes kept); preprocessor lines are
// kept as written, so that #include "x.h" stays visible.
std::vector<std::string> CodeLines(const std::string& text);

}  // namespace plantrail::layers

#endif  // PLANTRAIL_TESTS_LAYERS_LAYER_CHECK_H_
