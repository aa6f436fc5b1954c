#include "client/common/url/canonicalize.h"

#include <iterator>
#include <random>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/common/url/test_vectors.h"
#include "client/common/url/url_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::url {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;

std::string Canon(absl::string_view raw) {
  absl::StatusOr<CanonicalUrl> url = Canonicalize(raw);
  if (!url.ok()) return absl::StrCat("ERROR ", url.status().message());
  return url->ToString();
}

std::optional<UrlErrorKind> KindOf(absl::string_view raw) {
  return GetUrlErrorKind(Canonicalize(raw).status());
}

// Canonical output re-canonicalizes to itself (URL_RULES.md#overview).
void ExpectIdempotent(absl::string_view raw) {
  absl::StatusOr<CanonicalUrl> first = Canonicalize(raw);
  if (!first.ok()) return;
  absl::StatusOr<CanonicalUrl> second = Canonicalize(first->ToString());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(*first, *second) << first->ToString();
}

TEST(CanonicalizeVectors, EveryRowOfCanonicalizationTsv) {
  absl::StatusOr<std::vector<testing::VectorRow>> rows = testing::ReadVectors("canonicalization.tsv");
  ASSERT_THAT(rows, IsOk());
  ASSERT_GE(rows->size(), 80u);
  for (const testing::VectorRow& row : *rows) {
    EXPECT_EQ(Canon(row.input), row.expected) << "canonicalization.tsv line " << row.line;
    ExpectIdempotent(row.input);
    ExpectIdempotent(row.expected);
  }
}

TEST(Canonicalize, Components) {
  absl::StatusOr<CanonicalUrl> url =
      Canonicalize("HTTPS://user:pw@Img.Example.COM:443/a/./b/../c d.jpg?x=%41#frag");
  ASSERT_THAT(url, IsOk());
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "img.example.com");
  EXPECT_EQ(url->path, "/a/c%20d.jpg");
  EXPECT_EQ(url->query, "x=A");
  EXPECT_TRUE(url->has_query);
  EXPECT_FALSE(url->host_is_ip);
  EXPECT_EQ(url->ToString(), "https://img.example.com/a/c%20d.jpg?x=A");
  EXPECT_EQ(url->ExactExpression(), "img.example.com/a/c%20d.jpg?x=A");
}

TEST(Canonicalize, ExactExpressionIgnoresEmptyQueryAndScheme) {
  EXPECT_EQ(Canonicalize("http://x.example/a.jpg?")->ExactExpression(), "x.example/a.jpg");
  EXPECT_EQ(Canonicalize("http://x.example/a.jpg?")->ToString(), "http://x.example/a.jpg?");
  EXPECT_EQ(Canonicalize("https://x.example/a.jpg")->ExactExpression(),
            Canonicalize("http://x.example/a.jpg")->ExactExpression());
}

TEST(Canonicalize, PercentDecodingExamples) {  // URL_RULES.md#decoding
  EXPECT_EQ(Canon("http://x/%2541"), "http://x/A");
  EXPECT_EQ(Canon("http://x/%%36%31"), "http://x/a");
  EXPECT_EQ(Canon("http://x/%25%32%35"), "http://x/%25");
  EXPECT_EQ(Canon("http://x/%4"), "http://x/%254");
  EXPECT_EQ(Canon("http://x/%"), "http://x/%25");
  EXPECT_EQ(Canon("http://x/%00"), "http://x/%00");
  EXPECT_EQ(Canon("http://x/a%23b"), "http://x/a%23b");  // %23 never starts a fragment
  EXPECT_EQ(Canon("http://x%2Fa%3Fb"), "http://x/a?b");
  EXPECT_EQ(Canon("http://u%40x.example/"), "http://x.example/");
  EXPECT_EQ(Canon("http://x.example%3A80/"), "http://x.example/");
  EXPECT_EQ(Canon("http://x.example%5Ca%5Cb"), "http://x.example/a/b");
  EXPECT_EQ(Canon("http%3A//x/"), "http://x/");
  EXPECT_EQ(Canon("http://x/a?b%5Cc"), "http://x/a?b\\c");  // no '\' rewrite in the query
}

