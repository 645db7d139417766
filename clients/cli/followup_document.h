// The report-back document of a follow-up round (återrapport), as a
// planning office hands it to the body that asked: a cover that names the
// plan, the body, the meeting and the log position and chain hash it was
// made from; a summary of who reported; and per support area a table with
// each expected area's action, its schedule as written (with the baseline
// where it slipped), its process state, what changed since the previous
// round and the next report date. Missing and late reports are flagged,
// not hidden.
//
// Markdown and HTML; the HTML is self-contained (no external assets: a
// Content-Security-Policy forbids them) and prints on A4 with page numbers
// (PrintPdf runs headless Chromium on it). Labels are English, like the
// rest of the CLI; the plan's own words are shown as written.
//
// Pure renderers: what they are given, no I/O, thread-safe. A closed round
// renders the same bytes whenever it is made, but for the generation time
// (GetFollowUp answers a closed round as of its closing).
#ifndef PLANTRAIL_CLIENTS_CLI_FOLLOWUP_DOCUMENT_H_
#define PLANTRAIL_CLIENTS_CLI_FOLLOWUP_DOCUMENT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "plantrail/v1/plan_queries.pb.h"

namespace plantrail::cli {

// How an area answered a round, as the document and `followup show` flag
// it: "reported in time", "LATE", "MISSING", "closed".
std::string RoundReportWords(v1::RoundReport report);

std::string RenderFollowUpMarkdown(const v1::GetFollowUpResponse& round,
                                   absl::Time generated_at);
std::string RenderFollowUpHtml(const v1::GetFollowUpResponse& round,
                               absl::Time generated_at);

// Prints the HTML file `html_path` to the PDF `pdf_path` with headless
// Chromium (`chromium`: the browser's path), offline, in a profile of its
// own that is removed afterwards. Blocks until Chromium exits.
absl::Status PrintPdf(const std::string& chromium, const std::string& html_path,
                      const std::string& pdf_path);

}  // namespace plantrail::cli

#endif  // PLANTRAIL_CLIENTS_CLI_FOLLOWUP_DOCUMENT_H_
