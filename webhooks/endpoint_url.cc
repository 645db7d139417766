#include "webhooks/endpoint_url.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace plantrail::webhooks {
namespace {

constexpr size_t kMaxUrlBytes = 2000;

absl::Status UrlError(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", what, " [rule: webhook-url]"));
}

absl::Status SchemeError(absl::string_view field, absl::string_view shown) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", absl::CHexEscape(shown),
                   "\" must be https:// (or http:// to loopback when allowed) "
                   "[rule: webhook-https]"));
}

// A DNS name as the resolver takes it (underscores included: some
// internal names have them). Anything else, '%' or '\' say, is refused
// rather than left to a resolver or an HTTP client to read its own way.
bool IsHostName(absl::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

// 1 to 65535 in decimal; at most five digits, so no overflow.
std::optional<int> ParsePort(absl::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

bool ParseIpv4(absl::string_view text, uint32_t* address) {
  // The longest is "255.255.255.255"; the bound keeps the copy small.
  if (text.size() > 15) return false;
  const std::string terminated(text);
  in_addr parsed;
  if (inet_pton(AF_INET, terminated.c_str(), &parsed) != 1) return false;
  *address = ntohl(parsed.s_addr);
  return true;
}

bool ParseIpv6(absl::string_view text, std::array<uint8_t, 16>* address) {
  // The longest is 45 characters (eight groups or an IPv4 tail).
  if (text.size() > 45) return false;
  const std::string terminated(text);
  in6_addr parsed;
  if (inet_pton(AF_INET6, terminated.c_str(), &parsed) != 1) return false;
  for (int i = 0; i < 16; ++i) (*address)[i] = parsed.s6_addr[i];
  return true;
}

struct Ipv4Range {
  uint32_t network;
  int prefix_bits;
  AddressClass address_class;
};

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// Disjoint, so the order does not matter; what none holds is public.
constexpr Ipv4Range kIpv4Ranges[] = {
    {V4(0, 0, 0, 0), 8, AddressClass::kReserved},
    {V4(10, 0, 0, 0), 8, AddressClass::kPrivate},
    {V4(100, 64, 0, 0), 10, AddressClass::kPrivate},
    {V4(127, 0, 0, 0), 8, AddressClass::kLoopback},
    {V4(169, 254, 0, 0), 16, AddressClass::kLinkLocal},
    {V4(172, 16, 0, 0), 12, AddressClass::kPrivate},
    {V4(192, 0, 2, 0), 24, AddressClass::kReserved},
    {V4(192, 168, 0, 0), 16, AddressClass::kPrivate},
    {V4(198, 18, 0, 0), 15, AddressClass::kReserved},
    {V4(198, 51, 100, 0), 24, AddressClass::kReserved},
    {V4(203, 0, 113, 0), 24, AddressClass::kReserved},
    {V4(224, 0, 0, 0), 4, AddressClass::kReserved},
    // With 255.255.255.255, the limited broadcast.
    {V4(240, 0, 0, 0), 4, AddressClass::kReserved},
};

AddressClass ClassifyIpv4(uint32_t address) {
  for (const Ipv4Range& range : kIpv4Ranges) {
    const int shift = 32 - range.prefix_bits;
    if ((address >> shift) == (range.network >> shift)) {
      return range.address_class;
    }
  }
  return AddressClass::kPublic;
}

AddressClass ClassifyIpv6(const std::array<uint8_t, 16>& a) {
  auto zero = [&a](int from, int to) {
    for (int i = from; i < to; ++i) {
      if (a[i] != 0) return false;
    }
    return true;
  };
  const uint32_t last_v4 = V4(a[12], a[13], a[14], a[15]);
  if (zero(0, 12)) {
    // ::1; "::" and the deprecated IPv4-compatible ::a.b.c.d, which
    // nothing should be reached by.
    return last_v4 == 1 ? AddressClass::kLoopback : AddressClass::kReserved;
  }
  // ::ffff:a.b.c.d: a dual-stack socket connects to a.b.c.d.
  if (zero(0, 10) && a[10] == 0xff && a[11] == 0xff) {
    return ClassifyIpv4(last_v4);
  }
  // 64:ff9b::a.b.c.d: a NAT64 gateway forwards to a.b.c.d.
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b &&
      zero(4, 12)) {
    return ClassifyIpv4(last_v4);
  }
  if ((a[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;  // fc00::/7
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
    return AddressClass::kLinkLocal;  // fe80::/10
  }
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) {
    return AddressClass::kPrivate;  // fec0::/10, site-local
  }
  if (a[0] == 0xff) return AddressClass::kReserved;  // ff00::/8
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) {
    return AddressClass::kReserved;  // 2001:db8::/32
  }
  return AddressClass::kPublic;
}

// "host" or "[v6]", for messages.
std::string ShownHost(absl::string_view host) {
  if (host.find(':') != absl::string_view::npos) {
    return absl::StrCat("[", host, "]");
  }
  return std::string(host);
}

bool IsLoopbackHost(absl::string_view host) {
  return host == "localhost" ||
         ClassifyAddress(host) == std::optional(AddressClass::kLoopback);
}

struct AddrinfoDeleter {
  void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

// The numeric text of a resolver answer; nullopt for a family other than
// IPv4 and IPv6.
std::optional<std::string> NumericText(const addrinfo& info) {
  char text[INET6_ADDRSTRLEN];
  const void* address = nullptr;
  if (info.ai_family == AF_INET) {
    address = &reinterpret_cast<const sockaddr_in*>(info.ai_addr)->sin_addr;
  } else if (info.ai_family == AF_INET6) {
    address = &reinterpret_cast<const sockaddr_in6*>(info.ai_addr)->sin6_addr;
  } else {
    return std::nullopt;
  }
  if (inet_ntop(info.ai_family, address, text, sizeof(text)) == nullptr) {
    return std::nullopt;
  }
  return std::string(text);
}

}  // namespace

absl::StatusOr<EndpointUrl> ParseEndpointUrl(absl::string_view field,
                                             absl::string_view url) {
  // The length first, so that no message quotes a huge URL.
  if (url.size() > kMaxUrlBytes) {
    return UrlError(field, absl::StrCat("the URL is ", url.size(),
                                        " bytes, at most ", kMaxUrlBytes));
  }
  // A CR or LF in the target would end the request line early (request
  // splitting); a space or raw non-ASCII byte is read differently by
  // different parsers.
  for (size_t i = 0; i < url.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c >= 0x7f) {
      return UrlError(
          field, absl::StrCat("byte ", i, " of the URL is 0x",
                              absl::Hex(c, absl::kZeroPad2),
                              ": a URL is printable ASCII, without whitespace "
                              "or control characters (percent-encode others)"));
    }
  }

  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return SchemeError(field, url);
  EndpointUrl parsed;
  parsed.scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (parsed.scheme == "https") {
    parsed.port = 443;
  } else if (parsed.scheme == "http") {
    parsed.port = 80;
  } else {
    return SchemeError(field, url);
  }

  absl::string_view rest = url.substr(scheme_end + 3);
  if (rest.find('#') != absl::string_view::npos) {
    return UrlError(field,
                    "a URL has no fragment (\"#...\"): it is never sent");
  }
  const size_t authority_end = rest.find_first_of("/?");
  const absl::string_view authority = rest.substr(0, authority_end);
  const absl::string_view target = authority_end == absl::string_view::npos
                                       ? absl::string_view()
                                       : rest.substr(authority_end);
  // Not quoted: what precedes '@' may be a password.
  if (authority.find('@') != absl::string_view::npos) {
    return UrlError(field,
                    "a URL has no user name or password (\"user:pass@\") "
                    "before its host");
  }

  absl::string_view host;
  std::optional<absl::string_view> port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    std::array<uint8_t, 16> ignored;
    if (close == absl::string_view::npos ||
        !ParseIpv6(authority.substr(1, close - 1), &ignored)) {
      return UrlError(field, absl::StrCat("host \"", authority,
                                          "\" is not an IPv6 address in "
                                          "brackets (zone ids are refused)"));
    }
    host = authority.substr(1, close - 1);
    const absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return UrlError(
            field, absl::StrCat("\"", after, "\" follows the host ", authority,
                                ": a port is \":<number>\""));
      }
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != absl::string_view::npos) {
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) {
      return UrlError(field, absl::StrCat("\"", url, "\" has no host"));
    }
    if (!IsHostName(host)) {
      return UrlError(field,
                      absl::StrCat("host \"", host,
                                   "\" is neither a DNS name (letters, digits, "
                                   "'-', '_', '.'), an IPv4 address nor an "
                                   "IPv6 address in brackets"));
    }
  }
  parsed.host = absl::AsciiStrToLower(host);

  if (port_text.has_value()) {
    const std::optional<int> port = ParsePort(*port_text);
    if (!port.has_value()) {
      return UrlError(field, absl::StrCat("port \"", *port_text,
                                          "\" is not a number 1 to 65535"));
    }
    parsed.port = *port;
  }

  parsed.target = target.empty()          ? "/"
                  : target.front() == '?' ? absl::StrCat("/", target)
                                          : std::string(target);
  return parsed;
}