TEST(Canonicalize, Cleanup) {  // URL_RULES.md#clean-up
  EXPECT_EQ(Canon("\x01\x1f http://x/ \x7f"), "http://x/%20%7F");
  // U+00A0 is not trimmed: no scheme, so the host is "\u00a0http", which
  // UTS #46 maps to " http".
  EXPECT_EQ(KindOf("\xc2\xa0http://x/"), UrlErrorKind::kInvalidIdn);
  EXPECT_EQ(Canon("ht\ttp://x/a\nb"), "http://x/ab");
  EXPECT_EQ(Canon("http://x/a%09b"), "http://x/a%09b");
  EXPECT_EQ(Canon("http://x/a#b#c"), "http://x/a");
}

TEST(Canonicalize, Scheme) {  // URL_RULES.md#splitting, step 8
  EXPECT_EQ(Canon("HtTpS://x/"), "https://x/");
  EXPECT_EQ(Canon("http:\\\\x\\a"), "http://x/a");
  EXPECT_EQ(Canon("http:/\\x/"), "http://x/");
  EXPECT_EQ(Canon("x.example/a"), "http://x.example/a");
  EXPECT_EQ(Canon("1.2.3.4/a"), "http://1.2.3.4/a");
  EXPECT_EQ(Canon("/x/a"), "ERROR EMPTY_HOST: host is empty");
}

TEST(Canonicalize, HostIpv6) {  // URL_RULES.md#ipv6-hosts
  EXPECT_EQ(Canon("http://[2001:DB8:0:0:8:800:200C:417A]/"), "http://[2001:db8::8:800:200c:417a]/");
  EXPECT_EQ(Canon("http://[1:0:0:1:0:0:0:1]/"), "http://[1:0:0:1::1]/");
  EXPECT_EQ(Canon("http://[::192.0.2.1]/"), "http://[::c000:201]/");
  EXPECT_EQ(Canon("http://[::]/"), "http://[::]/");
  EXPECT_EQ(Canon("http://[::1]:80/"), "http://[::1]/");
  EXPECT_EQ(Canon("http://[1::]/"), "http://[1::]/");
  EXPECT_EQ(Canon("http://[0:0:0:0:0:ffff:c000:0201]/"), "http://192.0.2.1/");
  EXPECT_EQ(Canon("http://[::ffff:0:0]/"), "http://0.0.0.0/");
  EXPECT_EQ(Canon("http://[64:ff9b::c000:201]/"), "http://192.0.2.1/");
  EXPECT_EQ(Canon("http://[64:ff9b:1::1.2.3.4]/"), "http://[64:ff9b:1::102:304]/");
  EXPECT_EQ(Canon("http://[1:0:0:2:0:0:3:4]/"), "http://[1::2:0:0:3:4]/");
  EXPECT_EQ(Canon("http://[1:2:3:4:5:6:7:0]/"), "http://[1:2:3:4:5:6:7:0]/");
  EXPECT_EQ(Canon("http://[1:2:3:4:5:6:1.2.3.4]/"), "http://[1:2:3:4:5:6:102:304]/");
  EXPECT_TRUE(Canonicalize("http://[::1]/")->host_is_ip);
}

TEST(Canonicalize, HostIpv4) {  // URL_RULES.md#ipv4-hosts
  EXPECT_EQ(Canon("http://3279880203/"), "http://195.127.0.11/");
  EXPECT_EQ(Canon("http://0x7f.0.1/"), "http://127.0.0.1/");
  EXPECT_EQ(Canon("http://10.0x100/"), "http://10.0.1.0/");
  EXPECT_EQ(Canon("http://0300.0xa8.1.2/"), "http://192.168.1.2/");
  EXPECT_EQ(Canon("http://10.1.2.3./"), "http://10.1.2.3/");
  EXPECT_EQ(Canon("http://0..0x300/"), "http://0.0.3.0/");
  EXPECT_EQ(Canon("http://9.8..7.6/"), "http://9.8.7.6/");
  EXPECT_EQ(Canon("http://0X7F.1/"), "http://127.0.0.1/");
  EXPECT_EQ(Canon("http://0x/"), "http://0.0.0.0/");
  EXPECT_EQ(Canon("http://4294967295/"), "http://255.255.255.255/");
  EXPECT_EQ(Canon("http://1.2.3.256.com/"), "http://1.2.3.256.com/");
  EXPECT_EQ(Canon("http://1.2.3.0x7g/"), "http://1.2.3.0x7g/");
  EXPECT_EQ(Canon("http://1e5/"), "http://1e5/");
  EXPECT_TRUE(Canonicalize("http://127.1/")->host_is_ip);
  EXPECT_FALSE(Canonicalize("http://a.com/")->host_is_ip);
}

