#include "client/common/url/scope.h"

#include <algorithm>

#include "client/common/url/lookup_expressions.h"
#include "client/common/url/url_error.h"
#include "gtest/gtest.h"

namespace optout::url {
namespace {

const PublicSuffixList& Psl() {
  static const PublicSuffixList* const psl = PublicSuffixList::Load()->release();
  return *psl;
}

std::string Scope(absl::string_view raw) {
  absl::StatusOr<CanonicalUrl> url = Canonicalize(raw);
  if (!url.ok()) return "canonicalize failed";
  absl::StatusOr<std::string> key = ScopeExpression(*url, Psl());
  if (!key.ok()) return std::string(UrlErrorKindName(*GetUrlErrorKind(key.status())));
  return *key;
}

bool Matches(absl::string_view scope_url, absl::string_view candidate) {
  const std::string key = Scope(scope_url);
  const std::vector<std::string> exprs = LookupExpressions(*Canonicalize(candidate), Psl());
  return std::find(exprs.begin(), exprs.end(), key) != exprs.end();
}

TEST(Scope, Keys) {
  EXPECT_EQ(Scope("https://example.com/"), "example.com/");
  EXPECT_EQ(Scope("https://example.com"), "example.com/");
  EXPECT_EQ(Scope("http://Example.COM/users/lapine/"), "example.com/users/lapine/");
  EXPECT_EQ(Scope("https://a.b.c.example.co.uk/x/y/z/"), "a.b.c.example.co.uk/x/y/z/");
  EXPECT_EQ(Scope("https://bob.github.io/"), "bob.github.io/");
  EXPECT_EQ(Scope("http://1.2.3.4/"), "1.2.3.4/");          // IP: only that IP matches
  EXPECT_EQ(Scope("http://[::1]/a/"), "[::1]/a/");
  EXPECT_EQ(Scope("https://www.city.kawasaki.jp/"), "www.city.kawasaki.jp/");
}

TEST(Scope, PublicSuffixRefused) {
  for (const char* url : {"https://co.uk/", "https://github.io/", "https://com/",
                          "http://localhost/", "https://kobe.jp/", "https://x.kobe.jp/",
                          "http://compute.amazonaws.com/", "http://internal/"}) {
    EXPECT_EQ(Scope(url), "SCOPE_PUBLIC_SUFFIX") << url;
  }
}

TEST(Scope, TooDeepHostRefused) {
  EXPECT_EQ(Scope("https://a.b.c.example.com/"), "a.b.c.example.com/");
  EXPECT_EQ(Scope("https://d.a.b.c.example.com/"), "SCOPE_TOO_DEEP_HOST");
  EXPECT_EQ(Scope("https://d.a.b.c.example.co.uk/"), "SCOPE_TOO_DEEP_HOST");
}

TEST(Scope, PathRules) {
  EXPECT_EQ(Scope("https://example.com/users/lapine"), "SCOPE_PATH_NO_TRAILING_SLASH");
  EXPECT_EQ(Scope("https://example.com/a.jpg"), "SCOPE_PATH_NO_TRAILING_SLASH");
  EXPECT_EQ(Scope("https://example.com/a/b/c/"), "example.com/a/b/c/");
  EXPECT_EQ(Scope("https://example.com/a/b/c/d/"), "SCOPE_PATH_TOO_DEEP");
  EXPECT_EQ(Scope("https://example.com/a/b/c/d/.."), "example.com/a/b/c/");  // canonical first
  EXPECT_EQ(Scope("https://example.com/?x=1"), "SCOPE_HAS_QUERY");
  EXPECT_EQ(Scope("https://example.com/a/?"), "SCOPE_HAS_QUERY");
}

TEST(Scope, KeysMatchTheUrlsTheyShould) {  // URL_RULES.md#exact-urls-and-scopes
  EXPECT_TRUE(Matches("https://example.com/", "http://example.com/a/b/c/d/e/f.jpg?x"));
  EXPECT_TRUE(Matches("https://example.com/", "http://a.b.c.example.com/f.jpg"));
  EXPECT_TRUE(Matches("https://a.b.c.example.com/", "http://x.y.a.b.c.example.com/f.jpg"));
  EXPECT_FALSE(Matches("https://a.example.com/", "http://b.example.com/f.jpg"));
  EXPECT_TRUE(Matches("https://example.com/users/lapine/", "http://cdn.example.com/users/lapine/1/2/3/4.jpg"));
  EXPECT_TRUE(Matches("https://example.com/users/lapine/", "http://example.com/users/lapine/"));
  EXPECT_FALSE(Matches("https://example.com/users/lapine/", "http://example.com/users/lapine2/a.jpg"));
  EXPECT_TRUE(Matches("https://example.com/a/b/c/", "http://example.com/a/b/c/d/e/f/g.jpg"));
  EXPECT_TRUE(Matches("https://bob.github.io/", "https://bob.github.io/p.png"));
  EXPECT_FALSE(Matches("https://bob.github.io/", "https://alice.github.io/p.png"));
}

}  // namespace
}  // namespace optout::url
