// One webhook request: POST a body to an endpoint URL with cpp-httplib
// (Debian's, with OpenSSL), safely: the host is resolved once and every
// address checked against the address policy before connecting (the
// connection goes to the address checked: no second lookup that could
// answer otherwise), redirects are not followed, connect and read time
// out, and at most `max_response_bytes` of the response are read.
//
// Thread-safe: each call uses its own connection.
#ifndef PLANTRAIL_WEBHOOK_DELIVERY_HTTP_POST_H_
#define PLANTRAIL_WEBHOOK_DELIVERY_HTTP_POST_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "webhooks/endpoint_url.h"

namespace plantrail::webhook_delivery {

struct PostOptions {
  webhooks::AddressPolicy addresses;
  absl::Duration connect_timeout = absl::Seconds(5);
  // For each read and write on the connection.
  absl::Duration io_timeout = absl::Seconds(10);
  size_t max_response_bytes = 4096;
  // PEM bundle of the certificate authorities HTTPS endpoints are checked
  // against; empty: the system's.
  std::string ca_file;
};

struct PostOutcome {
  // The HTTP status; 0 when no response came (the error says why).
  int status = 0;
  // What kept the request from a 2xx, for the endpoint's last error; empty
  // on a 2xx.
  std::string error;
  // The response's Retry-After header, when it had one.
  std::optional<std::string> retry_after;

  bool delivered() const { return status >= 200 && status < 300; }
};

PostOutcome Post(
    const webhooks::EndpointUrl& url,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body, const PostOptions& options);

}  // namespace plantrail::webhook_delivery

#endif  // PLANTRAIL_WEBHOOK_DELIVERY_HTTP_POST_H_
