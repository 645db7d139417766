#include "election/etcd_client.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/quote.h"
#include "nlohmann/json.hpp"

namespace plantrail::election {
namespace {

using Json = nlohmann::json;

constexpr char kKeepAlive[] = "/v3/lease/keepalive";

// More than any answer to what this client asks (etcd refuses requests over
// 1.5 MiB; one key's range is no bigger).
constexpr size_t kMaxAnswerBytes = 4 << 20;

absl::Status Malformed(absl::string_view flag, absl::string_view list,
                       absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": ", QuoteForMessage(list, 80), ": ", rule));
}

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// One "HOST:PORT" of the list; the error is the rule it breaks.
absl::StatusOr<EtcdEndpoint> ParseEndpoint(absl::string_view entry) {
  const std::string quoted = QuoteForMessage(entry, 60);
  absl::string_view host;
  absl::string_view port;
  if (!entry.empty() && entry.front() == '[') {
    const size_t close = entry.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted, ": an IPv6 host in brackets needs its ']'"));
    }
    host = entry.substr(1, close - 1);
    if (host.find(':') == absl::string_view::npos ||
        !std::all_of(host.begin(), host.end(), IsIpv6Char)) {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted,
                       ": the host in brackets must be an IPv6 address, as in "
                       "[::1]:2379"));
    }
    if (close + 1 >= entry.size() || entry[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted, ": must be HOST:PORT, as in [::1]:2379"));
    }
    port = entry.substr(close + 2);
  } else {
    const size_t colon = entry.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted, ": must be HOST:PORT, as in 127.0.0.1:2379"));
    }
    host = entry.substr(0, colon);
    port = entry.substr(colon + 1);
    if (port.find(':') != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          quoted, ": an IPv6 host must be in brackets, as in [::1]:2379"));
    }
    if (host.empty() ||
        !std::all_of(host.begin(), host.end(), IsHostNameChar)) {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted,
                       ": the host must be a host name or an IPv4 address "
                       "([A-Za-z0-9._-]+)"));
    }
  }
  int number = 0;
  const auto [end, error] =
      std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || port.size() > 5 || error != std::errc() ||
      end != port.data() + port.size() || number < 1 || number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(quoted, ": the port must be a number from 1 to 65535"));
  }
  return EtcdEndpoint{.host = std::string(host), .port = number};
}

// What kept a request from an answer, in words an operator acts on.
std::string NoAnswer(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "connecting timed out";
    case httplib::Error::Read:
      return "no answer in time (or the connection closed)";
    case httplib::Error::Write:
      return "cannot send the request";
    default:
      return httplib::to_string(error);
  }
}

