// The stored schema (package plantrail.stored: the log's payloads and the
// projections' state) and the contract (plantrail.v1) have messages of the
// same names with the same fields (StoredSchemaTest checks every one).
// Twin maps a message to its twin in the other package by its bytes: the
// wire format names no package, so nothing is lost, unknown fields
// included. This is the one place the two meet: domain/ decides a v1
// command into stored events, the query edge answers stored states as v1.
#ifndef PLANTRAIL_DOMAIN_STORED_TWIN_H_
#define PLANTRAIL_DOMAIN_STORED_TWIN_H_

#include <string>
#include <type_traits>

#include "google/protobuf/message_lite.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace plantrail::domain {

// `To` must be the twin of `from`'s type; anything else parses to garbage or
// an empty message (the twins' sameness is the test's job, not this one's).
template <typename To>
To Twin(const google::protobuf::MessageLite& from) {
  To to;
  to.ParsePartialFromString(from.SerializePartialAsString());
  return to;
}

// An enum's twin: the twins' values are the same numbers.
template <typename To, typename From>
requires std::is_enum_v<From> && std::is_enum_v<To> To Twin(From from) {
  return static_cast<To>(from);
}

// Appends the twin of every element of `from` to `to`.
template <typename To, typename From>
void AppendTwins(const google::protobuf::RepeatedPtrField<From>& from,
                 google::protobuf::RepeatedPtrField<To>* to) {
  to->Reserve(to->size() + from.size());
  for (const From& element : from) *to->Add() = Twin<To>(element);
}

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_STORED_TWIN_H_