std::optional<AddressClass> ClassifyAddress(absl::string_view address) {
  uint32_t v4 = 0;
  if (ParseIpv4(address, &v4)) return ClassifyIpv4(v4);
  std::array<uint8_t, 16> v6;
  if (ParseIpv6(address, &v6)) return ClassifyIpv6(v6);
  return std::nullopt;
}

absl::string_view AddressClassName(AddressClass address_class) {
  switch (address_class) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

absl::Status CheckScheme(absl::string_view field, const EndpointUrl& url,
                         const AddressPolicy& policy) {
  if (url.scheme == "https") return absl::OkStatus();
  if (url.scheme == "http" && policy.allow_loopback &&
      IsLoopbackHost(url.host)) {
    return absl::OkStatus();
  }
  return SchemeError(field,
                     absl::StrCat(url.scheme, "://", ShownHost(url.host)));
}

absl::Status CheckAddress(absl::string_view field, const EndpointUrl& url,
                          absl::string_view address,
                          const AddressPolicy& policy) {
  const std::optional<AddressClass> address_class = ClassifyAddress(address);
  if (!address_class.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", absl::CHexEscape(address), "\" (for host \"", url.host,
        "\") is not a numeric IP address"));
  }
  absl::string_view unless;
  switch (*address_class) {
    case AddressClass::kPublic:
      return absl::OkStatus();
    case AddressClass::kLoopback:
      if (policy.allow_loopback) return absl::OkStatus();
      unless = "refused unless the server allows loopback addresses";
      break;
    case AddressClass::kPrivate:
    case AddressClass::kLinkLocal:
      if (policy.allow_private) return absl::OkStatus();
      unless = "refused unless the server allows private addresses";
      break;
    case AddressClass::kReserved:
      unless = "always refused";
      break;
  }
  const absl::string_view class_name = AddressClassName(*address_class);
  const std::string what =
      url.host == address
          ? absl::StrCat("is a ", class_name, " address")
          : absl::StrCat("resolves to ", address, " (", class_name, ")");
  return absl::PermissionDeniedError(absl::StrCat(field, ": host \"", url.host,
                                                  "\" ", what, ", ", unless,
                                                  " [rule: webhook-address]"));
}