std::string Dump(const Json& json) {
  // Parsed JSON holds valid UTF-8 only; `replace` keeps dump() from
  // throwing all the same.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// etcd's error answer, if `answer` is one: grpc-gateway writes
// {"error": "...", "message": "...", "code": N} for a refused request and,
// within a stream (keepalive), {"error": {"grpc_code": N, "message": ...}}.
// N is a gRPC code, which absl::StatusCode numbers alike.
std::optional<absl::Status> EtcdError(const Json& answer,
                                      absl::string_view context) {
  if (!answer.is_object()) return std::nullopt;
  const auto error = answer.find("error");
  if (error == answer.end()) return std::nullopt;
  const Json& details = error->is_object() ? *error : answer;
  int code = static_cast<int>(absl::StatusCode::kUnknown);
  for (const char* name : {"code", "grpc_code"}) {
    const auto found = details.find(name);
    if (found != details.end() && found->is_number_integer()) {
      const int64_t value = found->get<int64_t>();
      if (value > 0 && value <= 16) code = static_cast<int>(value);
      break;
    }
  }
  std::string message;
  for (const Json* holder : {&details, &answer}) {
    const auto found = holder->find("message");
    if (found != holder->end() && found->is_string()) {
      message = found->get<std::string>();
      break;
    }
  }
  if (message.empty() && error->is_string())
    message = error->get<std::string>();
  if (message.empty()) message = Dump(answer);
  return absl::Status(static_cast<absl::StatusCode>(code),
                      absl::StrCat(context, message));
}

// One request to one endpoint. kUnavailable (whose message leaves the
// endpoint to the caller) when the next endpoint should be tried; any other
// error is the answer.
absl::StatusOr<Json> PostOnce(const EtcdEndpoint& endpoint,
                              absl::Duration timeout, absl::string_view path,
                              const std::string& body) {
  httplib::Client client(endpoint.host, endpoint.port);
  const auto limit = absl::ToChronoMicroseconds(timeout);
  client.set_connection_timeout(limit);
  client.set_read_timeout(limit);
  client.set_write_timeout(limit);
  client.set_keep_alive(false);
  client.set_follow_location(false);
  httplib::Request request;
  request.method = "POST";
  request.path = std::string(path);
  request.headers.emplace("Content-Type", "application/json");
  request.body = body;
  // The status and body are taken as they come, not from the Response:
  // etcd's gateway sends an error (and a keepalive's stream) chunked with a
  // trailer (Grpc-Trailer-Content-Type), which cpp-httplib 0.11 cannot
  // parse and reports as a failed read after the whole body has arrived.
  // Whether an answer came is then up to the body: a complete JSON object.
  int status = 0;
  request.response_handler = [&](const httplib::Response& response) {
    status = response.status;
    return true;
  };
  std::string text;
  bool too_long = false;
  request.content_receiver = [&](const char* data, size_t length, uint64_t,
                                 uint64_t) {
    text.append(data, length);
    too_long = text.size() > kMaxAnswerBytes;
    return !too_long;
  };
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  const bool complete = client.send(request, response, error);
  if (too_long) {
    return absl::UnavailableError(
        absl::StrCat("an answer longer than ", kMaxAnswerBytes, " bytes"));
  }
  if (status == 0) return absl::UnavailableError(NoAnswer(error));
  // A keepalive answers with a stream: one JSON object per line (one line
  // here, for the one request). Elsewhere the body is one object.
  Json answer = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() && text.find('\n') != std::string::npos) {
    answer = Json::parse(text.substr(0, text.find('\n')), nullptr,
                         /*allow_exceptions=*/false);
  }
  const std::string context =
      absl::StrCat("etcd ", endpoint.ToString(), " ", path, ": ");
  if (!answer.is_discarded()) {
    if (std::optional<absl::Status> refused = EtcdError(answer, "")) {
      // etcd's own "unavailable" (no leader, a raft timeout): another
      // member may do better.
      if (absl::IsUnavailable(*refused)) return *refused;
      return absl::Status(refused->code(),
                          absl::StrCat(context, refused->message()));
    }
  }
  if (!complete && answer.is_discarded()) {
    return absl::UnavailableError(absl::StrCat(
        "HTTP ", status, ", then ", NoAnswer(error), " within the answer"));
  }
  if (status < 200 || status >= 300) {
    return absl::UnavailableError(
        absl::StrCat("HTTP ", status, " ", QuoteForMessage(text, 120)));
  }
  if (!answer.is_object()) {
    return absl::InternalError(absl::StrCat(
        context,
        "the answer is not a JSON object: ", QuoteForMessage(text, 200)));
  }
  return answer;
}

// POSTs `request` to `path` on the endpoints in turn, from the one that
// answered last, until one answers; see EtcdClient.
absl::StatusOr<Json> Call(const std::vector<EtcdEndpoint>& endpoints,
                          absl::Duration timeout,
                          std::atomic<size_t>& preferred,
                          absl::string_view path, const Json& request) {
  if (endpoints.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd ", path, ": the client has no endpoints"));
  }
  const std::string body = Dump(request);
  const size_t start = preferred.load(std::memory_order_relaxed);
  std::vector<std::string> failures;
  for (size_t k = 0; k < endpoints.size(); ++k) {
    const size_t i = (start + k) % endpoints.size();
    absl::StatusOr<Json> answer = PostOnce(endpoints[i], timeout, path, body);
    if (absl::IsUnavailable(answer.status())) {
      failures.push_back(absl::StrCat(endpoints[i].ToString(), ": ",
                                      answer.status().message()));
      continue;
    }
    preferred.store(i, std::memory_order_relaxed);
    return answer;
  }
  return absl::UnavailableError(absl::StrCat(
      "no etcd endpoint answered ", path, ": ", absl::StrJoin(failures, "; ")));
}

