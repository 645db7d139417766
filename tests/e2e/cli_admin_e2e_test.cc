// The CLI end to end, the operator's side: export, the admin commands and
// tokens, and serving over TLS and mutual TLS. Apart from cli_e2e_test.cc
// (the plan's commands), one feature a file; the same binary, e2e_cli_test,
// and the same harness (cli_harness.h).
#include "tests/e2e/cli_harness.h"
#include "tests/e2e/cli_watch.h"

namespace plantrail {
namespace {

using namespace ::plantrail::cli_testing;  // NOLINT: the harness is this file's
                                           // vocabulary

// --- Export ---------------------------------------------------------------

TEST_F(CliTest, ExportWritesEveryEventWithItsHashAndASignedDigest) {
  Register("ex-1", "SA export", {"--start", "HT23", "--end", "VT24"});
  Status("ex-1", "in progress", "on track", "Going, \"well\"\nreally");
  RunJson({"reschedule", "ex-1", "--end", "HT24", "--reason", "Later"});

  // An area's export: every position of the log, the area's in full, the
  // rest as links, then the digest of the last.
  const std::string jsonl = RunOk({"export", "--area", "ex-1"});
  const std::vector<std::string> lines = Lines(jsonl);
  const uint64_t head = Head();
  ASSERT_EQ(lines.size(), head + 2) << jsonl;
  const json header = json::parse(lines.front());
  EXPECT_EQ(header["record"], "export");
  EXPECT_EQ(header["format"], "plantrail-export-v1");
  EXPECT_EQ(header["scope"]["stream"], "area-ex-1");
  EXPECT_EQ(header["first_position"], 1);
  const json digest = json::parse(lines.back());
  EXPECT_EQ(digest["record"], "digest");
  EXPECT_EQ(digest["position"], head);
  std::vector<std::string> types;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    json record = json::parse(lines[i], nullptr, false);
    ASSERT_TRUE(record.is_object()) << lines[i];
    EXPECT_EQ(record["position"], i);
    EXPECT_THAT(record["hash"].get<std::string>(),
                MatchesRegex("[0-9a-f]{64}"));
    EXPECT_THAT(record["payload_hash"].get<std::string>(),
                MatchesRegex("[0-9a-f]{64}"));
    if (record["record"] == "link") {
      EXPECT_FALSE(record.contains("payload"));
      continue;
    }
    EXPECT_EQ(record["stream_id"], "area-ex-1");
    EXPECT_EQ(record["actor"], kActor);
    types.push_back(record["type"].get<std::string>());
    if (record["type"] == "StatusReported") {
      EXPECT_EQ(record["payload"]["report"]["narrative"],
                "Going, \"well\"\nreally");
    }
    if (record["type"] == "ScheduleRevised") {
      EXPECT_EQ(record["payload"]["reason"], "Later");
    }
  }
  EXPECT_THAT(types, ElementsAre("AreaRegistered", "StatusReported",
                                 "ScheduleRevised"));
  const std::string area_file = TempPath("ex-1.jsonl");
  std::ofstream(area_file) << jsonl;
  const CliResult checked = Run({"verify-export", area_file, "--public-key",
                                 TempPath("data/signing.pub")});
  EXPECT_EQ(checked.exit_code, 0) << checked;
  EXPECT_THAT(checked.out,
              HasSubstr(absl::StrCat("export ok: stream area-ex-1; positions "
                                     "1..",
                                     head, ", 3 events in full")));
  EXPECT_THAT(checked.out, HasSubstr("(the pinned key)"));
  EXPECT_THAT(checked.out, HasSubstr("it reaches the log's head"));

