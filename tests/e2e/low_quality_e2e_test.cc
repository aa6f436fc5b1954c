// The low-quality PDQ tier end to end (README.md#matching): an image of PDQ
// quality 15..49 registered with `optout register --image` through a real
// optoutd keeps its hashes; its re-encoded copy matches by PDQ, an
// unrelated low-quality image does not, and a flat image (quality 0) is
// still registered by its file digests only.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_image_test_base.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using ::testing::HasSubstr;

class LowQualityE2eTest : public testing::CliImageTest {
 protected:
  // What the receipt says was registered of the image (receipt "registered").
  nlohmann::json Register(const std::string& path) {
    const std::string receipt = server_.root() + "/receipt" + std::to_string(++receipts_) + ".json";
    auto r = Optout({"register", "--image", path, "--receipt", receipt});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(receipt);
    std::stringstream text;
    text << in.rdbuf();
    auto saved = nlohmann::json::parse(text.str(), nullptr, false);
    return saved.is_discarded() ? saved : saved["registered"];
  }

  int receipts_ = 0;
};

std::string PdqImage(const std::string& name) {
  return testing::TestDataPath("pdq/images/" + name);
}

TEST_F(LowQualityE2eTest, ALowQualityOriginalsCopiesMatchAndUnrelatedLowQualityImagesDoNot) {
  // v09 (PDQ quality 30) and d25 (33): below --min_pdq_quality (50).
  for (const std::string& original : {Photo("v09__orig.jpg"), PdqImage("d25_lowcontrast__orig.png")}) {
    const nlohmann::json registered = Register(original);
    ASSERT_TRUE(registered.is_object()) << original;
    const auto& image = registered["images"][0];
    EXPECT_LT(image["quality"].get<int>(), 50) << original;
    EXPECT_EQ(image["pdq_registered"], true) << original;
    EXPECT_EQ(image["pdq_low_quality"], true) << original;
    EXPECT_GT(image["regions"].get<int>(), 0) << original;
  }
  // Re-encoded copies (another file: no digest match) match by PDQ.
  for (const std::string& copy :
       {Photo("v09__recompress.jpg"), Photo("v09__gray.jpg"), PdqImage("d25_lowcontrast__jpeg30.jpg")}) {
    const nlohmann::json result = Check(copy);
    ASSERT_TRUE(result.is_object()) << copy;
    EXPECT_EQ(result["matched"], true) << copy << ": " << result.dump();
    EXPECT_EQ(result["match"], "pdq") << copy;
  }
  // Unrelated images, low-quality (26) and normal, do not.
  for (const std::string& other :
       {PdqImage("d25_lowcontrast__unrel1.png"), Photo("v01__recompress.jpg"),
        Photo("v13__orig.jpg")}) {
    const nlohmann::json result = Check(other);
    ASSERT_TRUE(result.is_object()) << other;
    EXPECT_EQ(result["matched"], false) << other << ": " << result.dump();
  }
}

TEST_F(LowQualityE2eTest, AFlatImageIsStillRegisteredByItsFileDigestsOnly) {
  const nlohmann::json registered = Register(PdqImage("dx03_flat_gray__orig.png"));
  ASSERT_TRUE(registered.is_object());
  EXPECT_EQ(registered["images"][0]["quality"], 0);
  EXPECT_EQ(registered["images"][0]["pdq_registered"], false);
}

TEST_F(LowQualityE2eTest, TheServerRefusesQualitiesBelowItsFloorNamingTheField) {
  const std::string hash(64, 'a');  // 128 of 256 bits set
  auto r = Optout({"register", "--pdq", hash + ":14", "--no-receipt"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--pdq " + hash + ":14: quality: quality 14 is outside 15..100"));
  auto info = Optout({"info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["low_quality_pdq_floor"], 15);
  EXPECT_EQ(j["low_quality_pdq_distance"], 20);
  EXPECT_EQ(j["pdq_region_tiers"], true);
}

}  // namespace
}  // namespace optout
