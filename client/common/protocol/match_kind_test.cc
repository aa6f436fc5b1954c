#include "client/common/protocol/match_kind.h"

#include <string>

#include "gtest/gtest.h"

namespace optout::protocol {
namespace {

TEST(MatchKindTest, NamesAreTheOnesPrintedAndWrittenToJson) {
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_NONE), "none");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_URL), "url");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_URL_ANY_QUERY), "url_any_query");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_SCOPE), "scope");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_PDQ), "pdq");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_SHA256), "sha256");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_MD5), "md5");
  EXPECT_STREQ(MatchKindName(static_cast<v1::MatchKind>(99)), "none");
  EXPECT_EQ(kMatchKindCount, 7);
}

TEST(MatchKindTest, StrongerKindFollowsTheDocumentedOrder) {
  const v1::MatchKind strongest_first[] = {
      v1::MATCH_KIND_URL,    v1::MATCH_KIND_URL_ANY_QUERY, v1::MATCH_KIND_SCOPE,
      v1::MATCH_KIND_PDQ,    v1::MATCH_KIND_SHA256,        v1::MATCH_KIND_MD5,
      v1::MATCH_KIND_NONE};
  constexpr int n = sizeof(strongest_first) / sizeof(strongest_first[0]);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(MatchKindStrength(strongest_first[i]), i + 1);
    for (int j = 0; j < n; ++j) {
      const v1::MatchKind expected = strongest_first[i < j ? i : j];
      EXPECT_EQ(StrongerMatchKind(strongest_first[i], strongest_first[j]), expected)
          << MatchKindName(strongest_first[i]) << " vs " << MatchKindName(strongest_first[j]);
    }
  }
  EXPECT_EQ(MatchKindStrength(static_cast<v1::MatchKind>(99)), 7);
  EXPECT_EQ(StrongerMatchKind(static_cast<v1::MatchKind>(99), v1::MATCH_KIND_MD5),
            v1::MATCH_KIND_MD5);
}

}  // namespace
}  // namespace optout::protocol
