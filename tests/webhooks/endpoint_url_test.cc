// Webhook URLs and the addresses a delivery may reach: what is parsed, how
// every range is classed (with the edges of the ranges), and what each
// policy lets through. The resolver is asked only about numeric hosts and
// "localhost", which /etc/hosts answers: no external DNS.
#include "webhooks/endpoint_url.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::webhooks {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

EndpointUrl Parsed(absl::string_view url) {
  absl::StatusOr<EndpointUrl> parsed = ParseEndpointUrl("url", url);
  EXPECT_TRUE(parsed.ok()) << url << ": " << parsed.status();
  return parsed.ok() ? *parsed : EndpointUrl();
}

absl::Status Refusal(absl::string_view url) {
  return ParseEndpointUrl("url", url).status();
}

TEST(ParseEndpointUrlTest, TakesAnHttpsUrlApart) {
  const EndpointUrl url = Parsed("https://Hooks.Example.COM/plantrail/in");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "hooks.example.com");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.target, "/plantrail/in");
}

TEST(ParseEndpointUrlTest, DefaultsThePortAndTheTarget) {
  EXPECT_EQ(Parsed("https://example.com").port, 443);
  EXPECT_EQ(Parsed("https://example.com").target, "/");
  EXPECT_EQ(Parsed("http://localhost").port, 80);
  EXPECT_EQ(Parsed("HTTP://localhost/").scheme, "http");
  EXPECT_EQ(Parsed("https://example.com:8443/x").port, 8443);
  EXPECT_EQ(Parsed("https://example.com:1/").port, 1);
  EXPECT_EQ(Parsed("https://example.com:65535/").port, 65535);
}

TEST(ParseEndpointUrlTest, KeepsTheQuery) {
  EXPECT_EQ(Parsed("https://example.com/in?token=abc&x=1").target,
            "/in?token=abc&x=1");
  EXPECT_EQ(Parsed("https://example.com?token=abc").target, "/?token=abc");
}

TEST(ParseEndpointUrlTest, TakesIpLiterals) {
  const EndpointUrl v6 = Parsed("https://[::1]:8443/hook");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 8443);
  EXPECT_EQ(v6.target, "/hook");
  EXPECT_EQ(Parsed("https://[2001:DB8::A]").host, "2001:db8::a");
  EXPECT_EQ(Parsed("https://[2001:db8::a]").port, 443);
  EXPECT_EQ(Parsed("http://127.0.0.1:8080").host, "127.0.0.1");
}

TEST(ParseEndpointUrlTest, RefusesOtherSchemes) {
  const absl::Status ftp = Refusal("ftp://x");
  EXPECT_EQ(ftp.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ftp.message(),
            "url: \"ftp://x\" must be https:// (or http:// to loopback when "
            "allowed) [rule: webhook-https]");
  for (absl::string_view url :
       {"", "example.com/hook", "//example.com/", "file:///etc/passwd",
        "gopher://example.com/", "https:/example.com/", "javascript://x"}) {
    EXPECT_THAT(Refusal(url).message(), HasSubstr("[rule: webhook-https]"))
        << url;
  }
}

TEST(ParseEndpointUrlTest, RefusesAFragment) {
  const absl::Status status = Refusal("https://example.com/in#top");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("fragment"));
  EXPECT_THAT(status.message(), HasSubstr("[rule: webhook-url]"));
  EXPECT_FALSE(ParseEndpointUrl("url", "https://example.com#").ok());
}

TEST(ParseEndpointUrlTest, RefusesUserinfoWithoutRepeatingIt) {
  for (absl::string_view url :
       {"https://user:hunter2@example.com/", "https://user@example.com/",
        "https://example.com@evil.example/", "https://good@127.0.0.1/",
        "https://good.example\\@evil.example/"}) {
    const absl::Status status = Refusal(url);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(status.message(), HasSubstr("[rule: webhook-url]")) << url;
    EXPECT_THAT(status.message(), Not(HasSubstr("hunter2")));
  }
}

TEST(ParseEndpointUrlTest, RefusesTooLong) {
  const std::string prefix = "https://example.com/";
  const std::string longest = prefix + std::string(2000 - prefix.size(), 'a');
  EXPECT_TRUE(ParseEndpointUrl("url", longest).ok());
  const absl::Status status = Refusal(longest + "a");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("2001 bytes, at most 2000"));
  EXPECT_THAT(status.message(), Not(HasSubstr("aaaa")));
}

