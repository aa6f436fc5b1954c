// `optout hash` as a user runs it: one line per file in input order, the
// reference PDQ hash and quality, a JSON form, and a clear error (naming the
// file) with a non-zero exit after hashing the rest.
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::OptoutCliBinary;
using testing::RunCommand;

std::string Image(const std::string& name) {
  return testing::TestDataPath("pdq/images/" + name);
}

// The expected.tsv row of an image: {pdq_hex, quality}.
std::pair<std::string, std::string> Expected(const std::string& name) {
  std::ifstream in(testing::TestDataPath("pdq/expected.tsv"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() == 3 && cols[0] == "images/" + name) return {cols[1], cols[2]};
  }
  return {};
}

TEST(HashCliTest, PrintsReferenceHashQualityAndDigestsPerFileInOrder) {
  const auto a = Expected("d01_plasma__orig.jpg");
  const auto b = Expected("d10_shapes__orig.png");
  ASSERT_FALSE(a.first.empty());
  auto result = RunCommand({OptoutCliBinary(), "hash", Image("d01_plasma__orig.jpg"),
                            Image("d10_shapes__orig.png")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> lines = absl::StrSplit(result.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
  ASSERT_EQ(first.size(), 5u) << lines[0];  // pdq_hex quality sha256 md5 path
  EXPECT_EQ(first[0], a.first);
  EXPECT_EQ(first[1], a.second);
  EXPECT_EQ(first[2].size(), 64u);
  EXPECT_EQ(first[3].size(), 32u);
  EXPECT_EQ(first[4], Image("d01_plasma__orig.jpg"));
  EXPECT_EQ(lines[1].substr(0, 64), b.first);
}

TEST(HashCliTest, JsonAndDihedralOutputCarryTheEightVariants) {
  auto result = RunCommand({OptoutCliBinary(), "--json", "hash", "--dihedral",
                            Image("d01_plasma__orig.jpg")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["pdq"], Expected("d01_plasma__orig.jpg").first);
  EXPECT_EQ(json["quality"], 100);
  ASSERT_TRUE(json.contains("dihedral")) << result.out;
  EXPECT_EQ(json["dihedral"].size(), 8u);
}

TEST(HashCliTest, BadFileIsNamedAndTheRestAreStillHashed) {
  auto result = RunCommand({OptoutCliBinary(), "hash", "/nonexistent/photo.jpg",
                            Image("d01_plasma__orig.jpg")});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.err, HasSubstr("/nonexistent/photo.jpg"));
  EXPECT_THAT(result.out, HasSubstr(Expected("d01_plasma__orig.jpg").first));
}

}  // namespace
}  // namespace optout
