#include "domain/text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace plantrail::domain {

// U+00C0-U+00DE except U+00D7 are C3 80-C3 9E in UTF-8; lower case is
// +0x20 on the second byte.
std::string FoldCase(absl::string_view text) {
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = absl::ascii_tolower(static_cast<unsigned char>(out[i]));
    if (out[i] != '\xc3' || i + 1 == out.size()) continue;
    const unsigned char next = static_cast<unsigned char>(out[i + 1]);
    if (next >= 0x80 && next <= 0x9e && next != 0x97) {
      out[i + 1] = static_cast<char>(next + 0x20);
    }
    ++i;
  }
  return out;
}

size_t Utf8Prefix(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The number of continuation bytes, and the range of the first one.
    size_t more = 0;
    unsigned char low = 0x80, high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      more = 1;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      more = 2;
      if (lead == 0xe0) low = 0xa0;   // overlong
      if (lead == 0xed) high = 0x9f;  // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      more = 3;
      if (lead == 0xf0) low = 0x90;   // overlong
      if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
    } else {
      return i;
    }
    if (text.size() - i <= more) return i;
    for (size_t k = 1; k <= more; ++k) {
      const unsigned char c = static_cast<unsigned char>(text[i + k]);
      if (c < (k == 1 ? low : 0x80) || c > (k == 1 ? high : 0xbf)) return i;
    }
    i += more + 1;
  }
  return i;
}

std::vector<std::string> SplitList(absl::string_view text, char separator) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(text, separator)) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

bool NaturalLess(absl::string_view a, absl::string_view b) {
  const std::string fa = domain::FoldCase(a);
  const std::string fb = domain::FoldCase(b);
  size_t i = 0;
  size_t j = 0;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < fa.size() && j < fb.size()) {
    if (is_digit(fa[i]) && is_digit(fb[j])) {
      size_t ei = i;
      size_t ej = j;
      while (ei < fa.size() && is_digit(fa[ei])) ++ei;
      while (ej < fb.size() && is_digit(fb[ej])) ++ej;
      // Leading zeros do not change a number.
      size_t si = i;
      size_t sj = j;
      while (si + 1 < ei && fa[si] == '0') ++si;
      while (sj + 1 < ej && fb[sj] == '0') ++sj;
      const absl::string_view na(fa.data() + si, ei - si);
      const absl::string_view nb(fb.data() + sj, ej - sj);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ei;
      j = ej;
      continue;
    }
    if (fa[i] != fb[j]) {
      return static_cast<unsigned char>(fa[i]) <
             static_cast<unsigned char>(fb[j]);
    }
    ++i;
    ++j;
  }
  if (fa.size() - i != fb.size() - j) return fa.size() - i < fb.size() - j;
  // Equal but for case or leading zeros: still a strict, total order.
  return a < b;
}

}  // namespace plantrail::domain
