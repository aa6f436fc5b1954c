#include "client/common/url/lookup_expressions.h"

#include <set>
#include <string>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/common/url/test_vectors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::url {
namespace {

using ::optout::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

const PublicSuffixList& Psl() {
  static const PublicSuffixList* const psl = [] {
    absl::StatusOr<std::unique_ptr<PublicSuffixList>> loaded = PublicSuffixList::Load();
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.status();
      std::abort();
    }
    return loaded->release();
  }();
  return *psl;
}

std::vector<std::string> Exprs(absl::string_view raw) {
  absl::StatusOr<CanonicalUrl> url = Canonicalize(raw);
  EXPECT_THAT(url, IsOk());
  if (!url.ok()) return {};
  return LookupExpressions(*url, Psl());
}

void ExpectWellFormed(const CanonicalUrl& url, const std::vector<std::string>& exprs) {
  ASSERT_FALSE(exprs.empty());
  EXPECT_EQ(exprs.front(), url.ExactExpression());
  EXPECT_LE(exprs.size(), static_cast<size_t>(kMaxExpressions));
  EXPECT_EQ(std::set<std::string>(exprs.begin(), exprs.end()).size(), exprs.size())
      << "duplicates in " << absl::StrJoin(exprs, ",");
}

TEST(LookupExpressionVectors, EveryRowOfExpressionsTsv) {
  absl::StatusOr<std::vector<testing::VectorRow>> rows = testing::ReadVectors("expressions.tsv");
  ASSERT_THAT(rows, IsOk());
  ASSERT_GE(rows->size(), 25u);
  for (const testing::VectorRow& row : *rows) {
    absl::StatusOr<CanonicalUrl> url = Canonicalize(row.input);
    ASSERT_THAT(url, IsOk()) << "expressions.tsv line " << row.line << ": " << url.status();
    const std::vector<std::string> exprs = LookupExpressions(*url, Psl());
    const std::set<std::string> got(exprs.begin(), exprs.end());
    const std::vector<std::string> want_list = absl::StrSplit(row.expected, ',');
    const std::set<std::string> want(want_list.begin(), want_list.end());
    EXPECT_EQ(got, want) << "expressions.tsv line " << row.line << "\n got: "
                         << absl::StrJoin(got, ",") << "\nwant: " << absl::StrJoin(want, ",");
    ExpectWellFormed(*url, exprs);
    // Idempotence of the expression set (URL_RULES.md#overview).
    absl::StatusOr<CanonicalUrl> again = Canonicalize(url->ToString());
    ASSERT_THAT(again, IsOk());
    EXPECT_EQ(LookupExpressions(*again, Psl()), exprs);
  }
}

TEST(LookupExpressions, WorkedExamples) {  // URL_RULES.md#examples
  EXPECT_THAT(Exprs("https://www.example.co.uk/img/cat.png?s=2"),
              ElementsAre("www.example.co.uk/img/cat.png?s=2", "www.example.co.uk/img/cat.png",
                          "www.example.co.uk/", "www.example.co.uk/img/",
                          "example.co.uk/img/cat.png?s=2", "example.co.uk/img/cat.png",
                          "example.co.uk/", "example.co.uk/img/"));
  EXPECT_THAT(Exprs("https://bob.github.io/p.png"),
              ElementsAre("bob.github.io/p.png", "bob.github.io/"));
  EXPECT_THAT(Exprs("http://[::ffff:192.0.2.7]/x/y"),
              ElementsAre("192.0.2.7/x/y", "192.0.2.7/", "192.0.2.7/x/"));
  EXPECT_THAT(Exprs("https://photos.example.com/users/lapine/2024/01/a.jpg"),
              UnorderedElementsAre(
                  "photos.example.com/users/lapine/2024/01/a.jpg", "photos.example.com/",
                  "photos.example.com/users/", "photos.example.com/users/lapine/",
                  "photos.example.com/users/lapine/2024/", "example.com/users/lapine/2024/01/a.jpg",
                  "example.com/", "example.com/users/", "example.com/users/lapine/",
                  "example.com/users/lapine/2024/"));
}