// Reads the members of an answer the way proto3's JSON writes them: a field
// at its default value (0, "", false, an empty list) is left out, 64-bit
// integers are strings, bytes are base64. Remembers the first member that
// is not what it should be; status() reports it with the whole answer.
class Reader {
 public:
  Reader(absl::string_view path, const Json& answer)
      : path_(path), answer_(answer) {}

  // The member `name` of `object`, or nullptr when absent (or when `object`
  // is not an object: recorded).
  const Json* Find(const Json& object, const char* name) {
    if (!object.is_object()) {
      Fail(absl::StrCat("an object holding \"", name, "\" is not one"));
      return nullptr;
    }
    const auto found = object.find(name);
    return found == object.end() ? nullptr : &*found;
  }

  // The member `name`, which must be an object; an empty one when absent.
  const Json& Object(const Json& object, const char* name) {
    const Json* member = Find(object, name);
    if (member == nullptr) return EmptyObject();
    if (!member->is_object()) {
      Fail(absl::StrCat("\"", name, "\" is not an object"));
      return EmptyObject();
    }
    return *member;
  }

  // Element `index` of the list `name`; nullptr when the list is absent or
  // shorter.
  const Json* Element(const Json& object, const char* name, size_t index) {
    const Json* member = Find(object, name);
    if (member == nullptr) return nullptr;
    if (!member->is_array()) {
      Fail(absl::StrCat("\"", name, "\" is not a list"));
      return nullptr;
    }
    return index < member->size() ? &(*member)[index] : nullptr;
  }

  int64_t Int(const Json& object, const char* name) {
    const Json* member = Find(object, name);
    if (member == nullptr) return 0;
    int64_t value = 0;
    if (member->is_string() &&
        absl::SimpleAtoi(member->get_ref<const std::string&>(), &value)) {
      return value;
    }
    if (member->is_number_integer() &&
        (!member->is_number_unsigned() ||
         member->get<uint64_t>() <=
             static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      return member->get<int64_t>();
    }
    Fail(absl::StrCat("\"", name, "\" is not a 64-bit integer"));
    return 0;
  }

  std::string Bytes(const Json& object, const char* name) {
    const Json* member = Find(object, name);
    if (member == nullptr) return "";
    std::string bytes;
    if (!member->is_string() ||
        !absl::Base64Unescape(member->get_ref<const std::string&>(), &bytes)) {
      Fail(absl::StrCat("\"", name, "\" is not base64"));
      return "";
    }
    return bytes;
  }

  bool Bool(const Json& object, const char* name) {
    const Json* member = Find(object, name);
    if (member == nullptr) return false;
    if (!member->is_boolean()) {
      Fail(absl::StrCat("\"", name, "\" is not true or false"));
      return false;
    }
    return member->get<bool>();
  }

  KeyValue ReadKeyValue(const Json& kv) {
    return KeyValue{.key = Bytes(kv, "key"),
                    .value = Bytes(kv, "value"),
                    .create_revision = Int(kv, "create_revision"),
                    .mod_revision = Int(kv, "mod_revision"),
                    .lease = Int(kv, "lease")};
  }

  // Records a problem that the member checks cannot see.
  void Fail(absl::string_view problem) {
    if (problem_.empty()) problem_ = std::string(problem);
  }

  absl::Status status() const {
    if (problem_.empty()) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("etcd ", path_, ": not an answer etcd's gateway gives (",
                     problem_, "): ", QuoteForMessage(Dump(answer_), 300)));
  }

 private:
  static const Json& EmptyObject() {
    static const auto* const empty = new Json(Json::object());
    return *empty;
  }

