// URL columns and keys are found the same way in every format.
#include "client/dataset/field_names.h"

#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

TEST(FieldNamesTest, CandidatesAreCaseInsensitiveBestFirst) {
  EXPECT_EQ(FindUrlName({"caption", "URL"}, ""), 1);
  EXPECT_EQ(FindUrlName({"Image_URL", " url "}, ""), 1);  // url beats image_url
  EXPECT_EQ(FindUrlName({"caption", "text"}, ""), -1);
  // --url-column: that name only; exact case beats another case.
  EXPECT_EQ(FindUrlName({"url", "Link"}, "link"), 1);
  EXPECT_EQ(FindUrlName({"SRC", "src"}, "src"), 1);
  EXPECT_EQ(FindUrlName({"url"}, "photo"), -1);
}

TEST(FieldNamesTest, JsonKeysUseTheSameRules) {
  const auto laion = nlohmann::json::parse(R"({"TEXT": "x", "URL": "https://a.example/"})");
  auto it = FindUrlKey(laion, "");
  ASSERT_NE(it, laion.end());
  EXPECT_EQ(it.key(), "URL");
  const auto both = nlohmann::json::parse(R"({"image_url": "b", "Url": "a"})");
  EXPECT_EQ(FindUrlKey(both, "").key(), "Url");
  EXPECT_EQ(FindUrlKey(both, "IMAGE_URL").key(), "image_url");
  const auto none = nlohmann::json::parse(R"({"caption": "x"})");
  EXPECT_EQ(FindUrlKey(none, ""), none.end());
  const auto md5 = nlohmann::json::parse(R"({"MD5": "00"})");
  EXPECT_EQ(FindKeyIgnoringCase(md5, "md5").key(), "MD5");
}

}  // namespace
}  // namespace optout::dataset
