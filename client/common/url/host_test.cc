#include "client/common/url/host.h"

#include "client/common/url/idna.h"
#include "client/common/url/ipv4.h"
#include "client/common/url/ipv6.h"
#include "client/common/url/url_error.h"
#include "gtest/gtest.h"

namespace optout::url {
namespace {

std::string Host(absl::string_view in) {
  std::string out, scratch;
  bool is_ip = false;
  absl::Status status = CanonicalizeHost(in, &out, &is_ip, &scratch);
  if (!status.ok()) return std::string(UrlErrorKindName(*GetUrlErrorKind(status)));
  return out;
}

TEST(DotCleanup, TrimsAndCollapses) {
  std::string out;
  AppendDotCleaned("..a...b..c..", &out);
  EXPECT_EQ(out, "a.b.c");
  out.clear();
  AppendDotCleaned("....", &out);
  EXPECT_EQ(out, "");
}

TEST(Ipv4, NumericLabel) {
  EXPECT_TRUE(IsNumericLabel("0"));
  EXPECT_TRUE(IsNumericLabel("0x"));
  EXPECT_TRUE(IsNumericLabel("0X1f"));
  EXPECT_TRUE(IsNumericLabel("09"));  // numeric, though not a valid octal number
  EXPECT_FALSE(IsNumericLabel("0x7g"));
  EXPECT_FALSE(IsNumericLabel("1e5"));
  EXPECT_FALSE(IsNumericLabel("com"));
  EXPECT_FALSE(IsNumericLabel(""));
}

TEST(Ipv4, Parse) {
  EXPECT_EQ(ParseIpv4("1.2.3.4"), 0x01020304u);
  EXPECT_EQ(ParseIpv4("0x7f.1"), 0x7f000001u);
  EXPECT_EQ(ParseIpv4("1.2.0x10000"), std::nullopt);
  EXPECT_EQ(ParseIpv4("1.2.0xffff"), 0x0102ffffu);
  EXPECT_EQ(ParseIpv4("1.0xffffff"), 0x01ffffffu);
  EXPECT_EQ(ParseIpv4("037777777777"), 0xffffffffu);
  EXPECT_EQ(ParseIpv4("0x00000000000000000000000000001"), 1u);
  EXPECT_EQ(ParseIpv4("08"), std::nullopt);
  EXPECT_EQ(ParseIpv4("256.1"), std::nullopt);
  EXPECT_EQ(ParseIpv4("0xffffffffffffffffffffffffff"), std::nullopt);  // saturates
  std::string ip;
  AppendIpv4(0xC0A80001u, &ip);
  EXPECT_EQ(ip, "192.168.0.1");
}

TEST(Ipv6, ParseAndFormat) {
  auto format = [](absl::string_view text) -> std::string {
    std::optional<Ipv6Address> a = ParseIpv6(text);
    if (!a) return "invalid";
    std::string out;
    AppendCanonicalIpv6Host(*a, &out);
    return out;
  };
  EXPECT_EQ(format("2001:0db8:0000::1"), "[2001:db8::1]");
  EXPECT_EQ(format("0:0:1:0:0:1:0:0"), "[::1:0:0:1:0:0]");  // leftmost of equal runs
  EXPECT_EQ(format("1:0:0:2:0:0:0:3"), "[1:0:0:2::3]");     // longest run
  EXPECT_EQ(format("1:0:2:3:4:5:6:7"), "[1:0:2:3:4:5:6:7]");  // single zero group
  EXPECT_EQ(format("::ffff:1.2.3.4"), "1.2.3.4");
  EXPECT_EQ(format("64:ff9b::1.2.3.4"), "1.2.3.4");
  EXPECT_EQ(format("::1.2.3.4"), "[::102:304]");
  EXPECT_EQ(format("::ffff:1:1.2.3.4"), "[::ffff:1:102:304]");
  EXPECT_EQ(format("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789"),
            "[abcd:ef01:2345:6789:abcd:ef01:2345:6789]");
  EXPECT_EQ(format("1:2:3:4:5:6:7::"), "[1:2:3:4:5:6:7:0]");  // "::" = one group
  EXPECT_EQ(format("1:2:3:4:5:6:7::8"), "invalid");          // "::" = no group
}

TEST(Host, OrderOfOperations) {
  EXPECT_EQ(Host("..Example..COM.."), "example.com");
  EXPECT_EQ(Host("[::1]"), "[::1]");
  EXPECT_EQ(Host("[::1"), "INVALID_IPV6");
  EXPECT_EQ(Host(""), "EMPTY_HOST");
  EXPECT_EQ(Host("a[b"), "INVALID_HOST");
  EXPECT_EQ(Host("1.2.3.4.5"), "INVALID_IPV4");
  EXPECT_EQ(Host("\xc3\xbc.EXAMPLE"), "xn--tda.example");
  EXPECT_EQ(Host("\xc3\xbc[.example"), "INVALID_IDN");
}

TEST(Idna, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("abc\xc3\xbc\xe2\x98\x83\xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));       // noncharacter: valid UTF-8
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc0\xae"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xf8\x88\x80\x80\x80"));
}

TEST(Idna, PinnedUnicodeVersion) {
  // URL_RULES.md#idna pins Unicode 15.0 (ICU 72, Debian 12); a newer ICU is
  // handled by refusing code points assigned after 15.0.
  EXPECT_EQ(IcuUnicodeVersion(), "15.0");
}

}  // namespace
}  // namespace optout::url
