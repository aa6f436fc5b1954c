#include "client/common/protocol/match_kind.h"

#include <string>

#include "gtest/gtest.h"

namespace optout::protocol {
namespace {

TEST(MatchKindTest, NamesAreTheOnesPrintedAndWrittenToJson) {
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_NONE), "none");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_URL), "url");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_SCOPE), "scope");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_PDQ), "pdq");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_SHA256), "sha256");
  EXPECT_STREQ(MatchKindName(v1::MATCH_KIND_MD5), "md5");
  EXPECT_STREQ(MatchKindName(static_cast<v1::MatchKind>(99)), "none");
  EXPECT_EQ(kMatchKindCount, 6);
}

TEST(MatchKindTest, StrongerKindFollowsTheDocumentedOrder) {
  const v1::MatchKind strongest_first[] = {v1::MATCH_KIND_URL, v1::MATCH_KIND_SCOPE,
                                           v1::MATCH_KIND_PDQ, v1::MATCH_KIND_SHA256,
                                           v1::MATCH_KIND_MD5, v1::MATCH_KIND_NONE};
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      const v1::MatchKind expected = strongest_first[i < j ? i : j];
      EXPECT_EQ(StrongerMatchKind(strongest_first[i], strongest_first[j]), expected)
          << MatchKindName(strongest_first[i]) << " vs " << MatchKindName(strongest_first[j]);
    }
  }
}

}  // namespace
}  // namespace optout::protocol
