// The stored schema (plantrail.stored) and the contract (plantrail.v1) are
// twins: every stored message and enum has one of the same name in the
// contract with the same fields (numbers, names, types, labels, oneofs,
// text classes) and values, so that domain::Twin can map one to the other by
// bytes. A field added to one side only fails here, naming it.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "domain/event_codec.h"
#include "domain/stored_twin.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "plantrail/stored/field_options.pb.h"
#include "plantrail/stored/history.pb.h"
#include "plantrail/stored/plan_events.pb.h"
#include "plantrail/stored/system_events.pb.h"
#include "plantrail/v1/admin.pb.h"
#include "plantrail/v1/field_options.pb.h"
#include "plantrail/v1/plan_events.pb.h"
#include "plantrail/v1/plan_queries.pb.h"
#include "plantrail/v1/security.pb.h"
#include "tests/domain/domain_test_util.h"

namespace plantrail::domain {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::DescriptorPool;
using ::google::protobuf::EnumDescriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::FileDescriptor;
using ::plantrail::domain::testing::Pb;

constexpr char kStored[] = "plantrail.stored.";
constexpr char kApi[] = "plantrail.v1.";

// A type's name with the stored package replaced by the contract's; other
// packages' types (google.protobuf.Timestamp) stay as they are.
std::string AsApi(const std::string& full_name) {
  return full_name.rfind(kStored, 0) == 0
             ? absl::StrCat(kApi, full_name.substr(sizeof(kStored) - 1))
             : full_name;
}

// Every difference between `stored` and `api`, one line each.
void CompareEnums(const EnumDescriptor& stored, const EnumDescriptor& api,
                  std::vector<std::string>& differences) {
  if (stored.value_count() != api.value_count()) {
    differences.push_back(
        absl::StrCat(stored.full_name(), ": ", stored.value_count(),
                     " values, ", api.full_name(), ": ", api.value_count()));
  }
  for (int i = 0; i < stored.value_count(); ++i) {
    const auto* value = stored.value(i);
    const auto* twin = api.FindValueByName(value->name());
    if (twin == nullptr || twin->number() != value->number()) {
      differences.push_back(absl::StrCat(value->full_name(), " = ",
                                         value->number(), " has no twin in ",
                                         api.full_name()));
    }
  }
}

std::string TypeOf(const FieldDescriptor& field) {
  if (field.message_type() != nullptr) {
    return AsApi(field.message_type()->full_name());
  }
  if (field.enum_type() != nullptr)
    return AsApi(field.enum_type()->full_name());
  return field.type_name();
}

std::string TypeOfApi(const FieldDescriptor& field) {
  if (field.message_type() != nullptr) return field.message_type()->full_name();
  if (field.enum_type() != nullptr) return field.enum_type()->full_name();
  return field.type_name();
}

void CompareMessages(const Descriptor& stored, const Descriptor& api,
                     std::vector<std::string>& differences) {
  if (stored.field_count() != api.field_count()) {
    differences.push_back(
        absl::StrCat(stored.full_name(), ": ", stored.field_count(),
                     " fields, ", api.full_name(), ": ", api.field_count()));
  }
  for (int i = 0; i < stored.field_count(); ++i) {
    const FieldDescriptor& field = *stored.field(i);
    const FieldDescriptor* twin = api.FindFieldByNumber(field.number());
    const std::string where =
        absl::StrCat(field.full_name(), " = ", field.number());
    if (twin == nullptr) {
      differences.push_back(absl::StrCat(where, ": no field ", field.number(),
                                         " in ", api.full_name()));
      continue;
    }
    if (twin->name() != field.name() || twin->label() != field.label() ||
        TypeOfApi(*twin) != TypeOf(field)) {
      differences.push_back(absl::StrCat(
          where, " (", field.is_repeated() ? "repeated " : "", TypeOf(field),
          " ", field.name(), ") differs from ", twin->full_name(), " (",
          twin->is_repeated() ? "repeated " : "", TypeOfApi(*twin), ")"));
    }
    const std::string oneof =
        field.containing_oneof() ? field.containing_oneof()->name() : "";
    const std::string twin_oneof =
        twin->containing_oneof() ? twin->containing_oneof()->name() : "";
    if (oneof != twin_oneof) {
      differences.push_back(absl::StrCat(where, ": in oneof \"", oneof,
                                         "\", its twin in \"", twin_oneof,
                                         "\""));
    }
    if (static_cast<int>(field.options().GetExtension(stored::text_class)) !=
        static_cast<int>(twin->options().GetExtension(v1::text_class))) {
      differences.push_back(
          absl::StrCat(where, ": text_class differs from its twin's"));
    }
  }
  for (int i = 0; i < stored.nested_type_count(); ++i) {
    const Descriptor* twin =
        api.FindNestedTypeByName(stored.nested_type(i)->name());
    if (twin == nullptr) {
      differences.push_back(absl::StrCat(stored.nested_type(i)->full_name(),
                                         ": no twin in ", api.full_name()));
    } else {
      CompareMessages(*stored.nested_type(i), *twin, differences);
    }
  }
  for (int i = 0; i < stored.enum_type_count(); ++i) {
    const EnumDescriptor* twin =
        api.FindEnumTypeByName(stored.enum_type(i)->name());
    if (twin == nullptr) {
      differences.push_back(absl::StrCat(stored.enum_type(i)->full_name(),
                                         ": no twin in ", api.full_name()));
    } else {
      CompareEnums(*stored.enum_type(i), *twin, differences);
    }
  }
}

// The files of the stored schema, and one message of each contract file
// that holds twins (linking them into the generated pool).
std::vector<const FileDescriptor*> StoredFiles() {
  (void)v1::PlanEvent::descriptor();
  (void)v1::HistoryEntry::descriptor();
  (void)v1::TokenCreated::descriptor();
  (void)v1::PayloadRedacted::descriptor();
  return {stored::TextClass_descriptor()->file(),
          stored::PlanState::descriptor()->file(),
          stored::PlanEvent::descriptor()->file(),
          stored::HistoryEntry::descriptor()->file(),
          stored::TokenCreated::descriptor()->file()};
}

TEST(StoredSchemaTest, EveryStoredMessageHasAnIdenticalApiTwin) {
  const DescriptorPool& pool = *DescriptorPool::generated_pool();
  std::vector<std::string> differences;
  int messages = 0;
  for (const FileDescriptor* file : StoredFiles()) {
    ASSERT_EQ(file->package(), "plantrail.stored") << file->name();
    for (int i = 0; i < file->message_type_count(); ++i) {
      const Descriptor& stored = *file->message_type(i);
      const Descriptor* api =
          pool.FindMessageTypeByName(AsApi(stored.full_name()));
      ++messages;
      if (api == nullptr) {
        differences.push_back(
            absl::StrCat(stored.full_name(), " has no twin in plantrail.v1"));
        continue;
      }
      CompareMessages(stored, *api, differences);
    }
    for (int i = 0; i < file->enum_type_count(); ++i) {
      const EnumDescriptor& stored = *file->enum_type(i);
      const EnumDescriptor* api =
          pool.FindEnumTypeByName(AsApi(stored.full_name()));
      if (api == nullptr) {
        differences.push_back(
            absl::StrCat(stored.full_name(), " has no twin in plantrail.v1"));
        continue;
      }
      CompareEnums(stored, *api, differences);
    }
  }
  EXPECT_THAT(differences, ::testing::IsEmpty())
      << "the stored schema and the contract differ (add a field to both, "
         "with the same number):\n"
      << absl::StrJoin(differences, "\n");
  // Not vacuous: the events, the states, the history and the system events.
  EXPECT_GT(messages, 30);
}

// The comparison itself, on twins made to differ.
TEST(StoredSchemaTest, ADifferenceIsNamed) {
  std::vector<std::string> differences;
  CompareMessages(*stored::AreaRegistered::descriptor(),
                  *v1::AreaReopened::descriptor(), differences);
  EXPECT_THAT(differences, ::testing::Contains(::testing::HasSubstr(
                               "plantrail.stored.AreaRegistered.area_id = 1")));
  differences.clear();
  CompareEnums(*stored::Phase_descriptor(), *v1::Health_descriptor(),
               differences);
  EXPECT_THAT(differences, ::testing::Contains(::testing::HasSubstr(
                               "plantrail.stored.PHASE_PROPOSED = 1")));
}

TEST(StoredSchemaTest, TwinsMapByBytesBothWays) {
  const auto stored_state = Pb<stored::AreaState>(R"pb(
    area_id: "3.4.2"
    title: "Shared financial process"
    participating_units: "Finance office"
    planned_end {
      precision: PLAN_DATE_PRECISION_TERM
      year: 2023
      term: TERM_AUTUMN
      text: "HT23"
    }
    phase: PHASE_IN_PROGRESS
    health: HEALTH_AT_RISK
    dependencies { area_id: "3.1" kind: DEPENDENCY_KIND_RELATES }
    version: 7
  )pb");
  const v1::AreaState api = Twin<v1::AreaState>(stored_state);
  EXPECT_EQ(api.area_id(), "3.4.2");
  EXPECT_EQ(api.planned_end().text(), "HT23");
  EXPECT_EQ(api.phase(), v1::PHASE_IN_PROGRESS);
  EXPECT_EQ(api.dependencies(0).kind(), v1::DEPENDENCY_KIND_RELATES);
  EXPECT_EQ(api.version(), 7u);
  EXPECT_EQ(Twin<stored::AreaState>(api).SerializeAsString(),
            stored_state.SerializeAsString());
  EXPECT_EQ(Twin<stored::Phase>(v1::PHASE_PAUSED), stored::PHASE_PAUSED);
}

TEST(StoredSchemaTest, EventsNameTheirApiTwinAsContentType) {
  // What every event in the log carries, before and after the stored schema
  // had its own package; readers of the change stream decode with it.
  stored::PlanEvent event;
  event.mutable_status_reported();
  EXPECT_EQ(EncodeEvent(event).content_type,
            "application/x-protobuf; messageType=plantrail.v1.StatusReported");
  EXPECT_EQ(PayloadContentType(*stored::TokenCreated::descriptor()),
            "application/x-protobuf; messageType=plantrail.v1.TokenCreated");
}

}  // namespace
}  // namespace plantrail::domain