  // The whole log as CSV, to a file; the same checks hold offline.
  const std::string file = TempPath("export.csv");
  const CliResult written =
      Run({"export", "--all", "--format", "csv", "-o", file});
  ASSERT_EQ(written.exit_code, 0) << written;
  EXPECT_EQ(written.out, "");
  EXPECT_THAT(written.err, StartsWith(absl::StrCat("exported ", head,
                                                   " events (0 more "
                                                   "positions as links) to ",
                                                   file)));
  std::ifstream in(file);
  std::stringstream content;
  content << in.rdbuf();
  const std::vector<std::string> rows = Lines(content.str());
  ASSERT_EQ(rows.size(), head + 3);
  EXPECT_EQ(rows[0],
            "record,position,stream_id,version,type,event_id,recorded_at,"
            "actor,metadata,content_type,payload,payload_bytes,payload_hash,"
            "hash,redacted,redaction,header,details,header_hash");
  EXPECT_THAT(rows[2], StartsWith("event,1,"));
  EXPECT_THAT(rows.back(), StartsWith("digest,"));
  const json verdict = RunJson({"verify-export", file});
  EXPECT_EQ(verdict["ok"], true);
  EXPECT_EQ(verdict["events"], head);
  EXPECT_EQ(verdict["reaches_head"], true);

  // Edited by hand, it no longer verifies.
  std::string edited = content.str();
  const size_t at = edited.find("Later");
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, 5, "Never");
  std::ofstream(TempPath("edited.csv")) << edited;
  const CliResult refused = Run({"verify-export", TempPath("edited.csv")});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_THAT(refused.err, HasSubstr("payload is not what the event's bytes "
                                     "say"));

