// The plan's words as the CLI reads and writes them.
#include "clients/cli/format.h"

#include <sstream>

#include "clients/cli/commands_util.h"
#include "domain/text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::cli {
namespace {

using ::testing::HasSubstr;

TEST(FormatTest, HistoryEntriesReadAsSentences) {
  v1::HistoryEntry entry;
  entry.set_position(42);
  entry.set_actor("anna");
  entry.set_event_type("ScheduleRevised");
  entry.mutable_business_date()->set_precision(v1::PLAN_DATE_PRECISION_DAY);
  entry.mutable_business_date()->set_text("2024-01-10");
  entry.mutable_recorded_at()->set_seconds(1704880800);  // 2024-01-10 10:00
  auto* change = entry.add_changes();
  change->set_field("planned_end");
  change->set_before("HT23");
  change->set_after("VT24");
  entry.set_reason("Ladok moved");
  std::ostringstream out;
  PrintHistoryEntry(entry, out);
  EXPECT_EQ(out.str(),
            "2024-01-10  #42  schedule revised, by anna\n"
            "    planned end: HT23 -> VT24\n"
            "    reason: Ladok moved\n");
}

TEST(FormatTest, TablesAlignByWhatTheEyeSees) {
  Table table({"ID", "UNIT"}, 8);
  table.AddRow({"1", "Ekonomiavdelningen"});
  table.AddRow({"22", "Lön"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "ID  UNIT\n"
            "1   Ekonomi…\n"
            "22  Lön\n");
}

TEST(FormatTest, ControlCharactersAreEscapedAndRowsStayOneLine) {
  EXPECT_EQ(OneLine("a\nb\r\tc\x1b[2J\x7f"), "a\\nb\\r\\tc\\x1b[2J\\x7f");
  EXPECT_EQ(OneLine("\xc2\x9b"
                    "31m"),
            "\\u009b31m");
  EXPECT_EQ(OneLine("Löpande – åtgärd"), "Löpande – åtgärd");
  // A token's principal and revoke reason, as `admin token list` shows
  // them: a newline must not start a row of its own.
  Table table({"ID", "PRINCIPAL", "REVOKED"});
  table.AddRow({"tok-1", "eve\ntok-2  admin", "left:\nfor good"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "ID     PRINCIPAL          REVOKED\n"
            "tok-1  eve\\ntok-2  admin  left:\\nfor good\n");
}

TEST(FormatTest, ListsSplitAndTrim) {
  EXPECT_THAT(domain::SplitList(" GVS, ITA ,,EKO", ','),
              ::testing::ElementsAre("GVS", "ITA", "EKO"));
}

}  // namespace
}  // namespace plantrail::cli

namespace plantrail::cli {
namespace {

// Found by reading the fuzzers' notes: a text/* payload that is not UTF-8
// made nlohmann throw when `export`, `watch --json` or `events read --json`
// wrote the event. It goes out as base64 instead.
TEST(EventJsonTest, TextThatIsNotUtf8GoesOutAsBytes) {
  v1::RecordedEvent event;
  event.set_content_type("text/plain");
  event.set_payload("caf\xe9");  // Latin-1
  const nlohmann::ordered_json json = EventJson(event);
  EXPECT_EQ(json["payload"]["base64"], "Y2Fm6Q==");
  EXPECT_NO_THROW(json.dump());
  event.set_payload("caf\xc3\xa9");
  EXPECT_EQ(EventJson(event)["payload"], "caf\xc3\xa9");
}

}  // namespace
}  // namespace plantrail::cli
