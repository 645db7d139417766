#include "tests/layers/layer_check.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace plantrail::layers {
namespace {

bool IsIdentifierChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Whether the '"' at `quote` opens a raw string literal: R"( with an
// optional u8, u, U or L before the R, not the end of another identifier.
bool OpensRawString(const std::string& text, size_t quote) {
  if (quote == 0 || text[quote - 1] != 'R') return false;
  size_t start = quote - 1;  // where the literal's prefix begins
  if (start > 0 && (text[start - 1] == 'u' || text[start - 1] == 'U' ||
                    text[start - 1] == 'L')) {
    --start;
  } else if (start > 1 && text[start - 1] == '8' && text[start - 2] == 'u') {
    start -= 2;
  }
  return start == 0 || !IsIdentifierChar(text[start - 1]);
}

struct Include {
  int line = 0;
  // As written, with its delimiters: <fstream>, "domain/decide.h".
  std::string written;
  // Without them.
  std::string path;
  // The header of the tree it names; empty for others (the standard
  // library, Abseil, generated code).
  std::string resolved;
};

std::string Resolve(const SourceTree& tree, const std::string& from,
                    const std::string& path) {
  if (tree.contains(path)) return path;
  const std::string sibling = (std::filesystem::path(from).parent_path() / path)
                                  .lexically_normal()
                                  .generic_string();
  if (tree.contains(sibling)) return sibling;
  return "";
}

std::vector<Include> IncludesOf(const SourceTree& tree,
                                const std::string& file) {
  static const std::regex kInclude(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  std::vector<Include> includes;
  const std::vector<std::string> lines = CodeLines(tree.at(file));
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch match;
    if (!std::regex_search(lines[i], match, kInclude)) continue;
    const std::string path = match[2].str();
    const bool angled = match[1].str() == "<";
    includes.push_back(Include{
        .line = static_cast<int>(i) + 1,
        .written = absl::StrCat("#include ", angled ? "<" : "\"", path,
                                angled ? ">" : "\""),
        .path = path,
        .resolved = Resolve(tree, file, path),
    });
  }
  return includes;
}

std::vector<std::regex> Compile(const std::vector<std::string>& patterns) {
  std::vector<std::regex> compiled;
  for (const std::string& pattern : patterns) compiled.emplace_back(pattern);
  return compiled;
}

bool AnyMatches(const std::vector<std::regex>& patterns,
                const std::string& text) {
  if (text.empty()) return false;
  return std::any_of(
      patterns.begin(), patterns.end(),
      [&](const std::regex& p) { return std::regex_search(text, p); });
}

// The includes `file` reaches that break `forbidden`, each by its shortest
// way: breadth first through the tree's headers, never through a header
// that is itself forbidden (that one is reported, not what it includes).
void CheckIncludesOf(
    const SourceTree& tree, const std::string& file, const std::string& rule,
    const std::vector<std::regex>& forbidden,
    std::map<std::string, std::vector<Include>>& includes_cache,
    std::vector<std::string>& violations) {
  auto includes = [&](const std::string& of) -> const std::vector<Include>& {
    auto it = includes_cache.find(of);
    if (it == includes_cache.end()) {
      it = includes_cache.emplace(of, IncludesOf(tree, of)).first;
    }
    return it->second;
  };
  // The way to each header reached: "a.cc:3: #include "b.h" -> b.h:5: ...".
  std::map<std::string, std::string> way = {{file, ""}};
  std::set<std::string> reported;
  std::deque<std::string> queue = {file};
  while (!queue.empty()) {
    const std::string from = queue.front();
    queue.pop_front();
    for (const Include& include : includes(from)) {
      const std::string hop =
          absl::StrCat(way.at(from), way.at(from).empty() ? "" : " -> ", from,
                       ":", include.line, ": ", include.written);
      if (AnyMatches(forbidden, include.path) ||
          AnyMatches(forbidden, include.resolved)) {
        const std::string target =
            include.resolved.empty() ? include.path : include.resolved;
        if (reported.insert(target).second) {
          violations.push_back(absl::StrCat(hop, " [", rule, "]"));
        }
        continue;
      }
      if (include.resolved.empty() || way.contains(include.resolved)) continue;
      way.emplace(include.resolved, hop);
      queue.push_back(include.resolved);
    }
  }
}

}  // namespace

