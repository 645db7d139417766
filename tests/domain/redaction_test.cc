// What a redaction clears is marked in the stored schema: every string field
// of the plan's messages is classified (`(plantrail.stored.text_class)`),
// and each event type is redacted by that classification alone.
#include "domain/redaction.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "plantrail/stored/field_options.pb.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::domain {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;

// The string fields of `type` and of every message it holds, at any depth,
// that carry no classification.
void Unclassified(const Descriptor& type, std::vector<std::string>& seen,
                  std::vector<std::string>& missing) {
  if (std::find(seen.begin(), seen.end(), type.full_name()) != seen.end()) {
    return;
  }
  seen.push_back(type.full_name());
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      // Timestamps are the library's, without free text.
      if (field.message_type()->file()->package() == "plantrail.stored") {
        Unclassified(*field.message_type(), seen, missing);
      }
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
               field.options().GetExtension(stored::text_class) ==
                   stored::TEXT_CLASS_UNSPECIFIED) {
      missing.push_back(field.full_name());
    }
  }
}

TEST(TextClassificationTest, EveryStringFieldOfThePlanIsClassified) {
  // The events as stored, and the states folded from them (whose before
  // and after an area's history shows).
  std::vector<std::string> seen, missing;
  for (const Descriptor* type :
       {stored::PlanEvent::descriptor(), stored::AreaState::descriptor(),
        stored::DecisionState::descriptor(), stored::PlanState::descriptor()}) {
    Unclassified(*type, seen, missing);
  }
  EXPECT_THAT(missing, ::testing::IsEmpty())
      << "mark each with [(text_class) = TEXT_FREE] (someone's own words) or "
         "[(text_class) = TEXT_STRUCTURE] (the organisation's record): "
      << absl::StrJoin(missing, ", ");
  EXPECT_GT(seen.size(), 15u) << "the walk did not reach the event messages";
}

// Sets every field of `message` (one member of each oneof), at any depth: a
// string to its own full name (twice, when repeated), so that what a
// redaction did to each can be told.
void FillEveryField(Message& message, int depth = 0) {
  const Reflection& reflection = *message.GetReflection();
  const Descriptor& type = *message.GetDescriptor();
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    const auto* oneof = field.real_containing_oneof();
    if (oneof != nullptr && oneof->field(0) != &field) continue;
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (field.is_repeated()) {
        reflection.AddString(&message, &field, field.full_name());
        reflection.AddString(&message, &field, field.full_name() + ".2");
      } else {
        reflection.SetString(&message, &field, field.full_name());
      }
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               depth < 4 &&
               field.message_type()->file()->package() == "plantrail.stored") {
      FillEveryField(field.is_repeated()
                         ? *reflection.AddMessage(&message, &field)
                         : *reflection.MutableMessage(&message, &field),
                     depth + 1);
    }
  }
}

// Compares every string of `before` with the same field of `after` (its
// redaction): free text must be "", structure unchanged. Counts the free
// texts in `free`.
void ExpectRedacted(const Message& before, const Message& after,
                    const std::string& path, int& free) {
  const Reflection& reflection = *before.GetReflection();
  const Descriptor& type = *before.GetDescriptor();
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    const std::string where = absl::StrCat(path, ".", field->name());
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        ASSERT_EQ(reflection.FieldSize(after, field),
                  reflection.FieldSize(before, field))
            << where;
        for (int j = 0; j < reflection.FieldSize(before, field); ++j) {
          ExpectRedacted(reflection.GetRepeatedMessage(before, field, j),
                         reflection.GetRepeatedMessage(after, field, j),
                         absl::StrCat(where, "[", j, "]"), free);
        }
      } else if (reflection.HasField(before, field)) {
        ExpectRedacted(reflection.GetMessage(before, field),
                       reflection.GetMessage(after, field), where, free);
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      std::vector<std::string> was, is;
      if (field->is_repeated()) {
        ASSERT_EQ(reflection.FieldSize(after, field),
                  reflection.FieldSize(before, field))
            << where << ": a redaction keeps a list's length";
        for (int j = 0; j < reflection.FieldSize(before, field); ++j) {
          was.push_back(reflection.GetRepeatedString(before, field, j));
          is.push_back(reflection.GetRepeatedString(after, field, j));
        }
      } else {
        was.push_back(reflection.GetString(before, field));
        is.push_back(reflection.GetString(after, field));
      }
      for (size_t j = 0; j < was.size(); ++j) {
        if (was[j].empty()) continue;  // the other member of a oneof
        if (IsFreeText(*field)) {
          ++free;
          EXPECT_EQ(is[j], "") << where << " is free text";
        } else {
          EXPECT_EQ(is[j], was[j]) << where << " is structure";
        }
      }
    }
  }
}