TEST(Canonicalize, HostNames) {  // URL_RULES.md#host-names, URL_RULES.md#idna
  EXPECT_EQ(Canon("http://straße.example/"), "http://xn--strae-oqa.example/");
  EXPECT_EQ(Canon("http://BÜCHER.example/"), "http://xn--bcher-kva.example/");
  EXPECT_EQ(Canon("http://\xef\xbd\x89\xef\xbd\x8d\xef\xbd\x87.example/"), "http://img.example/");
  EXPECT_EQ(Canon("http://e\xef\xac\x80.example/"), "http://eff.example/");
  EXPECT_EQ(Canon("http://a\xc2\xad" "b.example/"), "http://ab.example/");
  EXPECT_EQ(Canon("http://%C3%A9t%C3%A9.example/"), "http://xn--t-9fab.example/");
  EXPECT_EQ(Canon("http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/"), "http://127.0.0.1/");
  EXPECT_EQ(Canon("http://\xe2\x98\x83.com/"), "http://xn--n3h.com/");
  EXPECT_EQ(Canon("http://ab--c.\xc3\xbc/"), "http://ab--c.xn--tda/");
  EXPECT_EQ(Canon("http://XN--TDA.com/"), "http://xn--tda.com/");   // ASCII: only lowercased
  EXPECT_EQ(Canon("http://xn--zz.com/"), "http://xn--zz.com/");     // never validated
  EXPECT_EQ(Canon("http://a_b.example/"), "http://a_b.example/");
  EXPECT_EQ(Canon("http://\x01\x80.com/"), "http://%01%80.com/");   // not UTF-8: no IDNA
  EXPECT_EQ(Canon("http://\xc0\xae.com/"), "http://%C0%AE.com/");   // overlong: not UTF-8
  EXPECT_EQ(Canon("http://\xed\xa0\x80.com/"), "http://%ED%A0%80.com/");  // surrogate
  EXPECT_EQ(Canon("http://a b.com/"), "http://a%20b.com/");
  EXPECT_EQ(Canon("http://a<^>.com/"), "http://a<^>.com/");
  EXPECT_EQ(Canon("http://%25.com/"), "http://%25.com/");
  EXPECT_EQ(Canon("http://localhost/"), "http://localhost/");
  EXPECT_EQ(Canon(absl::StrCat("http://", std::string(300, 'a'), ".com/")),
            absl::StrCat("http://", std::string(300, 'a'), ".com/"));
  // IDNA may produce dots (ideographic full stop), cleaned up afterwards.
  EXPECT_EQ(Canon("http://\xc3\xbc\xe3\x80\x82\xe3\x80\x82x/"), "http://xn--tda.x/");
}

TEST(Canonicalize, Paths) {  // URL_RULES.md#paths
  EXPECT_EQ(Canon("http://x/p//../q"), "http://x/q");
  EXPECT_EQ(Canon("http://x/blah/.."), "http://x/");
  EXPECT_EQ(Canon("http://x/a/b/.."), "http://x/a/");
  EXPECT_EQ(Canon("http://x/p/q/."), "http://x/p/q/");
  EXPECT_EQ(Canon("http://x/x/./y/../z.jpg"), "http://x/x/z.jpg");
  EXPECT_EQ(Canon("http://x/../../a"), "http://x/a");
  EXPECT_EQ(Canon("http://x//twoslashes"), "http://x/twoslashes");
  EXPECT_EQ(Canon("http://x/.../..b/.x"), "http://x/.../..b/.x");
  EXPECT_EQ(Canon("http://x/%2e%2E/a/%2E"), "http://x/a/");
  EXPECT_EQ(Canon("http://x/a/"), "http://x/a/");
  EXPECT_EQ(Canon("http://x/a//"), "http://x/a/");
  EXPECT_EQ(Canon("http://x"), "http://x/");
  EXPECT_EQ(Canon("http://x?q"), "http://x/?q");
  EXPECT_EQ(Canon("http://x/e\xcc\x81"), "http://x/e%CC%81");  // not normalized
  EXPECT_EQ(Canon("http://x/a+b"), "http://x/a+b");
  EXPECT_EQ(Canon("http://x/a?/../b//c"), "http://x/a?/../b//c");  // query untouched
}

