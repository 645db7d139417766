// Text as plans write it: Swedish and English, in UTF-8.
#ifndef PLANTRAIL_DOMAIN_TEXT_H_
#define PLANTRAIL_DOMAIN_TEXT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace plantrail::domain {

// Lower case for ASCII and for the Latin-1 letters (Å Ä Ö É Ü ...), so that
// "Löpande" and "löpande", or "ÅTGÄRD" and "åtgärd", compare equal. Other
// bytes are kept as they are.
std::string FoldCase(absl::string_view text);

// The length of the longest prefix of `text` that is UTF-8 as RFC 3629 has
// it (no overlong forms, no surrogates, nothing above U+10FFFF), which is
// what protobuf demands of every proto3 string it parses, and nlohmann-json
// of every string it writes. `text` is UTF-8 when it is text.size().
size_t Utf8Prefix(absl::string_view text);

// A list as people write it in one field: "GVS, ITA ,,EKO" split at ','
// is {"GVS", "ITA", "EKO"}; items are trimmed and empty ones dropped.
std::vector<std::string> SplitList(absl::string_view text, char separator);

// "3.2" < "3.10" < "3.10a": digit runs compare as numbers, the rest without
// case (Swedish letters included). How plans number their areas.
bool NaturalLess(absl::string_view a, absl::string_view b);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_TEXT_H_
