// The rules for a webhook endpoint's URL and for the address a delivery may
// reach. A webhook makes the server send requests to a URL a client chose,
// so without these a client could make it reach what only the server can:
// its own loopback services, the private network, a cloud's metadata
// service at 169.254.169.254 (server-side request forgery).
//
// The order of use: ParseEndpointUrl when an endpoint is registered (and
// CheckScheme with the server's policy); ResolvePermitted before each
// delivery, connecting to the address it returns and to no other.
//
// Pure functions but for ResolvePermitted (the resolver); thread-safe.
#ifndef PLANTRAIL_WEBHOOKS_ENDPOINT_URL_H_
#define PLANTRAIL_WEBHOOKS_ENDPOINT_URL_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace plantrail::webhooks {

// An absolute http(s) URL taken apart.
struct EndpointUrl {
  std::string scheme;  // "https" or "http", lower case
  std::string host;    // as written, lower case, no brackets for IPv6
  int port = 0;        // explicit or the scheme's default (443, 80)
  std::string target;  // path and query, "/" when empty; no fragment
};

// The URL of a webhook endpoint. INVALID_ARGUMENT naming `field` and the
// rule, e.g. `url: "ftp://x" must be https:// (or http:// to loopback when
// allowed) [rule: webhook-https]`. The rules:
//   - at most 2,000 bytes, printable ASCII only: no whitespace, no control
//     characters, no raw non-ASCII bytes (percent-encode them)
//     [rule: webhook-url];
//   - the scheme http or https, in any case [rule: webhook-https]; whether
//     http may be used is CheckScheme's;
//   - a host: a DNS name of letters, digits, '-', '_' and '.', an IPv4
//     address, or an IPv6 address in brackets (no zone id);
//   - no userinfo ("user:pass@"): credentials do not belong in a URL that
//     is shown and logged, and "https://good@evil/" misleads a reader;
//   - a port, when written, 1 to 65535;
//   - no fragment: it is never sent, so it can only mislead.
// All but the scheme's are [rule: webhook-url].
absl::StatusOr<EndpointUrl> ParseEndpointUrl(absl::string_view field,
                                             absl::string_view url);

enum class AddressClass { kPublic, kLoopback, kPrivate, kLinkLocal, kReserved };

// The class of a numeric IPv4 ("a.b.c.d", four decimal parts) or IPv6
// address text; nullopt for anything else (a DNS name, "127.1", "0x7f.1":
// the resolver's answers are classed, not the host as written).
//   loopback    127.0.0.0/8, ::1
//   private     10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10
//               (carrier-grade NAT), fc00::/7 (unique local), fec0::/10
//               (the deprecated site-local)
//   link-local  169.254.0.0/16 (where clouds serve instance metadata),
//               fe80::/10
//   reserved    0.0.0.0/8, 224.0.0.0/4 (multicast), 240.0.0.0/4 (with
//               255.255.255.255), 192.0.2.0/24, 198.51.100.0/24,
//               203.0.113.0/24 (documentation), 198.18.0.0/15
//               (benchmarking); ::, the rest of ::/96 (the deprecated
//               IPv4-compatible addresses), ff00::/8 (multicast),
//               2001:db8::/32 (documentation)
//   public      everything else
// IPv6 that carries an IPv4 address is classed by it: IPv4-mapped
// (::ffff:a.b.c.d, which a dual-stack socket connects to over IPv4) and
// NAT64 (64:ff9b::/96, which a NAT64 gateway forwards to the IPv4 address).
std::optional<AddressClass> ClassifyAddress(absl::string_view address);

// "public", "loopback", "private", "link-local", "reserved".
absl::string_view AddressClassName(AddressClass address_class);

// What a server lets webhooks reach beyond the public internet. The
// defaults refuse everything else.
struct AddressPolicy {
  // Loopback addresses (tests, a relay on the same machine); also allows
  // http:// to them, where TLS protects nothing.
  bool allow_loopback = false;
  // Private and link-local networks (a server inside a company network
  // delivering to its neighbours).
  bool allow_private = false;
};

// The scheme rule: https, or http when the host is a loopback address or
// "localhost" and `policy.allow_loopback`. INVALID_ARGUMENT naming `field`
// and the host otherwise [rule: webhook-https].
absl::Status CheckScheme(absl::string_view field, const EndpointUrl& url,
                         const AddressPolicy& policy);

// Whether `address` (numeric, an answer for `url.host`) may be reached.
// PERMISSION_DENIED naming `field`, the host, the address and its class
// otherwise, e.g. `url: host "metadata.internal" resolves to
// 169.254.169.254 (link-local), refused unless the server allows private
// addresses [rule: webhook-address]`. Reserved addresses are always
// refused. INVALID_ARGUMENT when `address` is not numeric.
absl::Status CheckAddress(absl::string_view field, const EndpointUrl& url,
                          absl::string_view address,
                          const AddressPolicy& policy);

// The address to deliver to: CheckScheme, then the host resolved
// (getaddrinfo, any family, SOCK_STREAM; a numeric host is not looked up)
// and EVERY address it resolves to checked by CheckAddress: one refused
// address refuses all, as DNS answers rotate and the next lookup may give
// the refused one first. With http, every address must be loopback (so
// "localhost" that resolves elsewhere is not reached without TLS).
//
// Returns the first address as numeric text; the caller connects to it
// (with `url.host` in the Host header and for TLS) rather than to the host
// name, so no second lookup can answer otherwise (DNS rebinding).
// UNAVAILABLE naming the host when it does not resolve.
absl::StatusOr<std::string> ResolvePermitted(absl::string_view field,
                                             const EndpointUrl& url,
                                             const AddressPolicy& policy);

}  // namespace plantrail::webhooks

#endif  // PLANTRAIL_WEBHOOKS_ENDPOINT_URL_H_