TEST(ParseEndpointUrlTest, RefusesWhitespaceAndControlCharacters) {
  for (absl::string_view url :
       {"https://example.com/a b", " https://example.com/",
        "https://example.com/\r\nHost: evil", "https://example.com/\t",
        "https://exa\x7fmple.com/", "https://ex\xc3\xa4mple.com/"}) {
    const absl::Status status = Refusal(url);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(status.message(), HasSubstr("[rule: webhook-url]")) << url;
  }
  EXPECT_FALSE(
      ParseEndpointUrl("url", absl::string_view("https://x/\0", 11)).ok());
}

TEST(ParseEndpointUrlTest, RefusesBadHostsAndPorts) {
  for (absl::string_view url :
       {"https:///in", "https://:443/", "https://example.com:0/",
        "https://example.com:65536/", "https://example.com:99999999999/",
        "https://example.com:/", "https://example.com:-1/",
        "https://example.com:80:80/", "https://example.com:8o/", "https://::1/",
        "https://[::1/", "https://[]/", "https://[::1]x/",
        "https://[127.0.0.1]/", "https://[fe80::1%25eth0]/",
        "https://exa%6dple.com/", "https://a,b/"}) {
    const absl::Status status = Refusal(url);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(status.message(), HasSubstr("[rule: webhook-url]")) << url;
    EXPECT_THAT(status.message(), HasSubstr("url: ")) << url;
  }
}

struct Classed {
  const char* address;
  AddressClass address_class;
};

class ClassifyAddressTest : public ::testing::TestWithParam<Classed> {};

// A test's name: its index and address ("3_10_0_0_0"), stable from run to
// run (ctest lists tests by name).
std::string ClassedName(const ::testing::TestParamInfo<Classed>& info) {
  std::string name = absl::StrCat(info.index, "_", info.param.address);
  for (char& c : name) {
    if (!absl::ascii_isalnum(c)) c = '_';
  }
  return name;
}

TEST_P(ClassifyAddressTest, ClassesTheAddress) {
  const std::optional<AddressClass> classed =
      ClassifyAddress(GetParam().address);
  ASSERT_TRUE(classed.has_value()) << GetParam().address;
  EXPECT_EQ(AddressClassName(*classed),
            AddressClassName(GetParam().address_class))
      << GetParam().address;
}

constexpr AddressClass kPublic = AddressClass::kPublic;
constexpr AddressClass kLoopback = AddressClass::kLoopback;
constexpr AddressClass kPrivate = AddressClass::kPrivate;
constexpr AddressClass kLinkLocal = AddressClass::kLinkLocal;
constexpr AddressClass kReserved = AddressClass::kReserved;

INSTANTIATE_TEST_SUITE_P(
    Ipv4, ClassifyAddressTest,
    ::testing::Values(
        Classed{"0.0.0.0", kReserved}, Classed{"0.255.255.255", kReserved},
        Classed{"1.0.0.0", kPublic}, Classed{"8.8.8.8", kPublic},
        Classed{"9.255.255.255", kPublic}, Classed{"10.0.0.0", kPrivate},
        Classed{"10.255.255.255", kPrivate}, Classed{"11.0.0.0", kPublic},
        Classed{"100.63.255.255", kPublic}, Classed{"100.64.0.0", kPrivate},
        Classed{"100.127.255.255", kPrivate}, Classed{"100.128.0.0", kPublic},
        Classed{"126.255.255.255", kPublic}, Classed{"127.0.0.0", kLoopback},
        Classed{"127.0.0.1", kLoopback}, Classed{"127.255.255.255", kLoopback},
        Classed{"128.0.0.0", kPublic}, Classed{"169.253.255.255", kPublic},
        Classed{"169.254.0.0", kLinkLocal},
        Classed{"169.254.169.254", kLinkLocal},
        Classed{"169.254.255.255", kLinkLocal}, Classed{"169.255.0.0", kPublic},
        Classed{"172.15.255.255", kPublic}, Classed{"172.16.0.0", kPrivate},
        Classed{"172.31.255.255", kPrivate}, Classed{"172.32.0.0", kPublic},
        Classed{"192.0.1.255", kPublic}, Classed{"192.0.2.0", kReserved},
        Classed{"192.0.2.255", kReserved}, Classed{"192.0.3.0", kPublic},
        Classed{"192.167.255.255", kPublic}, Classed{"192.168.0.0", kPrivate},
        Classed{"192.168.255.255", kPrivate}, Classed{"192.169.0.0", kPublic},
        Classed{"198.17.255.255", kPublic}, Classed{"198.18.0.0", kReserved},
        Classed{"198.19.255.255", kReserved}, Classed{"198.20.0.0", kPublic},
        Classed{"198.51.99.255", kPublic}, Classed{"198.51.100.0", kReserved},
        Classed{"198.51.100.255", kReserved}, Classed{"198.51.101.0", kPublic},
        Classed{"203.0.112.255", kPublic}, Classed{"203.0.113.0", kReserved},
        Classed{"203.0.113.255", kReserved}, Classed{"203.0.114.0", kPublic},
        Classed{"223.255.255.255", kPublic}, Classed{"224.0.0.0", kReserved},
        Classed{"239.255.255.255", kReserved}, Classed{"240.0.0.0", kReserved},
        Classed{"255.255.255.254", kReserved},
        Classed{"255.255.255.255", kReserved}),
    ClassedName);