TEST(Canonicalize, Limits) {  // URL_RULES.md#pre-checks, URL_RULES.md#splitting step 14
  const std::string prefix = "http://x/";
  const std::string at_limit = prefix + std::string(kMaxUrlLength - prefix.size(), 'a');
  EXPECT_EQ(Canon(at_limit), at_limit);
  EXPECT_EQ(KindOf(at_limit + "a"), UrlErrorKind::kTooLong);
  EXPECT_EQ(KindOf(prefix + std::string(9000, 'a')), UrlErrorKind::kTooLong);
  // Raw whitespace counts towards the raw limit.
  EXPECT_EQ(KindOf(at_limit + " "), UrlErrorKind::kTooLong);
  // Escaping grows the canonical URL beyond the limit.
  EXPECT_EQ(KindOf(prefix + std::string(3000, ' ') + "a"), UrlErrorKind::kTooLong);
  const std::string escaped_at_limit = prefix + std::string((kMaxUrlLength - prefix.size()) / 3, '%') +
                                       std::string((kMaxUrlLength - prefix.size()) % 3, 'z');
  absl::StatusOr<CanonicalUrl> url = Canonicalize(escaped_at_limit);
  ASSERT_THAT(url, IsOk());
  EXPECT_EQ(url->ToString().size(), kMaxUrlLength);
  EXPECT_EQ(KindOf(escaped_at_limit + "%"), UrlErrorKind::kTooLong);
}

struct ErrorCase {
  const char* input;
  UrlErrorKind kind;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << UrlErrorKindName(c.kind); }

class CanonicalizeErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(CanonicalizeErrors, ReportsTheKindOfSection11) {
  const ErrorCase& c = GetParam();
  absl::StatusOr<CanonicalUrl> url = Canonicalize(c.input);
  ASSERT_FALSE(url.ok()) << c.input << " -> " << url->ToString();
  EXPECT_THAT(url, StatusIs(absl::StatusCode::kInvalidArgument,
                            ::testing::StartsWith(absl::StrCat(UrlErrorKindName(c.kind), ": "))))
      << c.input;
  EXPECT_EQ(GetUrlErrorKind(url.status()), c.kind) << c.input << ": " << url.status();
}