std::vector<std::string> CodeLines(const std::string& text) {
  enum class State { kCode, kBlockComment, kString, kChar, kRawString };
  State state = State::kCode;
  std::vector<std::string> lines(1);
  std::string raw_end;  // )delimiter" of the raw string being read
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c == '\n') {
      lines.emplace_back();
      line_start = true;
      if (state == State::kString || state == State::kChar) {
        state = State::kCode;  // unterminated: not C++, leave it
      }
      continue;
    }
    std::string& line = lines.back();
    switch (state) {
      case State::kCode: {
        if (line_start && c == '#') {
          // A preprocessor line, as written: #include "x.h" stays.
          const size_t end = std::min(text.find('\n', i), text.size());
          line.append(text.substr(i, end - i));
          i = end - 1;
          line_start = false;
          break;
        }
        if (c != ' ' && c != '\t') line_start = false;
        if (c == '/' && next == '/') {
          i = std::min(text.find('\n', i), text.size()) - 1;
        } else if (c == '/' && next == '*') {
          state = State::kBlockComment;
          line += ' ';
          ++i;
        } else if (c == '"' && OpensRawString(text, i)) {
          const size_t open = text.find('(', i);
          if (open == std::string::npos) return lines;
          raw_end = absl::StrCat(")", text.substr(i + 1, open - i - 1), "\"");
          line += '"';
          i = open;
          state = State::kRawString;
        } else if (c == '"') {
          line += c;
          state = State::kString;
        } else if (c == '\'' && (i == 0 || !IsIdentifierChar(text[i - 1]))) {
          // Not after a digit: 10'000 is a number.
          line += c;
          state = State::kChar;
        } else {
          line += c;
        }
        break;
      }
      case State::kBlockComment:
        if (c == '*' && next == '/') {
          state = State::kCode;
          ++i;
        }
        break;
      case State::kString:
      case State::kChar:
        if (c == '\\') {
          if (next != '\n') ++i;
        } else if (c == (state == State::kString ? '"' : '\'')) {
          line += c;
          state = State::kCode;
        }
        break;
      case State::kRawString:
        if (text.compare(i, raw_end.size(), raw_end) == 0) {
          line += '"';
          i += raw_end.size() - 1;
          state = State::kCode;
        }
        break;
    }
  }
  return lines;
}

SourceTree ReadSourceTree(const std::filesystem::path& root,
                          const std::vector<std::string>& folders) {
  SourceTree tree;
  for (const std::string& folder : folders) {
    if (!std::filesystem::is_directory(root / folder)) continue;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(root / folder)) {
      const std::string extension = entry.path().extension().string();
      if (!entry.is_regular_file() || (extension != ".h" && extension != ".cc"))
        continue;
      std::ifstream in(entry.path(), std::ios::binary);
      tree[entry.path().lexically_relative(root).generic_string()] =
          std::string(std::istreambuf_iterator<char>(in),
                      std::istreambuf_iterator<char>());
    }
  }
  return tree;
}

std::vector<std::string> CheckSources(const SourceTree& tree,
                                      const std::vector<SourceRule>& rules) {
  std::map<std::string, std::vector<Include>> includes_cache;
  std::vector<std::string> violations;
  for (const SourceRule& rule : rules) {
    const std::regex applies_to(rule.applies_to);
    const std::vector<std::regex> includes = Compile(rule.forbidden_includes);
    const std::vector<std::regex> code = Compile(rule.forbidden_code);
    for (const auto& [file, text] : tree) {
      if (!std::regex_search(file, applies_to)) continue;
      if (!includes.empty()) {
        CheckIncludesOf(tree, file, rule.rule, includes, includes_cache,
                        violations);
      }
      if (code.empty()) continue;
      const std::vector<std::string> lines = CodeLines(text);
      for (size_t i = 0; i < lines.size(); ++i) {
        const std::string line(absl::StripAsciiWhitespace(lines[i]));
        if (line.starts_with("#") || !AnyMatches(code, line)) continue;
        violations.push_back(
            absl::StrCat(file, ":", i + 1, ": ", line, " [", rule.rule, "]"));
      }
    }
  }
  std::sort(violations.begin(), violations.end());
  violations.erase(std::unique(violations.begin(), violations.end()),
                   violations.end());
  return violations;
}

absl::StatusOr<LinkGraph> ParseLinkGraph(const std::string& text) {
  LinkGraph graph;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 3 || fields[0].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", number, " is not name<TAB>folder<TAB>links: ", line));
    }
    Target target{.name = fields[0], .folder = fields[1], .links = {}};
    for (absl::string_view link : absl::StrSplit(fields[2], ';')) {
      if (!link.empty()) target.links.emplace_back(link);
    }
    graph[target.name] = std::move(target);
  }
  return graph;
}

std::vector<std::string> CheckLinks(const LinkGraph& graph,
                                    const std::vector<LinkRule>& rules) {
  std::vector<std::string> violations;
  for (const LinkRule& rule : rules) {
    const std::regex applies_to(rule.applies_to);
    const std::vector<std::regex> forbidden = Compile(rule.forbidden);
    for (const auto& [name, target] : graph) {
      if (!std::regex_search(absl::StrCat(target.folder, ":", name),
                             applies_to)) {
        continue;
      }
      // Breadth first through our targets; `through[x]` is the way to x.
      std::map<std::string, std::vector<std::string>> through = {{name, {}}};
      std::deque<std::string> queue = {name};
      while (!queue.empty()) {
        const std::string from = queue.front();
        queue.pop_front();
        for (const std::string& link : graph.at(from).links) {
          if (through.contains(link)) continue;
          std::vector<std::string> way = through.at(from);
          if (from != name) way.push_back(from);
          if (AnyMatches(forbidden, link)) {
            violations.push_back(
                absl::StrCat(name, " (", target.folder, ") links ", link,
                             way.empty() ? "" : " through ",
                             absl::StrJoin(way, " -> "), " [", rule.rule, "]"));
          } else if (graph.contains(link)) {
            queue.push_back(link);
          }
          through.emplace(link, std::move(way));
        }
      }
    }
  }
  std::sort(violations.begin(), violations.end());
  return violations;
}

}  // namespace plantrail::layers
