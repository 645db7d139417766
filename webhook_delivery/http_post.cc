#include "webhook_delivery/http_post.h"

#include <httplib.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace plantrail::webhook_delivery {
namespace {

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
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "the endpoint's certificate does not verify";
    case httplib::Error::Canceled:
      return "the response was cut off";
    default:
      return httplib::to_string(error);
  }
}

std::string HostPort(const webhooks::EndpointUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return absl::StrCat(url.scheme, "://", v6 ? "[" : "", url.host, v6 ? "]" : "",
                      ":", url.port);
}

}  // namespace

PostOutcome Post(
    const webhooks::EndpointUrl& url,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body, const PostOptions& options) {
  PostOutcome outcome;
  absl::StatusOr<std::string> address =
      webhooks::ResolvePermitted("url", url, options.addresses);
  if (!address.ok()) {
    outcome.error = std::string(address.status().message());
    return outcome;
  }
  httplib::Client client(HostPort(url));
  // Connect to the address checked, whatever a second lookup would say.
  client.set_hostname_addr_map({{url.host, *address}});
  client.set_follow_location(false);
  client.set_keep_alive(false);
  const int64_t connect_us = absl::ToInt64Microseconds(options.connect_timeout);
  const int64_t io_us = absl::ToInt64Microseconds(options.io_timeout);
  client.set_connection_timeout(connect_us / 1000000, connect_us % 1000000);
  client.set_read_timeout(io_us / 1000000, io_us % 1000000);
  client.set_write_timeout(io_us / 1000000, io_us % 1000000);
  if (url.scheme == "https") {
    client.enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) client.set_ca_cert_path(options.ca_file);
  }

  httplib::Request request;
  request.method = "POST";
  request.path = url.target;
  for (const auto& [name, value] : headers)
    request.headers.emplace(name, value);
  request.headers.emplace("Content-Type", "application/cloudevents+json");
  request.body = body;
  int status = 0;
  std::optional<std::string> retry_after;
  request.response_handler = [&](const httplib::Response& response) {
    status = response.status;
    if (response.has_header("Retry-After")) {
      retry_after = response.get_header_value("Retry-After");
    }
    return true;
  };
  size_t read = 0;
  const size_t limit = options.max_response_bytes;
  // Reads the body only up to the limit, then stops the read: a receiver
  // cannot make the server hold more than that.
  request.content_receiver = [&](const char*, size_t length, uint64_t,
                                 uint64_t) {
    read += length;
    return read <= limit;
  };
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  const bool sent = client.send(request, response, error);
  outcome.status = status != 0 ? status : (sent ? response.status : 0);
  outcome.retry_after = std::move(retry_after);
  if (outcome.status == 0) {
    outcome.error = absl::StrCat(
        NoAnswer(error), " (", url.host, url.host == *address ? "" : " at ",
        url.host == *address ? "" : *address, ":", url.port, ")");
  } else if (outcome.status >= 300 && outcome.status < 400) {
    outcome.error =
        absl::StrCat("HTTP ", outcome.status, ": redirects are not followed");
    if (response.has_header("Location")) {
      absl::StrAppend(&outcome.error, " (to ",
                      response.get_header_value("Location"), ")");
    }
  } else if (!outcome.delivered()) {
    outcome.error = absl::StrCat("HTTP ", outcome.status);
  }
  return outcome;
}

}  // namespace plantrail::webhook_delivery
