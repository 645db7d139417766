// The timeline page's stylesheet and script. They are files of their own,
// clients/cli/assets/timeline.css and timeline.js, edited and reviewed as CSS
// and JavaScript; the build compiles them in byte for byte
// (clients/cli/assets/embed.cmake writes timeline_assets.cc into the build
// directory), so the page stays one self-contained file and the CLI needs no
// files beside it.
#ifndef PLANTRAIL_CLIENTS_CLI_TIMELINE_ASSETS_H_
#define PLANTRAIL_CLIENTS_CLI_TIMELINE_ASSETS_H_

#include "absl/strings/string_view.h"

namespace plantrail::cli::assets {

// clients/cli/assets/timeline.css, the page's <style>.
absl::string_view TimelineCss();
// clients/cli/assets/timeline.js, the page's <script>.
absl::string_view TimelineJs();

}  // namespace plantrail::cli::assets

#endif  // PLANTRAIL_CLIENTS_CLI_TIMELINE_ASSETS_H_