INSTANTIATE_TEST_SUITE_P(
    Spec11, CanonicalizeErrors,
    ::testing::Values(
        ErrorCase{"\x20\x20", UrlErrorKind::kEmptyInput},
        ErrorCase{"", UrlErrorKind::kEmptyInput},
        ErrorCase{"#only-a-fragment", UrlErrorKind::kEmptyInput},
        ErrorCase{"\t\r\n", UrlErrorKind::kEmptyInput},
        ErrorCase{"gopher://x/", UrlErrorKind::kUnsupportedScheme},
        ErrorCase{"javascript:alert(1)", UrlErrorKind::kUnsupportedScheme},
        ErrorCase{"data:image/png;base64,AAAA", UrlErrorKind::kUnsupportedScheme},
        ErrorCase{"ftp://x.example/a.jpg", UrlErrorKind::kUnsupportedScheme},
        ErrorCase{"file:///etc/passwd", UrlErrorKind::kUnsupportedScheme},
        ErrorCase{"images.example:81/a.png", UrlErrorKind::kUnsupportedScheme},
        ErrorCase{"https:x.example/", UrlErrorKind::kMissingAuthority},
        ErrorCase{"http:example.com", UrlErrorKind::kMissingAuthority},
        ErrorCase{"http:/example.com", UrlErrorKind::kMissingAuthority},
        ErrorCase{"https:", UrlErrorKind::kMissingAuthority},
        ErrorCase{"https://:8080/x", UrlErrorKind::kEmptyHost},
        ErrorCase{"http:///host", UrlErrorKind::kEmptyHost},
        ErrorCase{"http://.../", UrlErrorKind::kEmptyHost},
        ErrorCase{"http://user@/x", UrlErrorKind::kEmptyHost},
        ErrorCase{"http://\xc2\xad/", UrlErrorKind::kEmptyHost},  // IDNA deletes everything
        ErrorCase{"http://x.example:7z/", UrlErrorKind::kInvalidPort},
        ErrorCase{"http://x.example:65536/", UrlErrorKind::kInvalidPort},
        ErrorCase{"http://x.example:-1/", UrlErrorKind::kInvalidPort},
        ErrorCase{"http://x.example:80:80/", UrlErrorKind::kInvalidPort},
        ErrorCase{"http://x.example:99999999999999999999999999/", UrlErrorKind::kInvalidPort},
        ErrorCase{"http://[::1]:x/", UrlErrorKind::kInvalidPort},
        ErrorCase{"http://10.0.0.300/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://www.example.123/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://1.2.3.4.5/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://1.2.3.08/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://09/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://276.2.3/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://1.2.65536/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://4294967296/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://99999999999999999999999999999/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://0x1g.0x1/", UrlErrorKind::kInvalidIpv4},
        ErrorCase{"http://[12345::]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[::1/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[1:2:3:4:5:6:7::8]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[1:2:3:4:5:6:7]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[1:2:3:4:5:6:7:8:9]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[1::2::3]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[:1::]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[1:]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[:::]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[fe80::1%25eth0]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[::1.2.3.04]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[::1.2.3.256]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[::1.2.3]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[1.2.3.4]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[::1.2.3.4:5]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[g::]/", UrlErrorKind::kInvalidIpv6},
        ErrorCase{"http://[::2]y/", UrlErrorKind::kInvalidHost},
        ErrorCase{"http://a[b.example/", UrlErrorKind::kInvalidHost},
        ErrorCase{"http://a]b.example/", UrlErrorKind::kInvalidHost},
        ErrorCase{"http://\xc3\xbc<x.example/", UrlErrorKind::kInvalidIdn},
        ErrorCase{"http://a\xef\xbc\xa0" "b.com/", UrlErrorKind::kInvalidIdn},  // fullwidth @
        ErrorCase{"http://a\xef\xbc\x8f" "b.com/", UrlErrorKind::kInvalidIdn},  // fullwidth /
        ErrorCase{"http://a\xe3\x80\x80" "b.\xc3\xbc/", UrlErrorKind::kInvalidIdn},  // U+3000
        ErrorCase{"http://\xc3\xbc x.com/", UrlErrorKind::kInvalidIdn},
        ErrorCase{"http://\xc3\xbc%01x.com/", UrlErrorKind::kInvalidIdn},
        ErrorCase{"http://a\xd7\x90.com/", UrlErrorKind::kInvalidIdn},        // bidi
        ErrorCase{"http://a\xe2\x80\x8d" "b.\xc3\xbc/", UrlErrorKind::kInvalidIdn},  // ZWJ
        ErrorCase{"http://\xcd\xb8.com/", UrlErrorKind::kInvalidIdn},         // U+0378 unassigned
        ErrorCase{"http://xn--a.\xc3\xbc/", UrlErrorKind::kInvalidIdn},       // bad punycode
        ErrorCase{"http://\xcc\x81x.com/", UrlErrorKind::kInvalidIdn}),  // leading mark
    [](const ::testing::TestParamInfo<ErrorCase>& info) {
      return absl::StrCat(UrlErrorKindName(info.param.kind), "_", info.index);
    });

TEST(Canonicalize, NulByteAnywhere) {
  EXPECT_EQ(KindOf(absl::string_view("\0http://x/", 10)), UrlErrorKind::kNulByte);
  EXPECT_EQ(KindOf(absl::string_view("http://x/#\0", 11)), UrlErrorKind::kNulByte);
  EXPECT_EQ(KindOf(absl::string_view("http://x/ \0", 11)), UrlErrorKind::kNulByte);
}

