// Protobuf messages in tests, written as text format.
#ifndef PLANTRAIL_TESTS_PROTO_TEXT_H_
#define PLANTRAIL_TESTS_PROTO_TEXT_H_

#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace plantrail::testing {

// A message from its text format; a test failure if it does not parse.
template <typename Message>
Message Pb(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_PROTO_TEXT_H_
