// The command handler's cache of folded areas: always what a fresh fold of
// the log gives, however the area grew, and folded again after Forget().
#include "projections/area_state_cache.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "domain/event_codec.h"
#include "domain/streams.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "projections/stream_fold.h"
#include "tests/temp_dir.h"

namespace plantrail::projections {
namespace {

using google::protobuf::util::MessageDifferencer;

class AreaStateCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = eventstore::EventStore::Open(
        {.path = dir_ / "log", .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  void Append(const std::string& area, const stored::PlanEvent& event) {
    domain::EncodedEvent encoded = domain::EncodeEvent(event);
    ASSERT_TRUE(
        log_->Append({.stream_id = domain::AreaStream(area),
                      .events = {{.type = encoded.type,
                                  .payload = encoded.payload,
                                  .content_type = encoded.content_type}}})
            .ok());
  }
  void Register(const std::string& area) {
    stored::PlanEvent event;
    event.mutable_area_registered()->set_area_id(area);
    event.mutable_area_registered()->set_title("Area " + area);
    event.mutable_area_registered()->set_support_area("3.1");
    Append(area, event);
  }
  void Report(const std::string& area, int n) {
    stored::PlanEvent event;
    stored::StatusReport& report =
        *event.mutable_status_reported()->mutable_report();
    report.set_phase(stored::PHASE_IN_PROGRESS);
    report.set_health(n % 2 ? stored::HEALTH_AT_RISK : stored::HEALTH_ON_TRACK);
    report.set_narrative(absl::StrCat("report ", n));
    Append(area, event);
  }
  void ExpectFresh(AreaStateCache& cache, const std::string& area) {
    auto cached = cache.Fold(*log_, area);
    auto fresh = FoldArea(*log_, area);
    ASSERT_TRUE(cached.ok() && fresh.ok());
    EXPECT_TRUE(MessageDifferencer::Equals(*cached, *fresh))
        << cached->DebugString() << "\nvs\n"
        << fresh->DebugString();
  }

  plantrail::testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> log_;
};

TEST_F(AreaStateCacheTest, AlwaysWhatAFreshFoldGives) {
  AreaStateCache cache(/*capacity=*/3);
  for (int area = 0; area < 5; ++area) Register(absl::StrCat("A", area));
  for (int n = 0; n < 200; ++n) {
    const std::string area = absl::StrCat("A", n * 7 % 5);
    Report(area, n);
    ExpectFresh(cache, area);
    ExpectFresh(cache, absl::StrCat("A", n % 5));
  }
  auto unknown = cache.Fold(*log_, "nobody");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->version(), 0u);
}

TEST_F(AreaStateCacheTest, ALogShorterThanRememberedIsFoldedAgain) {
  AreaStateCache cache;
  Register("A");
  Report("A", 1);
  ExpectFresh(cache, "A");
  log_.reset();
  std::filesystem::remove_all(dir_ / "log");
  SetUp();
  Register("A");
  ExpectFresh(cache, "A");
}

TEST_F(AreaStateCacheTest, ForgetFoldsARedactedAreaFromTheStartAgain) {
  AreaStateCache cache;
  Register("A");
  Report("A", 1);
  ASSERT_EQ(cache.Fold(*log_, "A")->latest_report().narrative(), "report 1");
  // Redacted behind the cache: same version, other payload.
  stored::PlanEvent scrubbed;
  scrubbed.mutable_status_reported()->mutable_report()->set_phase(
      stored::PHASE_IN_PROGRESS);
  ASSERT_TRUE(
      log_->Redact({.position = 2,
                    .tombstone = domain::EncodeEvent(scrubbed).payload,
                    .record = {.stream_id = "plantrail-redactions",
                               .events = {{.type = "PayloadRedacted"}}}})
          .ok());
  EXPECT_EQ(cache.Fold(*log_, "A")->latest_report().narrative(), "report 1")
      << "the cache cannot see a redaction by itself";
  cache.Forget("A");
  EXPECT_EQ(cache.Fold(*log_, "A")->latest_report().narrative(), "");
  ExpectFresh(cache, "A");
}

}  // namespace
}  // namespace plantrail::projections
