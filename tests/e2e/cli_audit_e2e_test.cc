// The auditor's commands end to end: `digest`, `verify [--digest]`,
// `admin backup` and `plantraild --restore-from`, against real servers whose
// RocksDB a test may tamper with between runs, the way someone with access
// to the server's files could.
#include <atomic>
#include <thread>

#include "absl/strings/escaping.h"
#include "audit/digest.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "tests/e2e/bearer_channel.h"
#include "tests/e2e/cli_harness.h"
#include "tests/eventstore/raw_db.h"

namespace plantrail {
namespace {

using namespace ::plantrail::cli_testing;  // NOLINT: the harness's vocabulary

class CliAuditTest : public CliTest {
 protected:
  // The suite server's data directory.
  static std::string DataDir() { return TempPath("data"); }

  // Writes `text` to a file in the suite's directory; its path.
  static std::string WriteFile(const std::string& name,
                               const std::string& text) {
    const std::string path = TempPath(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The history entry of `position` in `area`'s history, as JSON.
  static json HistoryEntryAt(const std::string& area, uint64_t position) {
    const json history = RunJson({"history", area});
    for (const json& entry : history["entries"]) {
      if (U64(entry["position"]) == position) return entry;
    }
    return json();
  }

  // `plantrail digest` (on `server`, the suite's when empty) saved to a
  // file; its path.
  static std::string SaveDigest(const std::string& name,
                                const RunOptions& options = {}) {
    const CliResult result = Run({"digest"}, options);
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_THAT(result.err, HasSubstr("keep it where"));
    return WriteFile(name, result.out);
  }
};

TEST_F(CliAuditTest, ASavedDigestIsProvenAgainstTheLogAsItGrows) {
  Register("au-1", "SA audit");
  const std::string digest = SaveDigest("grows.json");
  const json saved = json::parse(std::ifstream(digest));
  EXPECT_EQ(saved["format"], "plantrail-digest-v1");
  EXPECT_EQ(U64(saved["position"]), Head());
  EXPECT_THAT(saved["key_id"].get<std::string>(), StartsWith("ed25519:"));

  Status("au-1", "in-progress", "on-track", "under way");
  const CliResult verified = Run({"verify", "--digest", digest, "--public-key",
                                  DataDir() + "/signing.pub"});
  EXPECT_EQ(verified.exit_code, 0) << verified;
  EXPECT_THAT(verified.out, HasSubstr("chain: ok"));
  EXPECT_THAT(verified.out, HasSubstr("projection area_state: ok"));
  EXPECT_THAT(verified.out, HasSubstr("projection history: ok"));
  EXPECT_THAT(verified.out,
              HasSubstr(absl::StrCat("digest: ok, the log extends the digest "
                                     "of position ",
                                     U64(saved["position"]))));
  EXPECT_THAT(verified.out, HasSubstr("(the pinned key)"));

  // Without a pinned key the proof still runs, and says what it lacks.
  const CliResult unpinned = Run({"verify", "--digest", digest});
  EXPECT_EQ(unpinned.exit_code, 0) << unpinned;
  EXPECT_THAT(unpinned.out, HasSubstr("key not pinned"));

  const json as_json = RunJson({"verify", "--digest", digest});
  EXPECT_EQ(as_json["ok"], true);
  EXPECT_EQ(as_json["server"]["digest_ok"], true);
  EXPECT_EQ(as_json["digest_recomputed_here"]["ok"], true);
  EXPECT_GE(
      as_json["digest_recomputed_here"]["events_recomputed"].get<uint64_t>(),
      U64(saved["position"]));
  // `admin verify` is the same command.
  EXPECT_THAT(RunOk({"admin", "verify"}), HasSubstr("chain: ok"));
}

TEST_F(CliAuditTest, DigestsOfEarlierPositionsAndBeyondTheHead) {
  Register("au-2", "SA audit");
  const CliResult first = Run({"digest", "--position", "1"});
  EXPECT_EQ(first.exit_code, 0) << first;
  EXPECT_EQ(U64(json::parse(first.out)["position"]), 1u);
  const CliResult beyond = Run({"digest", "--position", "99999999"});
  EXPECT_EQ(beyond.exit_code, 1) << beyond;
  EXPECT_THAT(beyond.err, HasSubstr("position: 99999999 is beyond the log's "
                                    "head"));
  EXPECT_THAT(beyond.err, HasSubstr("INVALID_ARGUMENT"));
}

TEST_F(CliAuditTest, ADigestSignatureChecksWithPlainOpenssl) {
  Register("au-3", "SA audit");
  const std::string path = SaveDigest("openssl.json");
  const json saved = json::parse(std::ifstream(path));
  // The signed text, rebuilt from the file as the auditor's guide says.
  const std::string text =
      absl::StrCat("plantrail-digest-v1\nposition: ", U64(saved["position"]),
                   "\nhead_hash: ", saved["head_hash"].get<std::string>(),
                   "\nlog_head: ", U64(saved["log_head"]),
                   "\nsigned_at: ", saved["signed_at"].get<std::string>(),
                   "\nkey_id: ", saved["key_id"].get<std::string>(), "\n");
  WriteFile("digest.txt", text);
  WriteFile("digest.sig",
            absl::HexStringToBytes(saved["signature"].get<std::string>()));
  const std::string verify =
      absl::StrCat("openssl pkeyutl -verify -pubin -inkey '", DataDir(),
                   "/signing.pub' -rawin -in '", TempPath("digest.txt"),
                   "' -sigfile '", TempPath("digest.sig"), "' >/dev/null 2>&1");
  EXPECT_EQ(std::system(verify.c_str()), 0) << verify;
  WriteFile("digest.txt", text + "tampered");
  EXPECT_NE(std::system(verify.c_str()), 0);
}

TEST_F(CliAuditTest, AForgedOrForeignDigestIsRefused) {
  Register("au-4", "SA audit");
  const std::string path = SaveDigest("forged.json");
  json forged = json::parse(std::ifstream(path));
  std::string hash = forged["head_hash"];
  hash[0] = hash[0] == '0' ? '1' : '0';
  forged["head_hash"] = hash;
  const CliResult refused =
      Run({"verify", "--digest", WriteFile("forged2.json", forged.dump())});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_THAT(refused.out, HasSubstr("digest: FAILED"));
  EXPECT_THAT(refused.err, HasSubstr("signature"));

  // Signed by someone else's key: refused against the pinned one.
  ASSERT_EQ(
      std::system(absl::StrCat("openssl genpkey -algorithm ed25519 -out '",
                               TempPath("other.key"),
                               "' && openssl pkey "
                               "-in '",
                               TempPath("other.key"), "' -pubout -out '",
                               TempPath("other.pub"), "'")
                      .c_str()),
      0);
  const CliResult foreign =
      Run({"verify", "--digest", path, "--public-key", TempPath("other.pub")});
  EXPECT_EQ(foreign.exit_code, 1) << foreign;
  EXPECT_THAT(foreign.out, HasSubstr("not by the pinned key"));

  const CliResult garbled =
      Run({"verify", "--digest", WriteFile("garbled.json", "{\"format\":1")});
  EXPECT_EQ(garbled.exit_code, 2) << garbled;
  EXPECT_THAT(garbled.err, HasSubstr("--digest"));
  const CliResult no_digest =
      Run({"verify", "--public-key", DataDir() + "/signing.pub"});
  EXPECT_EQ(no_digest.exit_code, 2) << no_digest;
}

TEST_F(CliAuditTest, RedactionRemovesTheTextKeepsTheChainAndSaysWhoAndWhy) {
  Register("rd-1", "SA redact",
           {"--rationale", "Ask Anna Svensson, 070-123 45 67"});
  const uint64_t report = U64(Status("rd-1", "in progress", "at risk",
                                     "Anna is on sick leave")["position"]);
  const json decision = RunJson(
      {"decision", "record", "RD-1", "--body", "Anna Svensson takes over",
       "--date", "2026-10-01", "--title", "Handover", "--areas", "rd-1"});
  const uint64_t decided = U64(decision["position"]);
  const std::string before = SaveDigest("before-redaction.json");

  const CliResult redacted =
      Run({"admin", "redact", std::to_string(report), "--reason",
           "GDPR art. 17 request, case 2026/118", "--command-id", "rd-cmd-1"});
  ASSERT_EQ(redacted.exit_code, 0) << redacted;
  EXPECT_THAT(redacted.out, HasSubstr(absl::StrCat("redacted #", report,
                                                   "; the redaction "
                                                   "is #")));
  // A retry with the same command id answers the same and redacts nothing.
  const json again =
      RunJson({"admin", "redact", std::to_string(report), "--reason",
               "GDPR art. 17 request, case "
               "2026/118",
               "--command-id", "rd-cmd-1"});
  EXPECT_EQ(U64(again["redacted_position"]), report);
  const CliResult reused = Run({"admin", "redact", std::to_string(decided),
                                "--reason", "x", "--command-id", "rd-cmd-1"});
  EXPECT_EQ(reused.exit_code, 1) << reused;
  EXPECT_THAT(reused.err, HasSubstr("ALREADY_EXISTS"));
  const json redacted_decision =
      RunJson({"admin", "redact", std::to_string(decided), "--reason",
               "Personal data in a decision body"});

  // The history says who, when and why, and holds no redacted text.
  const std::string history = RunOk({"history", "rd-1"});
  EXPECT_THAT(history, HasSubstr("redacted by admin on "));
  EXPECT_THAT(history, HasSubstr("reason: GDPR art. 17 request, case "
                                 "2026/118; its free text is gone"));
  EXPECT_THAT(history, Not(HasSubstr("sick leave")));
  EXPECT_THAT(history, Not(HasSubstr("takes over")));
  const json entry = HistoryEntryAt("rd-1", report);
  EXPECT_EQ(entry["redaction"]["redacted"], true);
  EXPECT_EQ(entry["redaction"]["actor"], kActor);
  // What happened stays: the phase and health the report set.
  EXPECT_THAT(history, HasSubstr("health: unknown -> at risk"));

  // The area's state forgets the text once its rebuild has caught up.
  const absl::Time deadline = absl::Now() + kPatience;
  json area;
  do {
    area = ShowJson("rd-1");
  } while (area["latest_report"]["narrative"] != "" && absl::Now() < deadline);
  EXPECT_EQ(area["latest_report"]["narrative"], "");
  EXPECT_EQ(area["phase"], "PHASE_IN_PROGRESS");
  // Listings too (they share one parse of every area per projection state,
  // and a rebuild at the same position is a new state).
  const json listed = RunJson({"area", "list", "--support-area", "SA redact"});
  ASSERT_EQ(listed["areas"].size(), 1u);
  EXPECT_EQ(listed["areas"][0]["latest_report"]["narrative"], "");

  // A digest from before the redaction still verifies after it.
  const CliResult verified = Run({"verify", "--digest", before, "--public-key",
                                  DataDir() + "/signing.pub"});
  EXPECT_EQ(verified.exit_code, 0) << verified;
  EXPECT_THAT(verified.out, HasSubstr("digest: ok"));

  // The area's export holds the redactions, shows the event as redacted,
  // and verifies offline; the text is nowhere in it.
  const std::string file = TempPath("rd-1.jsonl");
  ASSERT_EQ(Run({"export", "--area", "rd-1", "-o", file}).exit_code, 0);
  std::stringstream exported;
  exported << std::ifstream(file).rdbuf();
  EXPECT_THAT(exported.str(), Not(HasSubstr("sick leave")));
  int redactions = 0;
  for (const std::string& line : Lines(exported.str())) {
    const json record = json::parse(line);
    if (record["record"] != "event") continue;
    if (U64(record["position"]) == report) {
      EXPECT_EQ(record["redacted"], true);
      EXPECT_EQ(record["redaction"]["actor"], kActor);
      EXPECT_EQ(record["redaction"]["reason"],
                "GDPR art. 17 request, case 2026/118");
    }
    if (record["type"] == "PayloadRedacted") {
      ++redactions;
      EXPECT_EQ(record["stream_id"], "plantrail-redactions");
      EXPECT_EQ(record["payload"]["reason"],
                "GDPR art. 17 request, case 2026/118");
    }
  }
  EXPECT_EQ(redactions, 1) << "the decision's redaction is the decision "
                              "stream's, not the area's";
  const CliResult checked =
      Run({"verify-export", file, "--public-key", DataDir() + "/signing.pub"});
  EXPECT_EQ(checked.exit_code, 0) << checked;
  EXPECT_THAT(checked.out,
              HasSubstr(absl::StrCat("#", report, " redacted by admin at ")));
  EXPECT_THAT(checked.out,
              HasSubstr("reason: GDPR art. 17 request, case 2026/118\n"));

  // What cannot be redacted, and why.
  const CliResult twice =
      Run({"admin", "redact", std::to_string(report), "--reason", "again"});
  EXPECT_EQ(twice.exit_code, 1) << twice;
  EXPECT_THAT(twice.err,
              HasSubstr("is already redacted (FAILED_PRECONDITION)"));
  const CliResult system = Run(
      {"admin", "redact", std::to_string(U64(redacted_decision["position"])),
       "--reason", "x"});
  EXPECT_THAT(system.err, HasSubstr("system stream plantrail-redactions, "
                                    "which is never redacted"));
  const CliResult no_reason =
      Run({"admin", "redact", std::to_string(report), "--reason", ""});
  EXPECT_EQ(no_reason.exit_code, 1) << no_reason;
  EXPECT_THAT(no_reason.err, HasSubstr("reason"));
  EXPECT_THAT(no_reason.err, HasSubstr("INVALID_ARGUMENT"));
  const CliResult missing =
      Run({"admin", "redact", "99999999", "--reason", "x"});
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND"));
}

TEST_F(CliAuditTest, ARedactedTextRepeatedByARevisionLeavesBothAndVerifies) {
  const uint64_t registered = Register(
      "rd-2", "SA redact", {"--rationale", "Ask Britt, 070-765 43 21"});
  ASSERT_EQ(Run({"area", "revise", "rd-2", "--rationale", "Payroll first",
                 "--reason", "rephrased"})
                .exit_code,
            0);
  ASSERT_EQ(Run({"admin", "redact", std::to_string(registered), "--reason",
                 "GDPR art. 17, case 2026/9"})
                .exit_code,
            0);

  // The revision's "before" held the text: it went too, and the export
  // accounts for both redactions and verifies offline.
  const std::string file = TempPath("rd-2.jsonl");
  ASSERT_EQ(Run({"export", "--area", "rd-2", "-o", file}).exit_code, 0);
  std::stringstream exported;
  exported << std::ifstream(file).rdbuf();
  EXPECT_THAT(exported.str(), Not(HasSubstr("070-765 43 21")));
  int redacted = 0;
  for (const std::string& line : Lines(exported.str())) {
    const json record = json::parse(line);
    if (record["record"] == "event" && record["stream_id"] == "area-rd-2" &&
        record["redacted"] == true) {
      ++redacted;
    }
  }
  EXPECT_EQ(redacted, 2);
  const CliResult checked =
      Run({"verify-export", file, "--public-key", DataDir() + "/signing.pub"});
  EXPECT_EQ(checked.exit_code, 0) << checked;
  EXPECT_THAT(checked.out, HasSubstr(absl::StrCat("repeated text of position ",
                                                  registered, ")")));
  EXPECT_THAT(RunOk({"history", "rd-2"}), Not(HasSubstr("070-765")));
}

// gRPC clients that append to streams of their own ("<prefix>-<n>"), each
// append `per_append` events, until stopped; they count what was
// acknowledged.
class BackgroundAppenders {
 public:
  BackgroundAppenders(const std::string& address, const std::string& token,
                      const std::string& prefix, int clients, int per_append)
      : stub_(v1::EventStore::NewStub(testing::BearerChannel(address, token))) {
    for (int w = 0; w < clients; ++w) {
      writers_.emplace_back([this, prefix, per_append, w] {
        for (int i = 0; !stop_.load(); ++i) {
          v1::AppendRequest request;
          request.set_stream_id(absl::StrCat(prefix, "-", w));
          for (int e = 0; e < per_append; ++e) {
            v1::ProposedEvent* event = request.add_events();
            event->set_type("Load");
            event->set_payload(absl::StrCat(w, "/", i, "/", e));
          }
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(30));
          v1::AppendResponse response;
          if (stub_->Append(&context, request, &response).ok()) {
            acknowledged_.fetch_add(1);
          }
        }
      });
    }
  }
  ~BackgroundAppenders() { Stop(); }

  int acknowledged() const { return acknowledged_.load(); }
  // Returns once `count` appends in all have been acknowledged.
  void AwaitAcknowledged(int count) const {
    while (acknowledged_.load() < count) std::this_thread::yield();
  }
  void Stop() {
    stop_ = true;
    for (std::thread& writer : writers_) {
      if (writer.joinable()) writer.join();
    }
  }

 private:
  std::unique_ptr<v1::EventStore::Stub> stub_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acknowledged_{0};
  std::vector<std::thread> writers_;
};

// A server of the test's own, whose files the test may tamper with while it
// is stopped.
class CliTamperTest : public CliAuditTest {
 protected:
  void SetUp() override {
    CliAuditTest::SetUp();
    ASSERT_TRUE(server_.Start(dir_ / "data"));
  }