  const absl::string_view path_;
  const Json& answer_;
  std::string problem_;
};

std::string Base64(absl::string_view bytes) {
  return absl::Base64Escape(bytes);
}

}  // namespace

std::string EtcdEndpoint::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return absl::StrCat(v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

absl::StatusOr<std::vector<EtcdEndpoint>> ParseEtcdEndpoints(
    absl::string_view list, absl::string_view flag) {
  if (list.empty()) {
    return Malformed(flag, list,
                     "must not be empty; expected HOST:PORT[,HOST:PORT...]");
  }
  if (list.find("://") != absl::string_view::npos) {
    return Malformed(flag, list,
                     "endpoints are HOST:PORT, without a scheme (no http://)");
  }
  std::vector<EtcdEndpoint> endpoints;
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    if (entry.empty()) {
      return Malformed(flag, list,
                       "an empty endpoint (two commas, or one at an end); "
                       "expected HOST:PORT[,HOST:PORT...]");
    }
    absl::StatusOr<EtcdEndpoint> endpoint = ParseEndpoint(entry);
    if (!endpoint.ok()) {
      return Malformed(flag, list, endpoint.status().message());
    }
    if (std::find(endpoints.begin(), endpoints.end(), *endpoint) !=
        endpoints.end()) {
      return Malformed(flag, list,
                       absl::StrCat(endpoint->ToString(), " is listed twice"));
    }
    endpoints.push_back(*std::move(endpoint));
  }
  return endpoints;
}

EtcdClient::EtcdClient(std::vector<EtcdEndpoint> endpoints,
                       absl::Duration timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {}

absl::StatusOr<int64_t> EtcdClient::GrantLease(absl::Duration ttl) {
  const int64_t seconds = std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1))));
  constexpr char kPath[] = "/v3/lease/grant";
  absl::StatusOr<Json> answer = Call(endpoints_, timeout_, preferred_, kPath,
                                     {{"TTL", absl::StrCat(seconds)}});
  if (!answer.ok()) return answer.status();
  Reader reader(kPath, *answer);
  const int64_t id = reader.Int(*answer, "ID");
  if (id == 0) reader.Fail("no lease ID");
  if (absl::Status status = reader.status(); !status.ok()) return status;
  return id;
}

absl::StatusOr<absl::Duration> EtcdClient::KeepAlive(int64_t lease) {
  absl::StatusOr<Json> answer = Call(endpoints_, timeout_, preferred_,
                                     kKeepAlive, {{"ID", absl::StrCat(lease)}});
  if (!answer.ok()) return answer.status();
  Reader reader(kKeepAlive, *answer);
  const Json* result = reader.Find(*answer, "result");
  if (result == nullptr) reader.Fail("no \"result\"");
  const int64_t ttl = result == nullptr ? 0 : reader.Int(*result, "TTL");
  if (absl::Status status = reader.status(); !status.ok()) return status;
  // etcd answers an expired, revoked or unknown lease with TTL 0 (which
  // proto3's JSON leaves out) rather than with an error.
  if (ttl <= 0) {
    return absl::NotFoundError(absl::StrCat(
        "etcd ", kKeepAlive, ": lease ", lease,
        " has expired or does not exist (etcd answered without a TTL)"));
  }
  return absl::Seconds(ttl);
}

absl::Status EtcdClient::RevokeLease(int64_t lease) {
  absl::StatusOr<Json> answer =
      Call(endpoints_, timeout_, preferred_, "/v3/lease/revoke",
           {{"ID", absl::StrCat(lease)}});
  // etcd refuses to revoke a lease it does not know ("requested lease not
  // found"): gone is what the caller wanted.
  if (absl::IsNotFound(answer.status())) return absl::OkStatus();
  return answer.status();
}

