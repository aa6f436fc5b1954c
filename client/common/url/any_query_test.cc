#include "client/common/url/any_query.h"

#include <string>
#include <vector>

#include "client/common/url/lookup_expressions.h"
#include "client/common/url/url_error.h"
#include "gtest/gtest.h"

namespace optout::url {
namespace {

const PublicSuffixList& Psl() {
  static const PublicSuffixList* const psl = PublicSuffixList::Load()->release();
  return *psl;
}

// The any-query key of `raw`, or the error kind's name.
std::string Key(absl::string_view raw) {
  absl::StatusOr<CanonicalUrl> url = Canonicalize(raw);
  if (!url.ok()) return "canonicalize failed";
  absl::StatusOr<std::string> key = AnyQueryExpression(*url);
  if (!key.ok()) return std::string(UrlErrorKindName(*GetUrlErrorKind(key.status())));
  return *key;
}

// What the server does for a checked URL: the expression at
// AnyQueryExpressionIndex is the only one an any-query entry may match.
bool Matches(absl::string_view registered, absl::string_view candidate) {
  const std::string key = Key(registered);
  const CanonicalUrl url = *Canonicalize(candidate);
  const std::vector<std::string> exprs = LookupExpressions(url, Psl());
  return exprs.at(AnyQueryExpressionIndex(url)) == key;
}

TEST(AnyQuery, KeyIsHostAndPathWithoutTheQuery) {
  EXPECT_EQ(Key("https://cdn.example/x.jpg?name=large"), "cdn.example/x.jpg");
  EXPECT_EQ(Key("https://cdn.example/x.jpg"), "cdn.example/x.jpg");
  EXPECT_EQ(Key("HTTP://CDN.example:8080/x.jpg?a=1#frag"), "cdn.example/x.jpg");
  EXPECT_EQ(Key("https://cdn.example/gallery/?page=2"), "cdn.example/gallery/");
}

TEST(AnyQuery, RootPathRefused) {
  EXPECT_EQ(Key("https://cdn.example/?name=large"), "ANY_QUERY_ROOT_PATH");
  EXPECT_EQ(Key("https://cdn.example"), "ANY_QUERY_ROOT_PATH");
}

TEST(AnyQuery, MatchesThePathWithAnyQueryOrNone) {
  const char* registered = "https://cdn.example/x.jpg?name=large";
  for (const char* candidate :
       {"https://cdn.example/x.jpg?name=large", "https://cdn.example/x.jpg?name=small",
        "https://cdn.example/x.jpg?w=10&name=small", "https://cdn.example/x.jpg?name=small&w=10",
        "https://cdn.example/x.jpg", "https://cdn.example/x.jpg?", "http://cdn.example/x.jpg#top",
        "https://cdn.example/a/../x.jpg?v=2"}) {
    EXPECT_TRUE(Matches(registered, candidate)) << candidate;
  }
}

TEST(AnyQuery, OtherPathsAndHostsDoNotMatch) {
  const char* registered = "https://cdn.example/x.jpg?name=large";
  for (const char* candidate :
       {"https://cdn.example/y.jpg?name=large", "https://cdn.example/x.jpg/more?name=large",
        "https://cdn.example/x.jpeg", "https://cdn.example/?name=large", "https://cdn.example/",
        "https://img.cdn.example/x.jpg?name=large", "https://other.example/x.jpg"}) {
    EXPECT_FALSE(Matches(registered, candidate)) << candidate;
  }
}

// Why "/" is refused: every query-less URL on the host has "host/" at the
// index an any-query key is looked up at.
TEST(AnyQuery, TheSecondExpressionOfAQuerylessUrlIsTheHostRoot) {
  const CanonicalUrl url = *Canonicalize("https://cdn.example/a/b.jpg");
  ASSERT_EQ(AnyQueryExpressionIndex(url), 0u);
  EXPECT_EQ(LookupExpressions(url, Psl()).at(1), "cdn.example/");
}

}  // namespace
}  // namespace optout::url
