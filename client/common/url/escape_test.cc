#include "client/common/url/escape.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace optout::url {
namespace {

// The round-based description of URL_RULES.md#decoding, step by step.
std::string DecodeByRounds(std::string s) {
  while (true) {
    std::string next;
    for (size_t i = 0; i < s.size();) {
      if (s[i] == '%' && i + 2 < s.size() &&
          IsHexDigit(static_cast<unsigned char>(s[i + 1])) &&
          IsHexDigit(static_cast<unsigned char>(s[i + 2]))) {
        auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
        next.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
        i += 3;
      } else {
        next.push_back(s[i]);
        ++i;
      }
    }
    if (next == s) return s;
    s = next;
  }
}

std::string Decode(absl::string_view in, bool drop = false) {
  std::string out;
  AppendPercentDecodedFixpoint(in, drop, &out);
  return out;
}

TEST(PercentDecode, SpecExamples) {
  EXPECT_EQ(Decode("%2541"), "A");
  EXPECT_EQ(Decode("%%36%31"), "a");
  EXPECT_EQ(Decode("%25%32%35"), "%");
  EXPECT_EQ(Decode("%zz%4%"), "%zz%4%");
  EXPECT_EQ(Decode("%2525252525252525"), "%");
  EXPECT_EQ(Decode("a%0Ab", /*drop=*/true), "a\nb");
  EXPECT_EQ(Decode("a\tb\r\nc", /*drop=*/true), "abc");
  EXPECT_EQ(Decode("%2\t5", /*drop=*/true), "%");  // TAB removed before decoding
  EXPECT_EQ(Decode("abc"), "abc");
}

TEST(PercentDecode, AppendsToExistingContent) {
  std::string out = "%4";
  AppendPercentDecodedFixpoint("1", false, &out);
  EXPECT_EQ(out, "%41") << "earlier content is never re-examined";
}

TEST(PercentDecode, MatchesRoundsOnRandomInputs) {
  std::mt19937 rng(12345);
  const std::string alphabet = "%%%%2534567abcdefABCDEFgz";
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string s(rng() % 24, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(Decode(s), DecodeByRounds(s)) << s;
  }
}

TEST(Escape, FixedByteSetUppercase) {
  std::string out;
  AppendEscaped("a b#c%d\x7f\x80\xff~!*'();:@&=+$,/?[]\x01", &out);
  EXPECT_EQ(out, "a%20b%23c%25d%7F%80%FF~!*'();:@&=+$,/?[]%01");
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(NeedsEscape(static_cast<unsigned char>(c)), c <= 0x20 || c >= 0x7f || c == '#' || c == '%');
  }
}

}  // namespace
}  // namespace optout::url