absl::StatusOr<EtcdClient::Campaign> EtcdClient::CreateIfAbsent(
    const std::string& key, const std::string& value, int64_t lease) {
  constexpr char kPath[] = "/v3/kv/txn";
  Json put = {{"key", Base64(key)}, {"value", Base64(value)}};
  if (lease != 0) put["lease"] = absl::StrCat(lease);
  // A key that does not exist has create_revision 0.
  const Json request = {
      {"compare", Json::array({{{"key", Base64(key)},
                                {"target", "CREATE"},
                                {"create_revision", "0"}}})},
      {"success", Json::array({{{"request_put", put}}})},
      {"failure", Json::array({{{"request_range", {{"key", Base64(key)}}}}})}};
  absl::StatusOr<Json> answer =
      Call(endpoints_, timeout_, preferred_, kPath, request);
  if (!answer.ok()) return answer.status();
  Reader reader(kPath, *answer);
  Campaign campaign;
  campaign.revision = reader.Int(reader.Object(*answer, "header"), "revision");
  if (reader.Bool(*answer, "succeeded")) {
    campaign.won = true;
    campaign.holder = KeyValue{.key = key,
                               .value = value,
                               .create_revision = campaign.revision,
                               .mod_revision = campaign.revision,
                               .lease = lease};
  } else {
    const Json* response = reader.Element(*answer, "responses", 0);
    const Json* kv =
        response == nullptr
            ? nullptr
            : reader.Element(reader.Object(*response, "response_range"), "kvs",
                             0);
    // The comparison failed, so the key existed when the range read it.
    if (kv == nullptr) {
      reader.Fail("the transaction failed yet read no key");
    } else {
      campaign.holder = reader.ReadKeyValue(*kv);
      // Created under our lease: by a call of ours whose answer was lost.
      campaign.won = lease != 0 && campaign.holder.lease == lease;
    }
  }
  if (campaign.revision <= 0) reader.Fail("no revision");
  if (absl::Status status = reader.status(); !status.ok()) return status;
  return campaign;
}

absl::StatusOr<std::optional<KeyValue>> EtcdClient::Get(
    const std::string& key) {
  constexpr char kPath[] = "/v3/kv/range";
  absl::StatusOr<Json> answer =
      Call(endpoints_, timeout_, preferred_, kPath, {{"key", Base64(key)}});
  if (!answer.ok()) return answer.status();
  Reader reader(kPath, *answer);
  const Json* kv = reader.Element(*answer, "kvs", 0);
  std::optional<KeyValue> found;
  if (kv != nullptr) found = reader.ReadKeyValue(*kv);
  if (absl::Status status = reader.status(); !status.ok()) return status;
  return found;
}

absl::Status EtcdClient::Put(const std::string& key, const std::string& value) {
  constexpr char kPath[] = "/v3/kv/put";
  absl::StatusOr<Json> answer =
      Call(endpoints_, timeout_, preferred_, kPath,
           {{"key", Base64(key)}, {"value", Base64(value)}});
  return answer.status();
}

absl::StatusOr<bool> EtcdClient::DeleteIf(const std::string& key,
                                          int64_t create_revision) {
  constexpr char kPath[] = "/v3/kv/txn";
  const Json request = {
      {"compare",
       Json::array({{{"key", Base64(key)},
                     {"target", "CREATE"},
                     {"create_revision", absl::StrCat(create_revision)}}})},
      {"success",
       Json::array({{{"request_delete_range", {{"key", Base64(key)}}}}})}};
  absl::StatusOr<Json> answer =
      Call(endpoints_, timeout_, preferred_, kPath, request);
  if (!answer.ok()) return answer.status();
  Reader reader(kPath, *answer);
  bool deleted = false;
  if (reader.Bool(*answer, "succeeded")) {
    const Json* response = reader.Element(*answer, "responses", 0);
    if (response == nullptr) {
      reader.Fail("the transaction succeeded yet answered nothing");
    } else {
      // Counted, not assumed: create_revision 0 compares equal for an
      // absent key, and deleting it deletes nothing.
      deleted = reader.Int(reader.Object(*response, "response_delete_range"),
                           "deleted") > 0;
    }
  }
  if (absl::Status status = reader.status(); !status.ok()) return status;
  return deleted;
}

}  // namespace plantrail::election
