#include "logging/log.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace plantrail::logging {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// 2026-11-24T13:47:33.123456Z
constexpr int64_t kTime = 1795528053123456;

const std::string kToken =
    "pt_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(LogTest, LogfmtLineHasTimeLevelMessageAndFieldsInOrder) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, kTime, Level::kInfo, "rpc finished",
                       {{"request_id", "a1b2"},
                        {"code", "OK"},
                        {"events", uint64_t{3}},
                        {"ms", 1.25},
                        {"replayed", false}}),
            "ts=2026-11-24T13:47:33.123456Z level=info msg=\"rpc finished\" "
            "request_id=a1b2 code=OK events=3 ms=1.25 replayed=false");
}

TEST(LogTest, LogfmtQuotesAndEscapesWhatWouldBreakTheLine) {
  const std::string line =
      FormatLine(Format::kLogfmt, kTime, Level::kWarning, "x",
                 {{"empty", ""},
                  {"spaces", "a b"},
                  {"quote", "say \"hi\"\\"},
                  {"newline", "one\ntwo\r\x01"},
                  {"bad key=\n", "v"}});
  EXPECT_EQ(line,
            "ts=2026-11-24T13:47:33.123456Z level=warning msg=x empty=\"\" "
            "spaces=\"a b\" quote=\"say \\\"hi\\\"\\\\\" "
            "newline=\"one\\ntwo\\r\\u0001\" bad_key__=v");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogTest, JsonLineIsOneObjectWithTypedFields) {
  const std::string line = FormatLine(
      Format::kJson, kTime, Level::kError, "store \"failed\"\n",
      {{"stream", "area-1"}, {"position", uint64_t{42}}, {"ok", true}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["ts"], "2026-11-24T13:47:33.123456Z");
  EXPECT_EQ(parsed["level"], "error");
  EXPECT_EQ(parsed["msg"], "store \"failed\"\n");
  EXPECT_EQ(parsed["stream"], "area-1");
  EXPECT_EQ(parsed["position"], 42);
  EXPECT_EQ(parsed["ok"], true);
  // Keys keep the order they were given in.
  EXPECT_LT(line.find("\"stream\""), line.find("\"position\""));
}

TEST(LogTest, JsonLineSurvivesInvalidUtf8AndNonFiniteNumbers) {
  const std::string line =
      FormatLine(Format::kJson, kTime, Level::kInfo, "bad \xff\xfe bytes",
                 {{"ratio", 1.0 / 0.0}});
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["msg"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  EXPECT_EQ(parsed["ratio"], "inf");
}

TEST(LogTest, TokensAndPrivateKeysAreRedactedFromMessagesAndFields) {
  const std::string pem =
      "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIK\n"
      "-----END PRIVATE KEY-----";
  for (const Format format : {Format::kLogfmt, Format::kJson}) {
    const std::string line = FormatLine(
        format, kTime, Level::kError, absl::StrCat("token ", kToken, " bad"),
        {{"authorization", absl::StrCat("Bearer ", kToken)},
         {"key", absl::StrCat("before ", pem, " after")},
         {"cut", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE"}});
    EXPECT_THAT(line, Not(HasSubstr("0123456789abcdef"))) << line;
    EXPECT_THAT(line, Not(HasSubstr("MC4CAQAw"))) << line;
    EXPECT_THAT(line, Not(HasSubstr("MHcCAQEE"))) << line;
    EXPECT_THAT(line, HasSubstr("[redacted]"));
    EXPECT_THAT(line, HasSubstr("after"));
  }
}

TEST(LogTest, AnEchoedMegabyteIsCutAndCounted) {
  const std::string huge = kToken + std::string(1 << 20, 'x');
  for (const Format format : {Format::kLogfmt, Format::kJson}) {
    const std::string line = FormatLine(format, kTime, Level::kInfo, huge,
                                        {{"error", huge}, {"peer", "p"}});
    EXPECT_LT(line.size(), 5000u);
    EXPECT_THAT(line, HasSubstr("more bytes]"));
    EXPECT_THAT(line, Not(HasSubstr(kToken)));
    EXPECT_THAT(line, HasSubstr("peer"));
  }
}

TEST(LogTest, RedactionLeavesOrdinaryTextAlone) {
  for (const std::string text :
       {"pt_", "pt_abc", "opt_in", "see -----BEGIN CERTIFICATE-----",
        "area pt_12345 of plan", "-----BEGIN PUBLIC KEY-----\nMCow"}) {
    EXPECT_EQ(RedactSecrets(text), text);
  }
  EXPECT_EQ(RedactSecrets(absl::StrCat("a ", kToken, " z")), "a [redacted] z");
}

TEST(LogTest, WebhookSecretsAreRedacted) {
  EXPECT_EQ(RedactSecrets("secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw; ok"),
            "secret=[redacted]; ok");
  EXPECT_EQ(RedactSecrets("the prefix whsec_ alone"),
            "the prefix whsec_ alone");
}

TEST(LogTest, ParsesLevelsAndFormatsAndNamesTheFlag) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("INFO"), Level::kInfo);
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarning);
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarning);
  EXPECT_EQ(*ParseLevel("error"), Level::kError);
  EXPECT_THAT(ParseLevel("loud").status().message(),
              HasSubstr("log-level: \"loud\" is not one of"));
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(*ParseFormat("logfmt"), Format::kLogfmt);
  EXPECT_THAT(ParseFormat("xml").status().message(), HasSubstr("log-format"));
}

class CapturedLog {
 public:
  explicit CapturedLog(Level level, Format format = Format::kLogfmt) {
    Configure({.level = level,
               .format = format,
               .sink = [this](absl::string_view line) {
                 MutexLock lock(&mu_);
                 lines_.emplace_back(line);
               }});
  }
  ~CapturedLog() { Configure({}); }
  std::vector<std::string> lines() {
    MutexLock lock(&mu_);
    return lines_;
  }

 private:
  Mutex mu_;
  std::vector<std::string> lines_;
};

TEST(LogTest, LinesBelowTheLevelAreNotWritten) {
  CapturedLog log(Level::kWarning);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  Debug("d");
  Info("i");
  Warning("w");
  Error("e");
  const std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("level=warning msg=w"));
  EXPECT_THAT(lines[1], HasSubstr("level=error msg=e"));
  EXPECT_EQ(lines[1].back(), '\n');
}

TEST(LogTest, ConcurrentLinesStayWhole) {
  CapturedLog log(Level::kDebug, Format::kJson);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        Info("line", {{"thread", t}, {"i", i}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) {
    ASSERT_EQ(line.back(), '\n');
    const nlohmann::json parsed = nlohmann::json::parse(line);
    EXPECT_EQ(parsed["msg"], "line");
  }
}

}  // namespace
}  // namespace plantrail::logging
