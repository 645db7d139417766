// Text as plans write it: Swedish and English, in UTF-8.
#ifndef PLANTRAIL_DOMAIN_TEXT_H_
#define PLANTRAIL_DOMAIN_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace plantrail::domain {

// Lower case for ASCII and for the Latin-1 letters (Å Ä Ö É Ü ...), so that
// "Löpande" and "löpande", or "ÅTGÄRD" and "åtgärd", compare equal. Other
// bytes are kept as they are.
std::string FoldCase(absl::string_view text);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_TEXT_H_
