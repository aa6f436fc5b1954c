#include "client/common/protocol/url_digests.h"

#include <memory>
#include <string>
#include <vector>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::protocol {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

class UrlDigestsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto psl = url::PublicSuffixList::Load();
    ASSERT_THAT(psl, IsOk());
    psl_ = std::move(*psl).release();
  }
  static const url::PublicSuffixList* psl_;
};
const url::PublicSuffixList* UrlDigestsTest::psl_ = nullptr;

// The digests, recomputed the long way: canonical URL -> expression strings
// -> SHA-256 of each.
std::string Expected(absl::string_view raw, const url::PublicSuffixList& psl) {
  auto canonical = url::Canonicalize(raw);
  if (!canonical.ok()) return "";
  std::string out;
  for (const std::string& e : url::LookupExpressions(*canonical, psl)) {
    const digest::Sha256Digest d = digest::Sha256(e);
    out.append(d.begin(), d.end());
  }
  return out;
}

TEST_F(UrlDigestsTest, DigestsAreTheSha256OfEachLookupExpressionExactFirst) {
  UrlDigests digests;
  // One object reused across URLs of different expression counts.
  for (const char* raw : {"HTTP://Img.Example.com:80/a/b/c/d.jpg?x=1#f",
                          "https://b\xC3\xBC" "cher.example/%7Euser/",
                          "http://[2001:db8::1]/x.png", "https://a.b.c.d.e.f.example.co.uk/p",
                          "http://192.168.0.1/a",
                          // Expressions longer than one SHA-256 block among
                          // short ones, more than four of each: hashed apart
                          // from the short ones, which go four at a time.
                          "https://cdn.images.example.com/a/b/a-rather-long-directory-name/"
                          "file-name-long-enough.jpg?size=large&v=2"}) {
    ASSERT_THAT(ComputeUrlDigests(raw, *psl_, &digests), IsOk()) << raw;
    EXPECT_EQ(digests.packed(), Expected(raw, *psl_)) << raw;
    ASSERT_GE(digests.size(), 1u);
    const digest::Sha256Digest exact =
        ExpressionDigest(url::Canonicalize(raw)->ExactExpression());
    EXPECT_EQ(digests.digest(0), digest::AsStringView(exact)) << raw;
  }
}

// The wire rule a digest-only client relies on: the digest of an any-query
// URL's key (what registration stores) is digest 1 of the same path with a
// query and digest 0 without, wherever the parameters stand.
TEST_F(UrlDigestsTest, AnyQueryKeyIsDigestOneWithAQueryAndDigestZeroWithout) {
  auto registered = url::Canonicalize("https://cdn.example/photos/x.jpg?name=large");
  ASSERT_THAT(registered, IsOk());
  auto key = url::AnyQueryExpression(*registered);
  ASSERT_THAT(key, IsOk());
  const digest::Sha256Digest key_digest = ExpressionDigest(*key);
  UrlDigests digests;
  for (const char* raw : {"https://cdn.example/photos/x.jpg?name=small",
                          "https://cdn.example/photos/x.jpg?w=1&name=small"}) {
    ASSERT_THAT(ComputeUrlDigests(raw, *psl_, &digests), IsOk()) << raw;
    EXPECT_EQ(digests.digest(1), digest::AsStringView(key_digest)) << raw;
  }
  ASSERT_THAT(ComputeUrlDigests("https://cdn.example/photos/x.jpg", *psl_, &digests), IsOk());
  EXPECT_EQ(digests.digest(0), digest::AsStringView(key_digest));
  ASSERT_THAT(ComputeUrlDigests("https://cdn.example/photos/y.jpg?name=small", *psl_, &digests),
              IsOk());
  for (size_t i = 0; i < digests.size(); ++i) {
    EXPECT_NE(digests.digest(i), digest::AsStringView(key_digest)) << i;
  }
}

TEST_F(UrlDigestsTest, MalformedUrlLeavesNoDigests) {
  UrlDigests digests;
  ASSERT_THAT(ComputeUrlDigests("https://a.example/1.jpg", *psl_, &digests), IsOk());
  EXPECT_THAT(ComputeUrlDigests("gopher://x/", *psl_, &digests),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UNSUPPORTED_SCHEME")));
  EXPECT_EQ(digests.size(), 0u);
  EXPECT_TRUE(digests.packed().empty());
}

}  // namespace
}  // namespace optout::protocol