  const CliResult unknown = Run({"export", "--area", "ex-none"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  const CliResult both = Run({"export", "--area", "ex-1", "--all"});
  EXPECT_EQ(both.exit_code, 2) << both;
  const CliResult bad_from = Run({"export", "--from", "last spring"});
  EXPECT_EQ(bad_from.exit_code, 2) << bad_from;
  EXPECT_THAT(bad_from.err, HasSubstr("--from"));
}

// --- Administration -------------------------------------------------------

TEST_F(CliTest, AdminProjectionsRebuildVerifyAndStats) {
  Register("ad-1", "SA admin");
  const uint64_t head = Head();

  const std::vector<std::string> table = Lines(RunOk({"admin", "projections"}));
  ASSERT_THAT(table, SizeIs(4));
  EXPECT_THAT(table[0], MatchesRegex("NAME +STATE +CHECKPOINT +HEAD +LAG +"
                                     "GENERATION +REBUILT TO +ERROR"));
  EXPECT_THAT(table, Contains(MatchesRegex("area_state +running +[0-9]+ .*")));
  EXPECT_THAT(table, Contains(MatchesRegex("changes +running +[0-9]+ .*")));
  EXPECT_THAT(table, Contains(MatchesRegex("history +running +[0-9]+ .*")));

  // Each projection's status, by name.
  auto statuses = [] {
    std::map<std::string, json> by_name;
    json response = RunJson({"admin", "projections"});
    for (json& p : response["projections"]) {
      by_name[p["name"].get<std::string>()] = p;
    }
    return by_name;
  };
  std::map<std::string, json> before = statuses();
  ASSERT_TRUE(before.contains("history") && before.contains("area_state"));
  EXPECT_EQ(before["history"]["state"], "PROJECTION_STATE_RUNNING");
  EXPECT_EQ(U64(before["history"]["checkpoint"]), head);
  EXPECT_EQ(U64(before["history"]["lag"]), 0u);

  const CliResult rebuild = Run({"admin", "rebuild", "history"});
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild;
  EXPECT_EQ(rebuild.out,
            "rebuilding history (see plantrail admin projections)\n");
  json rebuild_json = RunJson({"admin", "rebuild", "area_state"});
  EXPECT_EQ(rebuild_json["status"]["name"], "area_state");
  // Done when a new generation of each is live and running; poll for it.
  auto rebuilt = [&](std::map<std::string, json> now) {
    for (const char* name : {"history", "area_state"}) {
      json& status = now.at(name);
      if (status["state"] != "PROJECTION_STATE_RUNNING" ||
          U64(status["generation"]) <= U64(before[name]["generation"])) {
        return false;
      }
    }
    return true;
  };
  std::map<std::string, json> now = statuses();
  const absl::Time deadline = absl::Now() + kPatience;
  while (!rebuilt(now) && absl::Now() < deadline) now = statuses();
  for (const char* name : {"history", "area_state"}) {
    EXPECT_EQ(now[name]["state"], "PROJECTION_STATE_RUNNING")
        << now[name].dump();
    EXPECT_EQ(U64(now[name]["generation"]), U64(before[name]["generation"]) + 1)
        << now[name].dump();
    EXPECT_EQ(now[name]["error"], "");
  }
  // The rebuilt copies answer.
  EXPECT_THAT(RunJson({"history", "ad-1"})["entries"], SizeIs(1));
  EXPECT_EQ(ShowJson("ad-1")["title"], "Area ad-1");

  const CliResult unknown = Run({"admin", "rebuild", "no-such-projection"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));

  EXPECT_THAT(RunOk({"admin", "verify"}),
              MatchesRegex(absl::StrCat(
                  "chain: ok, ", head, " events, head ", head,
                  ", head hash [0-9a-f]{64}\n"
                  "projection area_state: ok, checkpoint ",
                  head, "\nprojection history: ok, checkpoint ", head,
                  "\nprojection changes: ok, checkpoint ", head, "\n")));
  json verified = RunJson({"admin", "verify"});
  EXPECT_EQ(verified["ok"], true);
  EXPECT_EQ(U64(verified["server"]["events_checked"]), head);
  EXPECT_EQ(U64(verified["server"]["first_broken_position"]), 0u);

  const std::string stats = RunOk({"admin", "stats"});
  EXPECT_THAT(stats,
              MatchesRegex(absl::StrCat("STATISTIC +VALUE\nhead position +",
                                        head, "\n(.|\n)*")));
  EXPECT_THAT(stats, HasSubstr("\nlive subscriptions "));
  Register("ad-2", "SA admin");
  json after = RunJson({"admin", "stats"});
  EXPECT_EQ(U64(after["head_position"]), head + 1);
  EXPECT_GE(U64(after["events_appended"]), head + 1);
}

// --- tokens ---------------------------------------------------------------

TEST_F(CliTest, AdminTokensAreCreatedUsedListedAndRevoked) {
  const CliResult created =
      Run({"admin", "token", "create", "--principal", "tina", "--role",
           "reader", "--note", "tests"});
  ASSERT_EQ(created.exit_code, 0) << created;
  // The secret alone on stdout (for scripts); what it is on stderr.
  const std::string token(absl::StripTrailingAsciiWhitespace(created.out));
  EXPECT_THAT(token, MatchesRegex("pt_[0-9a-f]{64}"));
  EXPECT_THAT(created.err, HasSubstr("to tina (reader)"));

  const CliResult reads = Run({"area", "list"}, {.token = token});
  EXPECT_EQ(reads.exit_code, 0) << reads;
  const CliResult writes =
      Run({"area", "register", "tok-1", "--title", "T", "--support-area", "S"},
          {.token = token});
  EXPECT_EQ(writes.exit_code, 1) << writes;
  EXPECT_THAT(writes.err, HasSubstr("tina (reader) may not call"));
  EXPECT_THAT(writes.err, HasSubstr("(PERMISSION_DENIED)"));

  std::string id;
  json listed = RunJson({"admin", "token", "list"});
  for (json& info : listed["tokens"]) {
    if (info["principal"] == "tina") id = info["token_id"];
  }
  ASSERT_THAT(id, StartsWith("tok-"));
  EXPECT_THAT(RunOk({"admin", "token", "list"}),
              AllOf(HasSubstr(id), HasSubstr("tina"), Not(HasSubstr(token))));
  EXPECT_THAT(RunOk({"admin", "token", "revoke", id, "--reason", "done"}),
              HasSubstr("revoked " + id + " (tina)"));
  const CliResult after = Run({"area", "list"}, {.token = token});
  EXPECT_EQ(after.exit_code, 1) << after;
  EXPECT_THAT(after.err, HasSubstr("was revoked"));
  EXPECT_THAT(after.err, HasSubstr("(UNAUTHENTICATED)"));

  // Without any token the CLI says where one comes from.
  const CliResult none = Run({"area", "list"}, {.token = ""});
  EXPECT_EQ(none.exit_code, 1) << none;
  EXPECT_THAT(none.err, HasSubstr("admin.token"));
}

// --- TLS and mutual TLS ---------------------------------------------------

// Two servers on certificates made by the test (openssl): one serving TLS,
// one demanding a client certificate from its CA (mutual TLS). A second CA
// signs what must be refused.
class CliTlsTest : public CliTest {
 protected:
  static void SetUpTestSuite() {
    CliTest::SetUpTestSuite();
    const std::string dir = TempPath("pki");
    std::filesystem::create_directories(dir);
    // EC keys: quick to make. The server's certificate names 127.0.0.1 and
    // localhost; "anna" is a client of the right CA, "mallory" of the other.
    const std::string script = absl::StrCat(
        "set -e; cd '", dir, "'\n",
        "key() { openssl genpkey -algorithm EC -pkeyopt "
        "ec_paramgen_curve:prime256v1 -out $1.key 2>/dev/null; }\n",
        "ca() { key $1; openssl req -x509 -new -key $1.key -out $1.pem "
        "-days 2 -subj \"/CN=$1\"; }\n",
        "cert() { key $1; openssl req -new -key $1.key -subj \"$3\" "
        "-out $1.csr; printf \"$4\" > $1.ext; openssl x509 -req -in $1.csr "
        "-CA $2.pem -CAkey $2.key -CAcreateserial -days 2 -extfile $1.ext "
        "-out $1.pem 2>/dev/null; }\n",
        "ca ca; ca other-ca\n",
        "cert server ca /CN=localhost "
        "'subjectAltName=DNS:localhost,IP:127.0.0.1\\n'\n",
        "cert anna ca '/O=KTH/CN=anna' 'extendedKeyUsage=clientAuth\\n'\n",
        "cert mallory other-ca '/CN=mallory' "
        "'extendedKeyUsage=clientAuth\\n'\n",
        "cert bob ca '/CN=bob' 'extendedKeyUsage=clientAuth\\n'\n",
        "cert carl ca '/CN=carl' 'extendedKeyUsage=clientAuth\\n'\n");
    pki_ready_ =
        std::system(absl::StrCat("sh -c \"$(cat <<'EOF'\n", script, "EOF\n)\"")
                        .c_str()) == 0;
    if (!pki_ready_) return;
    tls_ = new testing::ServerProcess;
    mtls_ = new testing::ServerProcess;
    tls_up_ = tls_->Start(
        TempPath("tls-data"),
        {"--tls-cert", Pki("server.pem"), "--tls-key", Pki("server.key")});
    // Small limits, so that they can be met.
    mtls_up_ = mtls_->Start(
        TempPath("mtls-data"),
        {"--tls-cert", Pki("server.pem"), "--tls-key", Pki("server.key"),
         "--tls-client-ca", Pki("ca.pem"), "--max-subscribers", "2",
         "--max-subscriptions-per-principal", "1", "--max-message-bytes",
         "1048576"});
    if (!mtls_up_) return;
    // What the client certificates' subjects may do there.
    for (const auto& [who, roles] :
         std::vector<std::pair<std::string, std::string>>{
             {"anna", "planner,subscriber"},
             {"bob", "subscriber"},
             {"carl", "subscriber"}}) {
      std::vector<std::string> grant = As("anna");
      grant.insert(grant.end(), {"admin", "token", "create", "--principal", who,
                                 "--role", roles});
      mtls_up_ &=
          Run(grant, {.server = mtls_->address(), .token = mtls_->AdminToken()})
              .exit_code == 0;
    }
  }

  static void TearDownTestSuite() {
    delete tls_;
    delete mtls_;
    tls_ = mtls_ = nullptr;
    CliTest::TearDownTestSuite();
  }

  void SetUp() override {
    CliTest::SetUp();
    ASSERT_TRUE(pki_ready_) << "openssl could not make the certificates";
    ASSERT_TRUE(tls_up_ && mtls_up_) << "a TLS server did not come up";
  }

  static std::string Pki(const std::string& file) {
    return TempPath(absl::StrCat("pki/", file));
  }

  // The CLI's TLS flags for the client certificate `who`.
  static std::vector<std::string> As(const std::string& who) {
    return {"--tls-ca",        Pki("ca.pem"), "--tls-cert",
            Pki(who + ".pem"), "--tls-key",   Pki(who + ".key")};
  }

  // `plantrail` with `flags` in front of `args`, against `server`: as its
  // admin (by the token of its first start), or as nobody but what the
  // flags say (a client certificate).
  static CliResult RunOn(const testing::ServerProcess& server,
                         std::vector<std::string> flags,
                         const std::vector<std::string>& args,
                         bool as_admin = true) {
    flags.insert(flags.end(), args.begin(), args.end());
    return Run(flags, {.server = server.address(),
                       .token = as_admin ? server.AdminToken() : ""});
  }

  static inline testing::ServerProcess* tls_ = nullptr;
  static inline testing::ServerProcess* mtls_ = nullptr;
  static inline bool pki_ready_ = false, tls_up_ = false, mtls_up_ = false;
};

TEST_F(CliTlsTest, TlsServesClientsThatTrustItsCaAndNoOneElse) {
  const std::vector<std::string> list = {"--json", "area", "list"};
  const CliResult trusted = RunOn(*tls_, {"--tls-ca", Pki("ca.pem")}, list);
  EXPECT_EQ(trusted.exit_code, 0) << trusted;

  const CliResult plaintext = RunOn(*tls_, {}, {"area", "list"});
  EXPECT_EQ(plaintext.exit_code, 1) << plaintext;
  EXPECT_THAT(plaintext.err, HasSubstr("does the server want TLS"))
      << plaintext;
  EXPECT_THAT(plaintext.err, HasSubstr("(UNAVAILABLE)")) << plaintext;

  const CliResult wrong_ca =
      RunOn(*tls_, {"--tls-ca", Pki("other-ca.pem")}, {"area", "list"});
  EXPECT_EQ(wrong_ca.exit_code, 1) << wrong_ca;
  EXPECT_THAT(wrong_ca.err, HasSubstr("TLS handshake failed")) << wrong_ca;
}

TEST_F(CliTlsTest, MutualTlsMakesTheCertificatesSubjectTheActor) {
  const std::vector<std::string> anna = {"--tls-ca",   Pki("ca.pem"),
                                         "--tls-cert", Pki("anna.pem"),
                                         "--tls-key",  Pki("anna.key")};
  const CliResult registered = RunOn(
      *mtls_, anna,
      {"area", "register", "tls-1", "--title", "T", "--support-area", "S"},
      /*as_admin=*/false);
  ASSERT_EQ(registered.exit_code, 0) << registered;
  const CliResult history =
      RunOn(*mtls_, anna, {"--json", "history", "tls-1"}, /*as_admin=*/false);
  ASSERT_EQ(history.exit_code, 0) << history;
  const json entries = json::parse(history.out)["entries"];
  ASSERT_THAT(entries, SizeIs(1));
  EXPECT_EQ(entries[0]["actor"], "anna");
}

TEST_F(CliTlsTest, MutualTlsRefusesNoCertificateAndAnotherCasCertificate) {
  const CliResult without =
      RunOn(*mtls_, {"--tls-ca", Pki("ca.pem")}, {"area", "list"});
  EXPECT_EQ(without.exit_code, 1) << without;
  EXPECT_THAT(without.err, HasSubstr("TLS handshake failed")) << without;

  const CliResult mallory = RunOn(
      *mtls_,
      {"--tls-ca", Pki("ca.pem"), "--tls-cert", Pki("mallory.pem"), "--tls-key",
       Pki("mallory.key")},
      {"area", "register", "tls-m", "--title", "T", "--support-area", "S"});
  EXPECT_EQ(mallory.exit_code, 1) << mallory;
  EXPECT_THAT(mallory.err, HasSubstr("(UNAVAILABLE)")) << mallory;
}

TEST_F(CliTlsTest, SubscribersAndRequestSizesAreLimited) {
  const std::vector<std::string> env =
      Environment({.server = mtls_->address(), .token = ""});
  auto watch_as = [&](const std::string& who) {
    std::vector<std::string> args = As(who);
    args.insert(args.end(), {"watch", "--from-now"});
    return std::make_unique<Watch>(args, env);
  };
  auto admitted = [](Watch& watch) {
    return watch.ReadUntil([&](const std::vector<std::string>&) {
      return absl::StrContains(watch.err(), "caught up");
    });
  };
  // The limits: 1 per principal, 2 in all.
  std::unique_ptr<Watch> anna = watch_as("anna");
  ASSERT_TRUE(admitted(*anna)) << anna->err();
  std::vector<std::string> again = As("anna");
  again.insert(again.end(), {"watch", "--from-now"});
  const CliResult second = RunOn(*mtls_, {}, again, /*as_admin=*/false);
  EXPECT_EQ(second.exit_code, 1) << second;
  EXPECT_THAT(second.err,
              HasSubstr("anna has 1 open subscriptions, the limit per "
                        "principal"))
      << second;
  EXPECT_THAT(second.err, HasSubstr("(RESOURCE_EXHAUSTED)")) << second;

  std::unique_ptr<Watch> bob = watch_as("bob");
  ASSERT_TRUE(admitted(*bob)) << bob->err();
  std::vector<std::string> carl = As("carl");
  carl.insert(carl.end(), {"watch", "--from-now"});
  const CliResult third = RunOn(*mtls_, {}, carl, /*as_admin=*/false);
  EXPECT_EQ(third.exit_code, 1) << third;
  EXPECT_THAT(third.err, HasSubstr("max-subscribers")) << third;

  // A subscription that ends frees its place (released as the server sees
  // the call end: try until it does).
  EXPECT_EQ(anna->Interrupt(), 0);
  bool readmitted = false;
  for (int attempt = 0; attempt < 100 && !readmitted; ++attempt) {
    std::unique_ptr<Watch> retry = watch_as("carl");
    readmitted = admitted(*retry);
    if (readmitted) {
      EXPECT_EQ(retry->Interrupt(), 0);
    }
  }
  EXPECT_TRUE(readmitted);
  EXPECT_EQ(bob->Interrupt(), 0);

  // A request over --max-message-bytes is refused before it is read.
  const std::string big = TempPath("big.txt");
  std::ofstream(big) << std::string(2 << 20, 'x');
  std::vector<std::string> append = As("anna");
  append.insert(append.end(), {"events", "append", "ledger-big", "--type",
                               "Big", "--data-file", big});
  const CliResult too_big = RunOn(*mtls_, {}, append, /*as_admin=*/false);
  EXPECT_EQ(too_big.exit_code, 1) << too_big;
  EXPECT_THAT(too_big.err, HasSubstr("(RESOURCE_EXHAUSTED)")) << too_big;
}

TEST_F(CliTlsTest, PlaintextOffLoopbackAndBadCertificatesKeepTheServerDown) {
  const std::string data = TempPath("refused-data");
  const auto [status, err] =
      testing::RunPlantraild({"--data-dir", data, "--listen", "0.0.0.0:0"});
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << err;
  EXPECT_THAT(err, HasSubstr("0.0.0.0:0 is not a loopback address"));
  EXPECT_THAT(err, HasSubstr("--insecure-plaintext"));
  EXPECT_FALSE(std::filesystem::exists(data)) << "nothing may be opened";

  const auto [bad_status, bad_err] = testing::RunPlantraild(
      {"--data-dir", data, "--listen", "127.0.0.1:0", "--tls-cert",
       Pki("missing.pem"), "--tls-key", Pki("server.key")});
  EXPECT_TRUE(WIFEXITED(bad_status) && WEXITSTATUS(bad_status) == 1) << bad_err;
  EXPECT_THAT(bad_err, HasSubstr("--tls-cert: cannot read a PEM file"));

  const auto [ca_status, ca_err] =
      testing::RunPlantraild({"--data-dir", data, "--listen", "127.0.0.1:0",
                              "--tls-client-ca", Pki("ca.pem")});
  EXPECT_TRUE(WIFEXITED(ca_status) && WEXITSTATUS(ca_status) == 1) << ca_err;
  EXPECT_THAT(ca_err, HasSubstr("--tls-client-ca: mutual TLS needs"));
}

}  // namespace
}  // namespace plantrail