absl::StatusOr<std::string> ResolvePermitted(absl::string_view field,
                                             const EndpointUrl& url,
                                             const AddressPolicy& policy) {
  if (absl::Status scheme = CheckScheme(field, url, policy); !scheme.ok()) {
    return scheme;
  }
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // A numeric host is its own answer: no lookup, no DNS to ask.
  if (ClassifyAddress(url.host).has_value()) hints.ai_flags = AI_NUMERICHOST;
  addrinfo* answers = nullptr;
  const int error = getaddrinfo(url.host.c_str(), nullptr, &hints, &answers);
  const std::unique_ptr<addrinfo, AddrinfoDeleter> owned(answers);
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat(field, ": host \"", url.host,
                                               "\" does not resolve (",
                                               gai_strerror(error), ")"));
  }

  std::vector<std::string> addresses;
  for (const addrinfo* answer = answers; answer != nullptr;
       answer = answer->ai_next) {
    if (std::optional<std::string> text = NumericText(*answer)) {
      addresses.push_back(*std::move(text));
    }
  }
  if (addresses.empty()) {
    return absl::UnavailableError(absl::StrCat(field, ": host \"", url.host,
                                               "\" resolves to no IP address"));
  }
  for (const std::string& address : addresses) {
    if (absl::Status allowed = CheckAddress(field, url, address, policy);
        !allowed.ok()) {
      return allowed;
    }
    if (url.scheme == "http" &&
        ClassifyAddress(address) != std::optional(AddressClass::kLoopback)) {
      return absl::PermissionDeniedError(absl::StrCat(
          field, ": host \"", url.host, "\" resolves to ", address,
          ", not loopback: http:// is only for loopback, others need "
          "https:// [rule: webhook-https]"));
    }
  }
  return addresses.front();
}

}  // namespace plantrail::webhooks
