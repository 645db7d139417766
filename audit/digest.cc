#include "audit/digest.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "audit/chain_check.h"

namespace plantrail::audit {
namespace {

constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%E6SZ";

void SetTime(absl::Time time, google::protobuf::Timestamp& out) {
  const absl::Duration since_epoch = time - absl::UnixEpoch();
  const int64_t seconds =
      absl::ToInt64Seconds(absl::Floor(since_epoch, absl::Seconds(1)));
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
}

absl::Time ToMicros(absl::Time time) {
  return absl::FromUnixMicros(absl::ToUnixMicros(time));
}

std::string Hex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes);
}

absl::StatusOr<std::string> FromHex(const nlohmann::json& json,
                                    const char* field, size_t size) {
  if (!json.contains(field) || !json[field].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": missing (a string of hex digits)"));
  }
  const std::string text = json[field].get<std::string>();
  if (text.size() != 2 * size ||
      !std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be ", 2 * size, " lower-case hex digits"));
  }
  return absl::HexStringToBytes(text);
}

}  // namespace

std::string DigestTime(absl::Time time) {
  return absl::FormatTime(kTimeFormat, ToMicros(time), absl::UTCTimeZone());
}

std::string SignedText(const v1::Digest& digest) {
  return absl::StrCat(kDigestFormat, "\nposition: ", digest.position(),
                      "\nhead_hash: ", Hex(digest.head_hash()),
                      "\nlog_head: ", digest.log_head(),
                      "\nsigned_at: ", DigestTime(TimeOf(digest.signed_at())),
                      "\nkey_id: ", digest.key_id(), "\n");
}

absl::StatusOr<v1::Digest> SignDigest(const SigningKey& key, uint64_t position,
                                      const eventstore::Hash& head_hash,
                                      uint64_t log_head, absl::Time now) {
  v1::Digest digest;
  digest.set_position(position);
  digest.set_log_head(log_head);
  digest.set_head_hash(head_hash.data(), head_hash.size());
  SetTime(ToMicros(now), *digest.mutable_signed_at());
  digest.set_key_id(key.key_id());
  digest.set_public_key(key.public_key());
  absl::StatusOr<std::string> signature = key.Sign(SignedText(digest));
  if (!signature.ok()) return signature.status();
  digest.set_signature(*std::move(signature));
  return digest;
}

absl::Status CheckDigest(const v1::Digest& digest) {
  if (digest.position() == 0) {
    return absl::InvalidArgumentError(
        "position: a digest names position 1 or later");
  }
  if (digest.log_head() < digest.position()) {
    return absl::InvalidArgumentError(
        absl::StrCat("log_head: ", digest.log_head(), " is before position ",
                     digest.position()));
  }
  if (absl::StatusOr<eventstore::Hash> hash =
          HashFromBytes(digest.head_hash(), "head_hash");
      !hash.ok()) {
    return hash.status();
  }
  if (digest.key_id() != KeyIdOf(digest.public_key())) {
    return absl::InvalidArgumentError(
        absl::StrCat("key_id: ", digest.key_id(),
                     " is not the id of the digest's public key (",
                     KeyIdOf(digest.public_key()), ")"));
  }
  return VerifySignature(digest.public_key(), SignedText(digest),
                         digest.signature());
}

nlohmann::ordered_json DigestToJson(const v1::Digest& digest) {
  nlohmann::ordered_json json;
  json["format"] = kDigestFormat;
  json["position"] = digest.position();
  json["head_hash"] = Hex(digest.head_hash());
  json["log_head"] = digest.log_head();
  json["signed_at"] = DigestTime(TimeOf(digest.signed_at()));
  json["key_id"] = digest.key_id();
  json["public_key"] = Hex(digest.public_key());
  json["signature"] = Hex(digest.signature());
  return json;
}

absl::StatusOr<v1::Digest> DigestFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError("a digest is a JSON object");
  }
  if (!json.contains("format") || json["format"] != kDigestFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat("format: must be \"", kDigestFormat, "\""));
  }
  v1::Digest digest;
  if (!json.contains("position") || !json["position"].is_number_unsigned()) {
    return absl::InvalidArgumentError(
        "position: missing (a whole number of 1 or more)");
  }
  digest.set_position(json["position"].get<uint64_t>());
  absl::StatusOr<std::string> head_hash = FromHex(json, "head_hash", 32);
  if (!head_hash.ok()) return head_hash.status();
  digest.set_head_hash(*head_hash);
  if (!json.contains("log_head") || !json["log_head"].is_number_unsigned()) {
    return absl::InvalidArgumentError(
        "log_head: missing (a whole number of 1 or more)");
  }
  digest.set_log_head(json["log_head"].get<uint64_t>());
  absl::Time signed_at;
  std::string error;
  if (!json.contains("signed_at") || !json["signed_at"].is_string() ||
      !absl::ParseTime(kTimeFormat, json["signed_at"].get<std::string>(),
                       absl::UTCTimeZone(), &signed_at, &error)) {
    return absl::InvalidArgumentError(
        "signed_at: missing or not YYYY-MM-DDTHH:MM:SS.ffffffZ");
  }
  SetTime(signed_at, *digest.mutable_signed_at());
  if (!json.contains("key_id") || !json["key_id"].is_string()) {
    return absl::InvalidArgumentError("key_id: missing");
  }
  digest.set_key_id(json["key_id"].get<std::string>());
  absl::StatusOr<std::string> public_key = FromHex(json, "public_key", 32);
  if (!public_key.ok()) return public_key.status();
  digest.set_public_key(*public_key);
  absl::StatusOr<std::string> signature = FromHex(json, "signature", 64);
  if (!signature.ok()) return signature.status();
  digest.set_signature(*signature);
  return digest;
}

absl::StatusOr<eventstore::Hash> HashFromBytes(absl::string_view bytes,
                                               absl::string_view field) {
  eventstore::Hash hash{};
  if (bytes.size() != hash.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": a SHA-256 hash has 32 bytes, not ", bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

}  // namespace plantrail::audit
