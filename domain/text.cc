#include "domain/text.h"

#include "absl/strings/ascii.h"

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

}  // namespace plantrail::domain