TEST(Canonicalize, NotErrors) {  // URL_RULES.md#errors, "Not errors"
  EXPECT_THAT(Canonicalize("http://x/%zz%4%"), IsOk());
  EXPECT_THAT(Canonicalize("http://x/\x01\x02\x7f"), IsOk());
  EXPECT_THAT(Canonicalize("http://a b/"), IsOk());
  EXPECT_THAT(Canonicalize("http://x.unknowntld/"), IsOk());
  EXPECT_THAT(Canonicalize("http://single/"), IsOk());
  EXPECT_THAT(Canonicalize(absl::StrCat("http://", std::string(200, 'a'), "/")), IsOk());
  EXPECT_THAT(Canonicalize("http://x.example:/"), IsOk());
  EXPECT_THAT(Canonicalize("http://x.example:0000000000000000000000080/"), IsOk());
  EXPECT_THAT(Canonicalize("http://x.example:65535/"), IsOk());
}

TEST(Canonicalize, ErrorMessagesNeverContainTheUrl) {
  for (const char* input : {"gopher://secret-host.example/", "http://secret.example:99999/",
                            "http://secret.example.123/", "http://[secret]/"}) {
    absl::StatusOr<CanonicalUrl> url = Canonicalize(input);
    EXPECT_THAT(url, StatusIs(absl::StatusCode::kInvalidArgument,
                              ::testing::Not(::testing::HasSubstr("secret"))));
  }
}

TEST(Canonicalize, IntoReusesObject) {
  CanonicalUrl url;
  ASSERT_THAT(CanonicalizeInto("https://a.example/x?y", &url), IsOk());
  ASSERT_THAT(CanonicalizeInto("http://b.example/", &url), IsOk());
  EXPECT_EQ(url.ToString(), "http://b.example/");
  EXPECT_FALSE(url.has_query);
}

// URLs already canonical take a shortcut (canonicalize.cc); a "#" or a
// leading space, which the rules drop, sends the same URL through every
// step. Random URLs built mostly of what the shortcut accepts, with the
// bytes that make it give up mixed in, canonicalize (or fail) alike.
TEST(Canonicalize, ShortcutForCanonicalUrlsAgreesWithEveryStep) {
  std::mt19937 rng(14);
  const std::string host_bytes = "abcxyzABZ0129-_..";
  // Half the paths only of bytes the shortcut takes (it still refuses empty
  // and dot segments), half with the ones it refuses too.
  const std::string clean_path_bytes = "abcdefXYZ0189-_.~+=&;:@!$'()*,//.?";
  const std::string path_bytes = clean_path_bytes + "%#\\\x7f";
  auto pick = [&rng](const std::string& from, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back(from[rng() % from.size()]);
    return out;
  };
  int shortcut_shaped = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string raw = rng() % 2 ? "https://" : "http://";
    raw += pick(host_bytes, 1 + rng() % 12);
    if (rng() % 16 == 0) raw += pick(":@1", 1 + rng() % 3);
    raw += pick(rng() % 2 ? clean_path_bytes : path_bytes, rng() % 24);
    if (rng() % 8 == 0) raw.insert(rng() % raw.size(), 1, "%:@ \t\x80"[rng() % 7]);
    // Escapes, the shortcut keeps the first few (they come back as they
    // are) and refuses the others.
    static const char* const kEscapes[] = {"%20", "%C3%A9", "%23", "%7F", "%09", "%00", "%FF",
                                           "%25", "%2e", "%2E", "%41", "%c3", "%2F", "%3F",
                                           "%5C", "%2",  "%G0", "%25%32%30"};
    for (int e = rng() % 3; e > 0; --e) {
      raw.insert(7 + rng() % (raw.size() - 6), kEscapes[rng() % std::size(kEscapes)]);
    }
    const absl::StatusOr<CanonicalUrl> shortcut = Canonicalize(raw);
    for (const std::string& slow : {raw + "#", " " + raw}) {
      const absl::StatusOr<CanonicalUrl> steps = Canonicalize(slow);
      ASSERT_EQ(shortcut.status().code(), steps.status().code()) << raw;
      if (shortcut.ok()) ASSERT_EQ(*shortcut, *steps) << raw << " -> " << shortcut->ToString();
    }
    if (shortcut.ok() && absl::EqualsIgnoreCase(shortcut->ToString(), raw)) ++shortcut_shaped;
  }
  // The generator reaches the shortcut often (else this test proves little).
  EXPECT_GT(shortcut_shaped, 5000);
}

}  // namespace
}  // namespace optout::url
