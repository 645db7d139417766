// A short, printable rendering of untrusted input for error messages: in
// double quotes, bytes outside printable ASCII (and quotes, backslashes) as
// \xNN, cut after `max` bytes with "...". So that an error naming what was
// wrong can never carry a terminal escape or a megabyte of someone's input.
#ifndef PLANTRAIL_COMMON_QUOTE_H_
#define PLANTRAIL_COMMON_QUOTE_H_

#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace plantrail {

inline std::string QuoteForMessage(absl::string_view text, size_t max = 40) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  if (text.size() > max) out += "...";
  return out + "\"";
}

}  // namespace plantrail

#endif  // PLANTRAIL_COMMON_QUOTE_H_
