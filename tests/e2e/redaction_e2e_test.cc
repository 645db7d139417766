// A redaction end to end: after it, the redacted text is in no answer of
// any route (the log read three ways, the history, the area now and as of
// before, a retry of its command, an audit export) and in no byte of the
// server's data directory (the log's and the projections' WAL and table
// files) or of a backup taken after it, whether it was in the payload or in
// the metadata. The chain, and an export taken after it, still verify.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "tests/e2e/cli_harness.h"
#include "tests/e2e/server_test.h"
#include "tests/files_holding.h"

namespace plantrail {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kMarker[] = "PERSONNUMMER-19700101-1234";

// The files under `dir` whose bytes hold kMarker.
std::vector<std::string> FilesWithMarker(const std::string& dir) {
  return plantrail::testing::FilesHolding(dir, kMarker);
}

bool HoldsMarker(const google::protobuf::Message& message) {
  return absl::StrContains(message.SerializeAsString(), kMarker);
}

class RedactionE2eTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    queries_ = v1::PlanQueries::NewStub(channel_);
  }

  static v1::RegisterAreaRequest Registration(const std::string& rationale) {
    v1::RegisterAreaRequest request;
    request.mutable_options()->set_command_id("register-rd");
    request.set_area_id("rd");
    request.set_title("Lönehantering");
    request.set_support_area("3.4");
    request.set_rationale(rationale);
    request.set_planned_end("2027-06-30");
    return request;
  }

  grpc::Status Backup(const std::string& directory) {
    v1::BackupRequest request;
    request.set_directory(directory);
    v1::BackupResponse response;
    return admin_->Backup(Context().get(), request, &response);
  }

  // Runs `plantrail args...` against the test's server as its admin.
  cli_testing::CliResult Cli(std::vector<std::string> args) {
    cli_testing::CliResult result;
    result.args = args;
    args.insert(args.begin(), cli_testing::kCli);
    std::filesystem::create_directories(dir_ / "home");
    cli_testing::Child child;
    if (!child.Start(std::move(args),
                     {"PATH=/usr/bin:/bin", "HOME=" + (dir_ / "home"),
                      "XDG_DATA_HOME=" + (dir_ / "home/share"),
                      "PLANTRAIL_SERVER=" + server_.address(),
                      "PLANTRAIL_TOKEN=" + server_.AdminToken()},
                     cli_testing::Stdin::kDevNull)) {
      ADD_FAILURE() << "cannot spawn " << cli_testing::kCli;
      return result;
    }
    result.exit_code = child.Wait(absl::Now() + absl::Seconds(60));
    result.out = child.out();
    result.err = child.err();
    return result;
  }

  std::unique_ptr<v1::PlanQueries::Stub> queries_;
};