INSTANTIATE_TEST_SUITE_P(
    Ipv6, ClassifyAddressTest,
    ::testing::Values(
        Classed{"::", kReserved}, Classed{"::1", kLoopback},
        Classed{"0:0:0:0:0:0:0:1", kLoopback}, Classed{"::2", kReserved},
        Classed{"::10.0.0.1", kReserved},
        Classed{"2606:4700:4700::1111", kPublic},
        Classed{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", kPublic},
        Classed{"2001:db8::", kReserved},
        Classed{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", kReserved},
        Classed{"2001:db9::", kPublic},
        Classed{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kPublic},
        Classed{"fc00::", kPrivate}, Classed{"fd12:3456::1", kPrivate},
        Classed{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kPrivate},
        Classed{"fe00::", kPublic},
        Classed{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kPublic},
        Classed{"fe80::", kLinkLocal}, Classed{"FE80::1", kLinkLocal},
        Classed{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kLinkLocal},
        Classed{"fec0::1", kPrivate},
        Classed{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kPrivate},
        Classed{"ff00::", kReserved}, Classed{"ff02::1", kReserved},
        Classed{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kReserved}),
    ClassedName);

INSTANTIATE_TEST_SUITE_P(
    Ipv4InIpv6, ClassifyAddressTest,
    ::testing::Values(Classed{"::ffff:10.0.0.1", kPrivate},
                      Classed{"::ffff:169.254.169.254", kLinkLocal},
                      Classed{"::ffff:a9fe:a9fe", kLinkLocal},
                      Classed{"::ffff:127.0.0.1", kLoopback},
                      Classed{"::ffff:0.0.0.0", kReserved},
                      Classed{"::ffff:8.8.8.8", kPublic},
                      Classed{"64:ff9b::10.0.0.1", kPrivate},
                      Classed{"64:ff9b::169.254.169.254", kLinkLocal},
                      Classed{"64:ff9b::127.0.0.1", kLoopback},
                      Classed{"64:ff9b::224.0.0.1", kReserved},
                      Classed{"64:ff9b::8.8.8.8", kPublic},
                      // Not NAT64's /96: an address like any other.
                      Classed{"64:ff9b:1::10.0.0.1", kPublic}),
    ClassedName);

TEST(ClassifyAddressOthersTest, OnlyNumericAddressesAreClassed) {
  for (absl::string_view text :
       {"", "localhost", "example.com", "127.1", "0x7f.0.0.1", "2130706433",
        "010.0.0.1", "127.0.0.1 ", "256.0.0.1", "1.2.3.4.5", "[::1]",
        "fe80::1%eth0", ":::1", "::g"}) {
    EXPECT_EQ(ClassifyAddress(text), std::nullopt) << text;
  }
}

TEST(ClassifyAddressOthersTest, NamesTheClasses) {
  EXPECT_EQ(AddressClassName(kPublic), "public");
  EXPECT_EQ(AddressClassName(kLoopback), "loopback");
  EXPECT_EQ(AddressClassName(kPrivate), "private");
  EXPECT_EQ(AddressClassName(kLinkLocal), "link-local");
  EXPECT_EQ(AddressClassName(kReserved), "reserved");
}

constexpr AddressPolicy kStrict{};
constexpr AddressPolicy kLoopbackAllowed{.allow_loopback = true};
constexpr AddressPolicy kPrivateAllowed{.allow_private = true};
constexpr AddressPolicy kAllAllowed{.allow_loopback = true,
                                    .allow_private = true};

TEST(CheckSchemeTest, HttpsAlways) {
  EXPECT_TRUE(CheckScheme("url", Parsed("https://example.com/"), kStrict).ok());
  EXPECT_TRUE(CheckScheme("url", Parsed("https://127.0.0.1/"), kStrict).ok());
}

TEST(CheckSchemeTest, HttpOnlyToLoopbackWhenAllowed) {
  for (absl::string_view url :
       {"http://localhost:8080/", "http://127.0.0.1/", "http://127.9.9.9/",
        "http://[::1]:8080/", "http://LOCALHOST/"}) {
    EXPECT_TRUE(CheckScheme("url", Parsed(url), kLoopbackAllowed).ok()) << url;
    const absl::Status strict = CheckScheme("url", Parsed(url), kStrict);
    EXPECT_EQ(strict.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(strict.message(), HasSubstr("[rule: webhook-https]")) << url;
  }
  for (absl::string_view url :
       {"http://example.com/", "http://10.0.0.1/", "http://localhost.evil/",
        "http://[::ffff:8.8.8.8]/", "http://169.254.169.254/"}) {
    EXPECT_EQ(CheckScheme("url", Parsed(url), kAllAllowed).code(),
              absl::StatusCode::kInvalidArgument)
        << url;
  }
  EXPECT_EQ(CheckScheme("endpoint.url", Parsed("http://example.com/x"), kStrict)
                .message(),
            "endpoint.url: \"http://example.com\" must be https:// (or "
            "http:// to loopback when allowed) [rule: webhook-https]");
  EXPECT_THAT(CheckScheme("url", Parsed("http://[::1]/"), kStrict).message(),
              HasSubstr("\"http://[::1]\""));
}

TEST(CheckAddressTest, PublicAlways) {
  const EndpointUrl url = Parsed("https://hooks.example.com/");
  EXPECT_TRUE(CheckAddress("url", url, "93.184.216.34", kStrict).ok());
  EXPECT_TRUE(CheckAddress("url", url, "2606:2800:220:1::", kStrict).ok());
  EXPECT_TRUE(CheckAddress("url", url, "::ffff:8.8.8.8", kStrict).ok());
}

TEST(CheckAddressTest, NamesHostAddressClassAndRule) {
  const absl::Status status =
      CheckAddress("url", Parsed("https://metadata.internal/latest"),
                   "169.254.169.254", kStrict);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "url: host \"metadata.internal\" resolves to 169.254.169.254 "
            "(link-local), refused unless the server allows private "
            "addresses [rule: webhook-address]");
  const absl::Status numeric = CheckAddress("url", Parsed("https://10.1.2.3/"),
                                            "10.1.2.3", kLoopbackAllowed);
  EXPECT_EQ(numeric.message(),
            "url: host \"10.1.2.3\" is a private address, refused unless the "
            "server allows private addresses [rule: webhook-address]");
  EXPECT_THAT(CheckAddress("url", Parsed("https://x/"), "::1", kPrivateAllowed)
                  .message(),
              HasSubstr("resolves to ::1 (loopback), refused unless the server "
                        "allows loopback addresses [rule: webhook-address]"));
}

TEST(CheckAddressTest, EachPolicyLetsItsClassesThrough) {
  const EndpointUrl url = Parsed("https://hooks.example.com/");
  struct Case {
    const char* address;
    bool strict, loopback, private_, all;
  };
  for (const Case& c : {
           Case{"127.0.0.1", false, true, false, true},
           Case{"::1", false, true, false, true},
           Case{"::ffff:127.0.0.1", false, true, false, true},
           Case{"10.0.0.1", false, false, true, true},
           Case{"::ffff:10.0.0.1", false, false, true, true},
           Case{"fd00::1", false, false, true, true},
           Case{"169.254.169.254", false, false, true, true},
           Case{"::ffff:169.254.169.254", false, false, true, true},
           Case{"fe80::1", false, false, true, true},
           Case{"0.0.0.0", false, false, false, false},
           Case{"::", false, false, false, false},
           Case{"255.255.255.255", false, false, false, false},
           Case{"224.0.0.1", false, false, false, false},
           Case{"ff02::1", false, false, false, false},
           Case{"192.0.2.1", false, false, false, false},
           Case{"2001:db8::1", false, false, false, false},
           Case{"64:ff9b::10.0.0.1", false, false, true, true},
           Case{"8.8.8.8", true, true, true, true},
       }) {
    const AddressPolicy policies[] = {kStrict, kLoopbackAllowed,
                                      kPrivateAllowed, kAllAllowed};
    const bool expected[] = {c.strict, c.loopback, c.private_, c.all};
    for (int i = 0; i < 4; ++i) {
      const absl::Status status =
          CheckAddress("url", url, c.address, policies[i]);
      EXPECT_EQ(status.ok(), expected[i]) << c.address << " policy " << i;
      if (!status.ok()) {
        EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
        EXPECT_THAT(status.message(), HasSubstr(c.address));
        EXPECT_THAT(status.message(), HasSubstr("[rule: webhook-address]"));
      }
    }
  }
  EXPECT_THAT(CheckAddress("url", url, "0.0.0.0", kAllAllowed).message(),
              HasSubstr("(reserved), always refused"));
}

TEST(CheckAddressTest, RefusesANameForAnAddress) {
  EXPECT_EQ(CheckAddress("url", Parsed("https://example.com/"), "example.com",
                         kAllAllowed)
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResolvePermittedTest, ANumericHostIsItsOwnAddress) {
  EXPECT_EQ(ResolvePermitted("url", Parsed("https://127.0.0.1:8443/"),
                             kLoopbackAllowed)
                .value_or("refused"),
            "127.0.0.1");
  EXPECT_EQ(
      ResolvePermitted("url", Parsed("http://[::1]:8080/"), kLoopbackAllowed)
          .value_or("refused"),
      "::1");
  EXPECT_EQ(ResolvePermitted("url", Parsed("https://[::1]/"), kAllAllowed)
                .value_or("refused"),
            "::1");
  EXPECT_EQ(ResolvePermitted("url", Parsed("https://[::FFFF:10.0.0.1]/"),
                             kPrivateAllowed)
                .value_or("refused"),
            "::ffff:10.0.0.1");
}

TEST(ResolvePermittedTest, RefusesANumericHostOutsideThePolicy) {
  const absl::StatusOr<std::string> loopback =
      ResolvePermitted("url", Parsed("https://127.0.0.1/"), kStrict);
  EXPECT_EQ(loopback.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(loopback.status().message(),
              HasSubstr("[rule: webhook-address]"));
  EXPECT_EQ(ResolvePermitted("url", Parsed("https://[::1]/"), kPrivateAllowed)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolvePermitted("url", Parsed("https://169.254.169.254/"),
                             kLoopbackAllowed)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolvePermitted("url", Parsed("https://0.0.0.0/"), kAllAllowed)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  // The scheme is checked first.
  EXPECT_EQ(ResolvePermitted("url", Parsed("http://10.0.0.1/"), kAllAllowed)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// What the C library reads as a number, the classification does not
// ("127.1", "2130706433"): the resolver's answer is checked, not the text.
TEST(ResolvePermittedTest, ChecksWhatTheResolverMakesOfAnOddNumber) {
  for (absl::string_view url : {"https://127.1/", "https://2130706433/",
                                "https://0x7f000001/", "https://0177.0.0.1/"}) {
    const absl::StatusOr<std::string> resolved =
        ResolvePermitted("url", Parsed(url), kStrict);
    // Refused as loopback, or not resolved at all (a C library that does
    // not read these forms asks DNS, which has no answer for them).
    EXPECT_THAT(resolved.status().code(),
                AnyOf(absl::StatusCode::kPermissionDenied,
                      absl::StatusCode::kUnavailable))
        << url;
  }
}

TEST(ResolvePermittedTest, LocalhostWhenLoopbackIsAllowed) {
  const absl::StatusOr<std::string> allowed = ResolvePermitted(
      "url", Parsed("http://localhost:8080/hook"), kLoopbackAllowed);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(ClassifyAddress(*allowed), std::optional(kLoopback)) << *allowed;

  const absl::StatusOr<std::string> https = ResolvePermitted(
      "url", Parsed("https://localhost/hook"), kLoopbackAllowed);
  ASSERT_TRUE(https.ok()) << https.status();
  EXPECT_EQ(ClassifyAddress(*https), std::optional(kLoopback)) << *https;
}

TEST(ResolvePermittedTest, LocalhostRefusedOtherwise) {
  const absl::StatusOr<std::string> refused =
      ResolvePermitted("url", Parsed("https://localhost/hook"), kStrict);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("url: host \"localhost\" resolves to "));
  EXPECT_THAT(refused.status().message(),
              HasSubstr("(loopback), refused unless the server allows "
                        "loopback addresses [rule: webhook-address]"));
  EXPECT_EQ(
      ResolvePermitted("url", Parsed("https://localhost/"), kPrivateAllowed)
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
  // http:// to localhost needs loopback allowed, whatever else is.
  EXPECT_EQ(
      ResolvePermitted("url", Parsed("http://localhost/"), kPrivateAllowed)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plantrail::webhooks