  RunOptions Options() {
    return {.server = server_.address(), .token = server_.AdminToken()};
  }

  // Stops the server, lets `edit` change its log, and starts it again.
  void Tamper(const std::function<void(eventstore::RawDb&)>& edit) {
    const int status = server_.Stop(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    {
      eventstore::RawDb raw(dir_ / "data/eventstore");
      edit(raw);
    }
    ASSERT_TRUE(server_.Start(dir_ / "data"));
  }

  uint64_t RegisterHere(const std::string& id) {
    const CliResult result = Run({"--json", "area", "register", id, "--title",
                                  "Area " + id, "--support-area", "SA tamper"},
                                 Options());
    EXPECT_EQ(result.exit_code, 0) << result;
    return U64(json::parse(result.out)["position"]);
  }

  testing::TempDir dir_;
  testing::ServerProcess server_;
};

TEST_F(CliTamperTest, ARewrittenAndRechainedLogFailsAgainstTheSavedDigest) {
  const uint64_t forged = RegisterHere("tm-1");
  RegisterHere("tm-2");
  const std::string digest = SaveDigest("before.json", Options());
  Tamper([forged](eventstore::RawDb& db) {
    eventstore::RewriteAndRechain(db, forged, [](eventstore::RecordedEvent& e) {
      e.metadata["actor"] = "somebody-else";
    });
  });
  // The chain alone is consistent again; the projections, folded from the
  // old events, and the saved digest both know better.
  const CliResult plain = Run({"verify"}, Options());
  EXPECT_EQ(plain.exit_code, 1) << plain;
  EXPECT_THAT(plain.out, HasSubstr("chain: ok"));
  EXPECT_THAT(plain.out, HasSubstr("chain hash differs from the log's"));

  const CliResult against = Run(
      {"verify", "--digest", digest, "--public-key", dir_ / "data/signing.pub"},
      Options());
  EXPECT_EQ(against.exit_code, 1) << against;
  EXPECT_THAT(against.out, HasSubstr("chain: BROKEN"));
  EXPECT_THAT(against.out, HasSubstr("the digest says"));
  EXPECT_THAT(against.out,
              HasSubstr("digest: FAILED: position " +
                        std::to_string(forged + 1) + " now has chain hash"));
}

TEST_F(CliTamperTest, ATruncatedTailBelowTheSavedDigestIsCaught) {
  const uint64_t first = RegisterHere("tr-1");
  RegisterHere("tr-2");
  RegisterHere("tr-3");
  const std::string digest = SaveDigest("truncated.json", Options());
  Tamper([first](eventstore::RawDb& db) {
    for (uint64_t at = first + 1; !eventstore::RecordAt(db, at).empty(); ++at) {
      db.Delete(eventstore::record_format::kEventsFamily,
                eventstore::record_format::PositionKey(at));
    }
  });
  const CliResult against = Run({"verify", "--digest", digest}, Options());
  EXPECT_EQ(against.exit_code, 1) << against;
  EXPECT_THAT(against.out, HasSubstr(absl::StrCat(
                               "digest: FAILED: the log ends at position ",
                               first, ", before the digest's position")));
}

TEST_F(CliTamperTest, BackupWhileAppendingRestoresAVerifiedConsistentPrefix) {
  RegisterHere("bk-1");
  const std::string before = SaveDigest("before-backup.json", Options());
  // Four clients append batches of three events while the backup is made.
  BackgroundAppenders appenders(server_.address(), server_.AdminToken(), "load",
                                4, 3);
  appenders.AwaitAcknowledged(40);
  const int acknowledged_before = appenders.acknowledged();
  const std::string backup = dir_ / "backup";
  const CliResult backed_up =
      Run({"--json", "admin", "backup", backup}, Options());
  appenders.AwaitAcknowledged(appenders.acknowledged() + 20);
  appenders.Stop();
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up;
  const uint64_t backup_head = U64(json::parse(backed_up.out)["head_position"]);

  // A second backup into the same directory is refused.
  const CliResult again = Run({"admin", "backup", backup}, Options());
  EXPECT_EQ(again.exit_code, 1) << again;
  EXPECT_THAT(again.err, HasSubstr("already exists"));

  testing::ServerProcess restored;
  ASSERT_TRUE(restored.Start(dir_ / "restored", {"--restore-from", backup}));
  const RunOptions on_restored{.server = restored.address(),
                               .token = server_.AdminToken()};
  // What was acknowledged before the backup began is in it; the copy is one
  // moment of the log, so it is a prefix with complete appends only.
  const json manifest = json::parse(std::ifstream(backup + "/backup.json"));
  const std::string backup_digest =
      WriteFile("backup-digest.json", manifest["digest"].dump());
  for (const std::string& saved : {before, backup_digest}) {
    const CliResult verified = Run({"verify", "--digest", saved, "--public-key",
                                    dir_ / "data/signing.pub"},
                                   on_restored);
    EXPECT_EQ(verified.exit_code, 0) << verified;
  }
  const auto read_all = [](const std::string& address,
                           const std::string& token) {
    auto channel = testing::BearerChannel(address, token);
    auto stub = v1::EventStore::NewStub(channel);
    std::vector<v1::RecordedEvent> events;
    v1::ReadAllRequest request;
    request.set_limit(1000);
    for (uint64_t from = 1; from != 0;) {
      request.set_from_position(from);
      grpc::ClientContext context;
      v1::ReadAllResponse page;
      EXPECT_TRUE(stub->ReadAll(&context, request, &page).ok());
      events.insert(events.end(), page.events().begin(), page.events().end());
      from = page.next_position();
    }
    return events;
  };
  const std::vector<v1::RecordedEvent> copy =
      read_all(restored.address(), server_.AdminToken());
  const std::vector<v1::RecordedEvent> original =
      read_all(server_.address(), server_.AdminToken());
  ASSERT_EQ(copy.size(), backup_head);
  ASSERT_GT(original.size(), copy.size()) << "appends went on after it";
  std::map<std::string, int> loads;
  for (size_t i = 0; i < copy.size(); ++i) {
    ASSERT_EQ(copy[i].hash(), original[i].hash()) << "position " << i + 1;
    if (copy[i].type() == "Load") ++loads[copy[i].stream_id()];
  }
  int batches = 0;
  for (const auto& [stream, count] : loads) {
    EXPECT_EQ(count % 3, 0) << stream << ": a partial append";
    batches += count / 3;
  }
  EXPECT_GE(batches, acknowledged_before);
}

TEST_F(CliTamperTest, AnExportTakenWhileAppendsGoOnVerifies) {
  RegisterHere("ex-live");
  BackgroundAppenders appenders(server_.address(), server_.AdminToken(), "live",
                                2, 1);
  appenders.AwaitAcknowledged(50);
  // The log grows between reading it and signing its digest: the export
  // covers the log up to its last position, and says how far the log had
  // grown by then.
  const std::string all = dir_ / "live-all.jsonl";
  const std::string area = dir_ / "live-area.jsonl";
  const CliResult exported_all = Run({"export", "--all", "-o", all}, Options());
  const CliResult exported_area =
      Run({"export", "--area", "ex-live", "-o", area}, Options());
  appenders.Stop();
  ASSERT_EQ(exported_all.exit_code, 0) << exported_all;
  ASSERT_EQ(exported_area.exit_code, 0) << exported_area;
  for (const std::string& file : {all, area}) {
    const CliResult checked =
        Run({"verify-export", file, "--public-key", dir_ / "data/signing.pub"});
    EXPECT_EQ(checked.exit_code, 0) << checked;
    EXPECT_THAT(
        checked.out,
        ::testing::AnyOf(HasSubstr("it reaches the log's head"),
                         HasSubstr("it covers the log up to position")));
  }
}

TEST_F(CliTamperTest, RestoreRefusesAUsedDataDirAndABackupThatDoesNotVerify) {
  RegisterHere("rs-1");
  const std::string backup = dir_ / "backup";
  ASSERT_EQ(Run({"admin", "backup", backup}, Options()).exit_code, 0);

  // Into the running server's own data directory: refused, nothing touched.
  server_.Stop(SIGTERM);
  auto [used_status, used_err] =
      testing::RunPlantraild({"--data-dir", dir_ / "data", "--listen",
                              "127.0.0.1:0", "--restore-from", backup});
  EXPECT_EQ(WEXITSTATUS(used_status), 1) << used_err;
  EXPECT_THAT(used_err, HasSubstr("exists; restore into a data directory "
                                  "without a log, projections or key"));

  // A backup whose log was rewritten (and rechained) after it was signed.
  {
    eventstore::RawDb raw(backup + "/eventstore");
    eventstore::RewriteAndRechain(raw, 1, [](eventstore::RecordedEvent& e) {
      e.metadata["note"] = "slipped in";
    });
  }
  auto [bad_status, bad_err] =
      testing::RunPlantraild({"--data-dir", dir_ / "fresh", "--listen",
                              "127.0.0.1:0", "--restore-from", backup});
  EXPECT_EQ(WEXITSTATUS(bad_status), 1) << bad_err;
  EXPECT_THAT(bad_err, HasSubstr("the backup's log does not verify"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "fresh/eventstore"))
      << "a failed restore leaves nothing behind";

  // Not a backup at all.
  auto [none_status, none_err] = testing::RunPlantraild(
      {"--data-dir", dir_ / "fresh", "--listen", "127.0.0.1:0",
       "--restore-from", dir_ / "nothing-here"});
  EXPECT_EQ(WEXITSTATUS(none_status), 1) << none_err;
  EXPECT_THAT(none_err, HasSubstr("not a plantrail backup"));
}

}  // namespace
}  // namespace plantrail