TEST_F(RedactionE2eTest, TheTextLeavesEveryRouteAndEveryFile) {
  const std::string rationale = absl::StrCat("Anna (", kMarker, ") asked");
  v1::CommandResult registered;
  ASSERT_TRUE(
      commands_
          ->RegisterArea(Context().get(), Registration(rationale), &registered)
          .ok());
  EXPECT_THAT(ReadAll().back().metadata().at("command_fingerprint"),
              StartsWith("hmac1:"));
  // The revision carries the old rationale as its "before".
  v1::ReviseDetailsRequest revise;
  revise.set_area_id("rd");
  revise.mutable_details()->set_rationale("Payroll must close faster");
  revise.set_reason("rephrased");
  v1::CommandResult revised;
  ASSERT_TRUE(commands_->ReviseDetails(Context().get(), revise, &revised).ok());
  // A custom stream's event holds it too.
  v1::AppendRequest append;
  append.set_stream_id("hr-notes");
  v1::ProposedEvent* note = append.add_events();
  note->set_type("Note");
  note->set_payload(absl::StrCat("call ", kMarker));
  v1::AppendResponse appended;
  ASSERT_TRUE(store_->Append(Context().get(), append, &appended).ok());
  // A backup flushes the log: the text is in table files too, not only in
  // the WAL, and the projections have it.
  ASSERT_TRUE(Backup(dir_ / "before").ok());
  const std::string data = dir_ / "data";
  ASSERT_THAT(FilesWithMarker(data + "/eventstore"), Not(IsEmpty()));
  // The projections fold it on their own threads.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (FilesWithMarker(data + "/projections").empty() &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_THAT(FilesWithMarker(data + "/projections"), Not(IsEmpty()));

  v1::RedactEventRequest redact;
  redact.set_position(registered.position());
  redact.set_reason("GDPR art. 17, case 2026/7");
  redact.set_command_id("redact-rd");
  v1::RedactEventResponse redacted;
  grpc::Status status = admin_->RedactEvent(Context().get(), redact, &redacted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::RedactEventRequest redact_note;
  redact_note.set_position(appended.first_position());
  redact_note.set_reason("GDPR art. 17, case 2026/7");
  status = admin_->RedactEvent(Context().get(), redact_note, &redacted);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // No file of the server, and no backup taken now, holds the text.
  EXPECT_THAT(FilesWithMarker(data), IsEmpty());
  ASSERT_TRUE(Backup(dir_ / "after").ok());
  EXPECT_THAT(FilesWithMarker(dir_ / "after"), IsEmpty());

  // The log, read whole, by stream and followed.
  const std::vector<v1::RecordedEvent> log = ReadAll();
  for (const v1::RecordedEvent& event : log) {
    EXPECT_FALSE(HoldsMarker(event)) << event.ShortDebugString();
  }
  for (const v1::RecordedEvent& event : ReadStream("area-rd")) {
    EXPECT_FALSE(HoldsMarker(event)) << event.ShortDebugString();
    EXPECT_TRUE(event.redacted()) << "both the registration and the "
                                     "revision that repeated its text";
  }
  {
    v1::SubscribeRequest request;
    request.set_after_position(base_);
    const std::vector<v1::SubscribeResponse> messages =
        SubscribeUntilCaughtUp(request);
    for (const v1::SubscribeResponse& message : messages) {
      EXPECT_FALSE(HoldsMarker(message));
    }
    EXPECT_EQ(PositionsIn(messages).size(), log.size());
  }
  // The history, the area now and as it was before the revision.
  v1::GetHistoryRequest history_request;
  history_request.set_area_id("rd");
  v1::GetHistoryResponse history;
  ASSERT_TRUE(
      queries_->GetHistory(Context().get(), history_request, &history).ok());
  EXPECT_EQ(history.entries_size(), 2);
  EXPECT_FALSE(HoldsMarker(history)) << history.ShortDebugString();
  for (uint64_t at : {registered.position(), revised.position(), uint64_t{0}}) {
    v1::GetAreaRequest area_request;
    area_request.set_area_id("rd");
    if (at != 0) area_request.set_at_position(at);
    v1::GetAreaResponse area;
    ASSERT_TRUE(queries_->GetArea(Context().get(), area_request, &area).ok());
    EXPECT_FALSE(HoldsMarker(area)) << area.ShortDebugString();
    EXPECT_EQ(area.area().title(), "Lönehantering");
  }

  // A retry of the registration answers alike whether it guesses the text
  // right or not.
  v1::CommandResult replayed;
  const grpc::Status right = commands_->RegisterArea(
      Context().get(), Registration(rationale), &replayed);
  const grpc::Status wrong = commands_->RegisterArea(
      Context().get(), Registration("Anna (PERSONNUMMER-19800101-0000) asked"),
      &replayed);
  EXPECT_EQ(right.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(right.error_code(), wrong.error_code());
  EXPECT_EQ(right.error_message(), wrong.error_message());
  EXPECT_THAT(right.error_message(), HasSubstr("redacted"));

  // A retry of the redaction answers as the redaction did.
  v1::RedactEventResponse again;
  status = admin_->RedactEvent(Context().get(), redact, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.redacted_position(), registered.position());

  // The chain still verifies, projections included.
  v1::VerifyResponse verified;
  ASSERT_TRUE(admin_->Verify(Context().get(), {}, &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.ShortDebugString();
}

TEST_F(RedactionE2eTest, MetadataTextLeavesEveryRouteTheExportAndEveryFile) {
  // A custom stream's event whose metadata holds the text (the payload does
  // not), appended through EventStore.Append.
  v1::AppendRequest append;
  append.set_stream_id("hr-notes");
  v1::ProposedEvent* note = append.add_events();
  note->set_type("Note");
  note->set_payload("call back about the leave");
  (*note->mutable_metadata())["note"] =
      absl::StrCat("Anna Svensson (", kMarker, ") is on sick leave");
  (*note->mutable_metadata())["correlation_id"] = "case-2026-7";
  v1::AppendResponse appended;
  ASSERT_TRUE(store_->Append(Context().get(), append, &appended).ok());
  const v1::RecordedEvent before = ReadStream("hr-notes").at(0);
  ASSERT_TRUE(HoldsMarker(before));
  // Flushed into table files too, not only the WAL.
  ASSERT_TRUE(Backup(dir_ / "before").ok());
  const std::string data = dir_ / "data";
  ASSERT_THAT(FilesWithMarker(data + "/eventstore"), Not(IsEmpty()));

  v1::RedactEventRequest redact;
  redact.set_position(appended.first_position());
  redact.set_reason("GDPR art. 17, case 2026/7");
  redact.set_command_id("redact-note");
  v1::RedactEventResponse redacted;
  grpc::Status status = admin_->RedactEvent(Context().get(), redact, &redacted);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // The values go, the keys and the structure stay, and the header's hash
  // as appended comes along for the chain.
  const v1::RecordedEvent after = ReadStream("hr-notes").at(0);
  EXPECT_EQ(after.metadata().at("note"), "[redacted]");
  EXPECT_EQ(after.metadata().at("correlation_id"), "case-2026-7");
  EXPECT_EQ(after.metadata().at("actor"), "admin");
  EXPECT_EQ(after.position(), before.position());
  EXPECT_EQ(after.stream_version(), before.stream_version());
  EXPECT_EQ(after.type(), before.type());
  EXPECT_EQ(after.event_id(), before.event_id());
  EXPECT_EQ(after.hash(), before.hash());
  EXPECT_TRUE(after.redacted());
  EXPECT_EQ(after.header_hash().size(), 32u);
  EXPECT_TRUE(before.header_hash().empty());

  // Not in the log read whole, by stream or followed.
  const std::vector<v1::RecordedEvent> log = ReadAll();
  for (const v1::RecordedEvent& event : log) {
    EXPECT_FALSE(HoldsMarker(event)) << event.ShortDebugString();
  }
  {
    v1::SubscribeRequest request;
    request.set_after_position(base_);
    const std::vector<v1::SubscribeResponse> messages =
        SubscribeUntilCaughtUp(request);
    for (const v1::SubscribeResponse& message : messages) {
      EXPECT_FALSE(HoldsMarker(message));
      for (const v1::RecordedEvent& event : message.events().events()) {
        if (event.position() == before.position()) {
          EXPECT_EQ(event.header_hash(), after.header_hash());
        }
      }
    }
    EXPECT_EQ(PositionsIn(messages).size(), log.size());
  }
  // Not in any file of the server, nor in a backup taken now.
  EXPECT_THAT(FilesWithMarker(data), IsEmpty());
  ASSERT_TRUE(Backup(dir_ / "after").ok());
  EXPECT_THAT(FilesWithMarker(dir_ / "after"), IsEmpty());

  // An export taken now holds the event (and its redaction) without the
  // text, and verifies offline, in both formats.
  for (const std::string format : {"jsonl", "csv"}) {
    SCOPED_TRACE(format);
    const std::string file = dir_ / ("export." + format);
    const cli_testing::CliResult exported =
        Cli({"export", "--all", "--format", format, "-o", file});
    ASSERT_EQ(exported.exit_code, 0) << exported;
    std::stringstream text;
    text << std::ifstream(file).rdbuf();
    EXPECT_THAT(text.str(), Not(HasSubstr(kMarker)));
    EXPECT_THAT(text.str(), HasSubstr("[redacted]"));
    const cli_testing::CliResult checked =
        Cli({"verify-export", file, "--public-key", data + "/signing.pub"});
    EXPECT_EQ(checked.exit_code, 0) << checked;
    EXPECT_THAT(checked.out, HasSubstr("export ok"));
    EXPECT_THAT(checked.out,
                HasSubstr(absl::StrCat("#", before.position(), " redacted")));
  }
  // The client recomputes the chain too, and checks what is left of the
  // redacted header against its redaction's record.
  const cli_testing::CliResult digest = Cli({"digest"});
  ASSERT_EQ(digest.exit_code, 0) << digest;
  std::ofstream(dir_ / "digest.json") << digest.out;
  const cli_testing::CliResult verified =
      Cli({"verify", "--digest", dir_ / "digest.json", "--public-key",
           data + "/signing.pub"});
  EXPECT_EQ(verified.exit_code, 0) << verified;

  // A retry of the redaction answers as it did and changes nothing.
  const uint64_t head = HeadPosition();
  v1::RedactEventResponse again;
  status = admin_->RedactEvent(Context().get(), redact, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.position(), redacted.position());
  EXPECT_EQ(HeadPosition(), head);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      ReadStream("hr-notes").at(0), after));

  // The chain verifies on the server.
  v1::VerifyResponse verify;
  ASSERT_TRUE(admin_->Verify(Context().get(), {}, &verify).ok());
  EXPECT_TRUE(verify.ok()) << verify.ShortDebugString();
}

}  // namespace
}  // namespace plantrail
