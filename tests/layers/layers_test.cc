// The layers of docs/architecture.md (section 2), checked rather than
// trusted: every source of domain/, eventstore/, projections/ and clients/
// is scanned for what its layer must not include (directly or through a
// header of ours that does) or call, and every library and program is
// checked for what its layer must not link (directly or through a library of
// ours). Each violation is printed as file:line (or target) and the rule.
//
// Both, because neither suffices alone: gRPC's, RocksDB's and Abseil's
// headers are system headers, so a library that includes one compiles
// whether it links the library or not (and a test binary that links more
// would link it); and a link says nothing about a clock read or a printf.
//
// The sources are read from PLANTRAIL_SOURCE_DIR; the links from the file
// PLANTRAIL_LINKS_FILE, which tests/layers/CMakeLists.txt writes at configure
// time from each target's LINK_LIBRARIES and INTERFACE_LINK_LIBRARIES.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/layers/layer_check.h"

namespace plantrail::layers {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Includes of gRPC: its headers and the generated service stubs.
const std::vector<std::string> kGrpc = {R"(^grpcpp?/)", R"(\.grpc\.pb\.h$)"};

std::vector<std::string> Plus(std::vector<std::string> a,
                              const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The headers of record_format (eventstore/event.h, record_format.h,
// uuid.h) and limits.h: plain values that audit/ and the CLI use without the
// store.
constexpr char kEventstoreValueHeaders[] =
    R"(^eventstore/(event|record_format|uuid|limits)\.h$)";

// The services' logic (library plantrail_service_logic) and the gRPC edge
// on it (plantrail_services).
constexpr char kServiceLogic[] =
    R"(^services/(backup|event_store_proto|page_token|plan_command_handler|)"
    R"(plan_changes|plan_index|plan_queries|principal|private_file|)"
    R"(redactor|token_registry)\.(h|cc)$)";
constexpr char kServicesEdge[] =
    R"(^services/(admin_service|authorizer|decode_errors|event_store_service|)"
    R"(grpc_status|plan_command_service|plan_query_service|rpc_observer|)"
    R"(server|subscriptions|transport_security)\.h$)";

constexpr char kElection[] =
    "election/ speaks etcd's JSON API: nothing of ours but common/ and "
    "logging/, no gRPC";

constexpr char kBottomLayer[] =
    "common/, metrics/ and logging/ are the bottom layer: nothing of ours "
    "but common/ (and metrics_http its metrics)";

const std::vector<SourceRule>& SourceRules() {
  static const auto* const rules = new std::vector<SourceRule>{
      {
          .rule = "eventstore/ knows nothing of plans",
          .applies_to = "^eventstore/",
          .forbidden_includes =
              Plus({R"(^(domain|projections|services|clients|audit)/)",
                    R"(^plantrail/(v1|stored)/)"},
                   kGrpc),
          .forbidden_code = {},
      },
      {
          .rule = "eventstore's value headers hold no gRPC, RocksDB or "
                  "metrics types",
          .applies_to = kEventstoreValueHeaders,
          .forbidden_includes =
              Plus({R"(^(metrics|rocksdb|google/protobuf)/)",
                    R"(^eventstore/(rocksdb|event_store|disk_full|info_log))"},
                   kGrpc),
          .forbidden_code = {R"(\b(metrics|rocksdb|grpc)::)"},
      },
      {
          .rule = "domain/ is pure: no gRPC, RocksDB, store, services or "
                  "server libraries",
          .applies_to = "^domain/",
          .forbidden_includes = Plus(
              {R"(^rocksdb/)",
               R"(^(eventstore|projections|services|clients|import|audit|logging|metrics)/)"},
              kGrpc),
          .forbidden_code = {},
      },
      {
          .rule = "domain/ reads no clock (now comes in domain::Facts)",
          .applies_to = "^domain/",
          .forbidden_includes = {R"(^absl/time/clock\.h$)", R"(^chrono$)",
                                 R"(^ctime$)", R"(^time\.h$)",
                                 R"(^sys/time\.h$)"},
          .forbidden_code = {R"(\babsl::(Now|GetCurrentTimeNanos)\b)",
                             R"(\bsystem_clock\b)", R"(\bsteady_clock\b)",
                             R"(\bstd::time\s*\(|(^|[^.>:\w])time\s*\()",
                             R"(\b(gettimeofday|clock_gettime)\s*\()"},
      },
      {
          .rule = "domain/ does no I/O (files, printing, sockets)",
          .applies_to = "^domain/",
          .forbidden_includes =
              {R"(^(fstream|iostream|cstdio|stdio\.h|filesystem)$)",
               R"(^(unistd|fcntl|netdb|poll)\.h$)", R"(^(sys|netinet|arpa)/)"},
          .forbidden_code =
              {R"(\b(f?printf|puts|fputs|fopen|fwrite|fread|perror)\s*\()",
               R"(\bstd::(cout|cerr|clog|[io]?fstream)\b)", R"(\bsocket\s*\()"},
      },
      {
          .rule = "projections/ has no gRPC and nothing of the services",
          .applies_to = "^projections/",
          .forbidden_includes = Plus({R"(^(services|clients)/)"}, kGrpc),
          .forbidden_code = {R"(\bgrpc::)"},
      },
      {
          .rule = kBottomLayer,
          .applies_to = "^(common|metrics|logging)/",
          .forbidden_includes = Plus(
              {R"(^(eventstore|audit|domain|import|projections|services|clients)/)",
               R"(^plantrail/(v1|stored)/)"},
              kGrpc),
          .forbidden_code = {},
      },
      {
          .rule = kBottomLayer,
          .applies_to = "^(common|logging)/",
          .forbidden_includes = {R"(^metrics/)"},
          .forbidden_code = {},
      },
      {
          .rule = "the services' logic knows nothing of gRPC",
          .applies_to = kServiceLogic,
          .forbidden_includes = Plus({kServicesEdge}, kGrpc),
          .forbidden_code = {R"(\bgrpc::)"},
      },
      {
          .rule = "import/ reads plan files with the plan's rules only: no "
                  "gRPC, server, store or CLI",
          .applies_to = "^import/",
          .forbidden_includes = Plus(
              {R"(^(eventstore|projections|services|clients|audit|logging|metrics)/)",
               R"(^rocksdb/)"},
              kGrpc),
          .forbidden_code = {R"(\bgrpc::)"},
      },
      {
          .rule = "webhooks/ says what a webhook carries: no gRPC, store, "
                  "projections, services or CLI",
          .applies_to = "^webhooks/",
          .forbidden_includes =
              Plus({R"(^(projections|services|clients|import|audit|logging)/)",
                    R"(^rocksdb/)",
                    R"(^eventstore/(?!(event|record_format|uuid)\.h$))"},
                   kGrpc),
          .forbidden_code = {R"(\bgrpc::)"},
      },
      {
          .rule = "webhook_delivery/ delivers the log over HTTP: no gRPC, "
                  "services or CLI (services/ tells it what to deliver)",
          .applies_to = "^webhook_delivery/",
          .forbidden_includes =
              Plus({R"(^(services|clients|import|audit)/)"}, kGrpc),
          .forbidden_code = {R"(\bgrpc::)"},
      },
      {
          .rule = kElection,
          .applies_to = "^election/",
          .forbidden_includes = Plus(
              {R"(^(eventstore|audit|domain|import|projections|services|clients|webhooks|webhook_delivery|replication|metrics)/)",
               R"(^plantrail/(v1|stored)/)", R"(^rocksdb/)"},
              kGrpc),
          .forbidden_code = {R"(\bgrpc::)"},
      },
      {
          .rule = "the CLI has no server code: no services, projections, "
                  "RocksDB or event store beyond its value headers",
          .applies_to = "^clients/",
          .forbidden_includes =
              {R"(^(services|projections|logging)/)", R"(^rocksdb/)",
               R"(^eventstore/(?!(event|record_format|uuid)\.h$))"},
          .forbidden_code = {},
      },
  };
  return *rules;
}

// Our target names, and others as CMake names them.
const std::vector<std::string> kGrpcLibraries = {R"(^plantrail_grpc$)",
                                                 R"(^gRPC::)"};

const std::vector<LinkRule>& LinkRules() {
  static const auto* const rules = new std::vector<LinkRule>{
      {
          .rule = "eventstore/ knows nothing of plans",
          .applies_to = "^eventstore:",
          .forbidden = Plus(
              {R"(^plantrail_(proto|stored_proto|domain|projections|services|audit)$)",
               R"(^protobuf::)"},
              kGrpcLibraries),
      },
      {
          .rule = "the contract and the stored schema are twins: neither "
                  "builds on the other",
          .applies_to = "^proto:plantrail_(proto|grpc)$",
          .forbidden = {R"(^plantrail_stored_proto$)"},
      },
      {
          .rule = "the contract and the stored schema are twins: neither "
                  "builds on the other",
          .applies_to = "^proto:plantrail_stored_proto$",
          .forbidden = {R"(^plantrail_(proto|grpc)$)"},
      },
      {
          .rule = "record_format is the log's bytes without RocksDB or "
                  "metrics",
          .applies_to = "^eventstore:plantrail_record_format$",
          .forbidden = {R"(^RocksDB::)", R"(^plantrail_(eventstore|metrics)$)"},
      },
      {
          .rule = "domain/ is pure: no gRPC, RocksDB, store, services or "
                  "server libraries",
          .applies_to = "^domain:",
          .forbidden = Plus(
              {R"(^RocksDB::)", R"(httplib)",
               R"(^plantrail_(eventstore|record_format|projections|services|audit|logging|metrics|metrics_http)$)"},
              kGrpcLibraries),
      },
      {
          .rule = "projections/ has no gRPC and nothing of the services",
          .applies_to = "^projections:",
          .forbidden =
              Plus({R"(^plantrail_(services|daemon_config)$)"}, kGrpcLibraries),
      },
      {
          .rule = kBottomLayer,
          .applies_to = "^(common|logging):",
          .forbidden = {R"(^plantrail_(?!(common|warnings)$))"},
      },
      {
          .rule = kBottomLayer,
          .applies_to = "^metrics:",
          .forbidden = {R"(^plantrail_(?!(common|warnings|metrics)$))"},
      },
      {
          .rule = "the services' logic knows nothing of gRPC",
          .applies_to = "^services:plantrail_service_logic$",
          .forbidden =
              Plus({R"(^plantrail_(services|daemon_config|metrics_http)$)"},
                   kGrpcLibraries),
      },
      {
          .rule = "import/ reads plan files with the plan's rules only: no "
                  "gRPC, server, store or CLI",
          .applies_to = "^import:",
          .forbidden = Plus(
              {R"(^RocksDB::)", R"(httplib)",
               R"(^plantrail_(eventstore|record_format|projections|services|service_logic|daemon_config|audit|logging|metrics|metrics_http|cli|cli_format|timeline)$)"},
              kGrpcLibraries),
      },
      {
          .rule = "webhooks/ says what a webhook carries: no gRPC, store, "
                  "projections, services or CLI",
          .applies_to = "^webhooks:",
          .forbidden = Plus(
              {R"(^RocksDB::)",
               R"(^plantrail_(eventstore|projections|services|service_logic|daemon_config|cli|cli_format|timeline|import|audit|logging)$)"},
              kGrpcLibraries),
      },
      {
          .rule = "webhook_delivery/ delivers the log over HTTP: no gRPC, "
                  "services or CLI (services/ tells it what to deliver)",
          .applies_to = "^webhook_delivery:",
          .forbidden = Plus(
              {R"(^plantrail_(services|service_logic|daemon_config|cli|cli_format|timeline|import|audit)$)"},
              kGrpcLibraries),
      },
      {
          .rule = kElection,
          .applies_to = "^election:",
          .forbidden =
              Plus({R"(^RocksDB::)",
                    R"(^plantrail_(?!(common|warnings|logging|election)$))"},
                   kGrpcLibraries),
      },
      {
          .rule = "the CLI has no server code: no services, projections, "
                  "RocksDB or event store beyond its value headers",
          .applies_to = "^clients/",
          .forbidden =
              {R"(^RocksDB::)",
               R"(^plantrail_(eventstore|projections|services|service_logic|daemon_config|logging|metrics_http)$)"},
      },
  };
  return *rules;
}

// The folders of the layers the rules speak of, and of every header they
// may reach.
const std::vector<std::string> kFolders = {
    "audit",      "clients",          "common",  "domain",  "election",
    "eventstore", "import",           "logging", "metrics", "projections",
    "services",   "webhook_delivery", "webhooks"};

TEST(LayersTest, EverySourceKeepsToItsLayer) {
  const SourceTree tree = ReadSourceTree(PLANTRAIL_SOURCE_DIR, kFolders);
  // Not vacuous: every rule is about some files.
  for (const SourceRule& rule : SourceRules()) {
    const std::regex applies_to(rule.applies_to);
    EXPECT_TRUE(std::any_of(tree.begin(), tree.end(),
                            [&](const auto& file) {
                              return std::regex_search(file.first, applies_to);
                            }))
        << "no file for the rule: " << rule.rule;
  }
  const std::vector<std::string> violations = CheckSources(tree, SourceRules());
  EXPECT_THAT(violations, IsEmpty())
      << "Layer violations (docs/architecture.md, section 2):\n"
      << absl::StrJoin(violations, "\n");
}

TEST(LayersTest, EveryLibraryLinksOnlyWhatItsLayerMay) {
  std::ifstream in(PLANTRAIL_LINKS_FILE);
  ASSERT_TRUE(in) << PLANTRAIL_LINKS_FILE;
  const absl::StatusOr<LinkGraph> graph =
      ParseLinkGraph(std::string(std::istreambuf_iterator<char>(in), {}));
  ASSERT_TRUE(graph.ok()) << graph.status();
  // Not vacuous: the libraries the rules are about are there, with the
  // links we know of.
  for (const char* name : {"plantrail_domain", "plantrail_eventstore",
                           "plantrail_record_format", "plantrail_projections",
                           "plantrail_import", "plantrail_cli", "plantrail"}) {
    EXPECT_TRUE(graph->contains(name)) << name;
  }
  for (const LinkRule& rule : LinkRules()) {
    const std::regex applies_to(rule.applies_to);
    EXPECT_TRUE(std::any_of(graph->begin(), graph->end(),
                            [&](const auto& t) {
                              return std::regex_search(
                                  absl::StrCat(t.second.folder, ":", t.first),
                                  applies_to);
                            }))
        << "no target for the rule: " << rule.rule;
  }
  ASSERT_TRUE(graph->contains("plantrail_projections"));
  EXPECT_THAT(graph->at("plantrail_projections").links,
              ::testing::Contains("plantrail_domain"));
  const std::vector<std::string> violations = CheckLinks(*graph, LinkRules());
  EXPECT_THAT(violations, IsEmpty())
      << "Layer violations (docs/architecture.md, section 2):\n"
      << absl::StrJoin(violations, "\n");
}

// The same twins in the .proto files: the contract imports nothing of the
// stored schema and the stored schema nothing of the contract, so that
// either can change (a v2 API; a new stored event) without the other.
TEST(LayersTest, TheContractAndTheStoredSchemaImportNeitherEachOther) {
  const std::regex import_line(R"re(^import\s+"([^"]+)")re");
  int files = 0;
  for (const auto& [folder, forbidden] :
       {std::pair<std::string, std::string>{"proto/plantrail/v1",
                                            "plantrail/stored/"},
        {"proto/plantrail/stored", "plantrail/v1/"}}) {
    for (const auto& entry : std::filesystem::directory_iterator(
             std::filesystem::path(PLANTRAIL_SOURCE_DIR) / folder)) {
      if (entry.path().extension() != ".proto") continue;
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        std::smatch match;
        if (std::regex_search(line, match, import_line)) {
          EXPECT_NE(match[1].str().rfind(forbidden, 0), 0u)
              << entry.path() << " imports " << match[1];
        }
      }
    }
  }
  EXPECT_GT(files, 10);
}

// The checker on files made to break the rules: each break is found, named
// by file and line and rule, and what only looks like one is not.
TEST(LayersTest, ABrokenRuleIsReportedWithFileLineAndRule) {
  const SourceTree tree = {
      {"domain/bad.cc",
       "// absl::Now() in a comment is no clock\n"
       "#include \"domain/bad.h\"\n"
       "#include <fstream>\n"
       "\n"
       "absl::Time Today() { return absl::Now(); }\n"
       "const char* kText = \"printf(is text)\";\n"
       "/* std::cout\n"
       "   #include <grpcpp/grpcpp.h> */\n"
       "int kBig = 10'000'000;\n"
       "void Say() { std::printf(\"%d\", kBig); }\n"},
      {"domain/bad.h", "#include \"rocksdb/db.h\"\n"},
      {"eventstore/event.h",
       "#include <string>\n#include \"metrics/histogram.h\"\n"},
      {"clients/cli/report.cc",
       "#include \"audit/check.h\"\n#include \"eventstore/event.h\"\n"},
      {"audit/check.h", "#include \"audit/more.h\"\n"},
      {"audit/more.h", "\n#include \"eventstore/rocksdb_event_store.h\"\n"},
      {"eventstore/rocksdb_event_store.h", "#include \"rocksdb/db.h\"\n"},
  };
  EXPECT_THAT(
      CheckSources(tree, SourceRules()),
      ElementsAre(
          "clients/cli/report.cc:1: #include \"audit/check.h\" -> "
          "audit/check.h:1: #include \"audit/more.h\" -> audit/more.h:2: "
          "#include \"eventstore/rocksdb_event_store.h\" [the CLI has no "
          "server code: no services, projections, RocksDB or event store "
          "beyond its value headers]",
          "domain/bad.cc:10: void Say() { std::printf(\"\", kBig); } "
          "[domain/ does no I/O (files, printing, sockets)]",
          "domain/bad.cc:2: #include \"domain/bad.h\" -> domain/bad.h:1: "
          "#include \"rocksdb/db.h\" [domain/ is pure: no gRPC, RocksDB, "
          "store, services or server libraries]",
          "domain/bad.cc:3: #include <fstream> [domain/ does no I/O (files, "
          "printing, sockets)]",
          "domain/bad.cc:5: absl::Time Today() { return absl::Now(); } "
          "[domain/ reads no clock (now comes in domain::Facts)]",
          "domain/bad.h:1: #include \"rocksdb/db.h\" [domain/ is pure: no "
          "gRPC, RocksDB, store, services or server libraries]",
          "eventstore/event.h:2: #include \"metrics/histogram.h\" "
          "[eventstore's value headers hold no gRPC, RocksDB or metrics "
          "types]"));
}

TEST(LayersTest, ABrokenLinkIsReportedWithTheWayToIt) {
  const absl::StatusOr<LinkGraph> graph = ParseLinkGraph(
      "plantrail_domain\tdomain\tplantrail_proto;plantrail_helper\n"
      "plantrail_helper\tdomain\tabsl::strings;plantrail_grpc\n"
      "plantrail_grpc\tproto\tplantrail_proto;gRPC::grpc++\n"
      "plantrail_proto\tproto\tprotobuf::libprotobuf\n"
      "plantrail_cli\tclients/cli\tplantrail_grpc;RocksDB::rocksdb-shared\n");
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_THAT(
      CheckLinks(*graph, LinkRules()),
      ElementsAre(
          "plantrail_cli (clients/cli) links RocksDB::rocksdb-shared [the CLI "
          "has no server code: no services, projections, RocksDB or event "
          "store beyond its value headers]",
          "plantrail_domain (domain) links plantrail_grpc through "
          "plantrail_helper [domain/ is pure: no gRPC, RocksDB, store, "
          "services or server libraries]",
          "plantrail_helper (domain) links plantrail_grpc [domain/ is pure: "
          "no gRPC, RocksDB, store, services or server libraries]"));
  EXPECT_FALSE(ParseLinkGraph("plantrail_domain only a name\n").ok());
}

TEST(LayersTest, CodeLinesDropCommentsAndLiteralsButKeepIncludes) {
  EXPECT_THAT(
      CodeLines("#include \"a.h\"  // x\n"
                "int a = 1; // printf(\n"
                "auto s = R\"x(absl::Now() \")x\"; int b;\n"
                "char c = '\\''; /* a\n"
                "b */ int d;"),
      ElementsAre("#include \"a.h\"  // x", "int a = 1; ",
                  "auto s = R\"\"; int b;", "char c = '';  ", " int d;"));
}

}  // namespace
}  // namespace plantrail::layers