TEST(LookupExpressions, HostSuffixBounds) {  // URL_RULES.md#host-suffixes
  EXPECT_THAT(Exprs("http://a.b.c.d.e.f.example.com/"),
              ElementsAre("a.b.c.d.e.f.example.com/", "d.e.f.example.com/", "e.f.example.com/",
                          "f.example.com/", "example.com/"));
  EXPECT_THAT(Exprs("http://co.uk/"), ElementsAre("co.uk/"));
  EXPECT_THAT(Exprs("http://com/"), ElementsAre("com/"));
  EXPECT_THAT(Exprs("http://localhost/"), ElementsAre("localhost/"));
  EXPECT_THAT(Exprs("http://x.compute.amazonaws.com/"), ElementsAre("x.compute.amazonaws.com/"));
  EXPECT_THAT(Exprs("http://y.x.compute.amazonaws.com/"),
              ElementsAre("y.x.compute.amazonaws.com/"));
  EXPECT_THAT(Exprs("http://z.y.x.compute.amazonaws.com/"),
              ElementsAre("z.y.x.compute.amazonaws.com/", "y.x.compute.amazonaws.com/"));
  EXPECT_THAT(Exprs("http://kobe.jp/"), ElementsAre("kobe.jp/"));
  EXPECT_THAT(Exprs("http://www.ck/"), ElementsAre("www.ck/"));
  EXPECT_THAT(Exprs("http://a.www.ck/"), ElementsAre("a.www.ck/", "www.ck/"));
  EXPECT_THAT(Exprs("http://[2001:db8::1]/"), ElementsAre("[2001:db8::1]/"));
  EXPECT_THAT(Exprs("http://1.2.3.4/"), ElementsAre("1.2.3.4/"));
  // Escaped bytes in a host stay escaped in the expressions.
  EXPECT_THAT(Exprs("http://a.%01%80.com/"), ElementsAre("a.%01%80.com/", "%01%80.com/"));
  // Unicode PSL rules match the A-label form.
  EXPECT_THAT(Exprs("http://a.b.\xe5\x85\xac\xe5\x8f\xb8.cn/"),
              ElementsAre("a.b.xn--55qx5d.cn/", "b.xn--55qx5d.cn/"));
}

TEST(LookupExpressions, PathPrefixes) {  // URL_RULES.md#path-prefixes
  EXPECT_THAT(Exprs("http://x/1/2/3/4/5.jpg?x"),
              ElementsAre("x/1/2/3/4/5.jpg?x", "x/1/2/3/4/5.jpg", "x/", "x/1/", "x/1/2/",
                          "x/1/2/3/"));
  EXPECT_THAT(Exprs("http://x/q?"), ElementsAre("x/q", "x/"));
  EXPECT_THAT(Exprs("http://x/?"), ElementsAre("x/"));
  EXPECT_THAT(Exprs("http://x/?a"), ElementsAre("x/?a", "x/"));
  EXPECT_THAT(Exprs("http://x/a/b/"), ElementsAre("x/a/b/", "x/", "x/a/"));
  EXPECT_THAT(Exprs("http://x/a/b/c/d/"),
              ElementsAre("x/a/b/c/d/", "x/", "x/a/", "x/a/b/", "x/a/b/c/"));
  EXPECT_THAT(Exprs("http://x/a%20b/c"), ElementsAre("x/a%20b/c", "x/", "x/a%20b/"));
}

TEST(LookupExpressions, AtMostThirty) {
  const std::vector<std::string> exprs = Exprs("http://a.b.c.d.e.f.example.com/1/2/3/4/5?q");
  EXPECT_EQ(exprs.size(), 30u);
}

TEST(LookupExpressions, ExpressionListReuse) {
  ExpressionList list;
  absl::StatusOr<CanonicalUrl> a = Canonicalize("http://a.example.com/1/2?q");
  absl::StatusOr<CanonicalUrl> b = Canonicalize("http://b.org/");
  ComputeLookupExpressions(*a, Psl(), &list);
  EXPECT_EQ(list.size(), 8u);
  ComputeLookupExpressions(*b, Psl(), &list);
  EXPECT_THAT(list.ToVector(), ElementsAre("b.org/"));
  EXPECT_EQ(list[0], "b.org/");
}

}  // namespace
}  // namespace optout::url