class RedactionPerEventTypeTest
    : public ::testing::TestWithParam<const FieldDescriptor*> {};

TEST_P(RedactionPerEventTypeTest, EmptiesFreeTextAndKeepsStructure) {
  stored::PlanEvent event;
  FillEveryField(*event.GetReflection()->MutableMessage(&event, GetParam()));
  const stored::PlanEvent redacted = WithoutFreeText(event);
  ASSERT_EQ(redacted.event_case(), event.event_case());
  int free = 0;
  ExpectRedacted(event, redacted, "", free);
  // Nothing of free text is left, and FreeTexts found each one removed.
  EXPECT_EQ(FreeTexts(redacted), std::vector<std::string>());
  EXPECT_EQ(FreeTexts(event).size(), static_cast<size_t>(free));
}

std::vector<const FieldDescriptor*> EventTypes() {
  std::vector<const FieldDescriptor*> types;
  const Descriptor& event = *stored::PlanEvent::descriptor();
  for (int i = 0; i < event.field_count(); ++i) {
    if (event.field(i)->real_containing_oneof() != nullptr) {
      types.push_back(event.field(i));
    }
  }
  return types;
}

INSTANTIATE_TEST_SUITE_P(EveryEventType, RedactionPerEventTypeTest,
                         ::testing::ValuesIn(EventTypes()),
                         [](const auto& info) {
                           return std::string(
                               info.param->message_type()->name());
                         });

TEST(RedactionTest, ADecisionKeepsItsBodyAndLosesItsOutcome) {
  stored::PlanEvent event;
  stored::DecisionRecorded& decision = *event.mutable_decision_recorded();
  decision.set_decision_id("V-2022-0218-2023-04-05");
  decision.set_reference("V-2022-0218");
  decision.set_body("Universitetsdirektören");
  decision.set_title("Handlingsplanen fastställs");
  decision.add_area_ids("3.1");
  decision.set_outcome("Anna Andersson får i uppdrag att samordna");
  const stored::DecisionRecorded redacted =
      WithoutFreeText(event).decision_recorded();
  // The deciding body is the organisation's record: `decision list --body`
  // still finds a redacted decision.
  EXPECT_EQ(redacted.body(), "Universitetsdirektören");
  EXPECT_EQ(redacted.title(), "Handlingsplanen fastställs");
  EXPECT_EQ(redacted.reference(), "V-2022-0218");
  EXPECT_THAT(redacted.area_ids(), ::testing::ElementsAre("3.1"));
  EXPECT_EQ(redacted.outcome(), "");
}

TEST(RedactionTest, TheHistoryDropsTheBeforeAndAfterOfFreeTextFieldsOnly) {
  EXPECT_TRUE(IsFreeTextAreaField("rationale"));
  EXPECT_TRUE(IsFreeTextAreaField("outcome_text"));
  EXPECT_FALSE(IsFreeTextAreaField("title"));
  EXPECT_FALSE(IsFreeTextAreaField("support_area"));
  EXPECT_FALSE(IsFreeTextAreaField("planned_end"));  // a message, not text
  EXPECT_FALSE(IsFreeTextAreaField("no_such_field"));
}

}  // namespace
}  // namespace plantrail::domain
