// The individual's and the crawler's journeys through the optout command:
// register from an image with a receipt, get/revoke by receipt, check images,
// and stream URLs through `check --stdin`.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/scope_prover.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::OptoutCliBinary;
using testing::RunCommand;

std::string Image(const std::string& name) {
  return testing::TestDataPath("pdq/images/" + name);
}

class JourneysE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog(); }
  testing::CommandResult Optout(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server_.address()});
    return RunCommand(args, stdin_text);
  }
  nlohmann::json CheckImage(const std::string& name) {
    auto r = Optout({"check", "--json", "--image", Image(name)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto result = nlohmann::json::parse(r.out)["results"][0];
    EXPECT_EQ(result["item"], "image:" + Image(name));
    return result;
  }
  testing::ScopeProver prover_;
  testing::OptoutdProcess server_{prover_.ServerFlags()};
};

TEST_F(JourneysE2eTest, RegisterImageWithReceiptThenGetAndRevokeByReceipt) {
  const std::string receipt = server_.root() + "/me/receipt.json";
  std::filesystem::create_directories(server_.root() + "/me");
  auto reg = Optout({"register", "--image", Image("d01_plasma__orig.jpg"), "--dihedral", "--url",
                     "https://me.example/photo.jpg", "--receipt", receipt});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_THAT(reg.out, HasSubstr(receipt));
  EXPECT_THAT(reg.out, HasSubstr("cannot recover"));

  struct stat st;
  ASSERT_EQ(stat(receipt.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(receipt);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto saved = nlohmann::json::parse(ss.str());
  EXPECT_EQ(saved["server"], server_.address());
  EXPECT_EQ(saved["registered"]["urls"][0], "https://me.example/photo.jpg");
  EXPECT_EQ(saved["registered"]["images"][0]["quality"], 100);
  EXPECT_EQ(saved["registered"]["images"][0]["dihedral"].size(), 7u);
  EXPECT_EQ(saved["id"].get<std::string>().size(), 32u);

  auto get = Optout({"get", "--json", "--receipt", receipt});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  const auto held = nlohmann::json::parse(get.out);
  EXPECT_EQ(held["id"], saved["id"]);
  EXPECT_EQ(held["urls"], 1);
  EXPECT_EQ(held["pdq"], 8);  // the hash and its 7 distinct rotations/flips
  EXPECT_EQ(held["sha256"], 1);
  EXPECT_EQ(held["md5"], 1);

  // A near-duplicate, a rotated copy and the exact file match; others do not.
  EXPECT_EQ(CheckImage("d01_plasma__jpeg30.jpg")["match"], "pdq");
  EXPECT_EQ(CheckImage("d01_plasma__rot90.jpg")["match"], "pdq");
  // The exact file answers with its SHA-256 item's match id, as listed in
  // the receipt; never with the opt-out id.
  std::string sha256_id;
  for (const auto& m : saved["match_ids"]) {
    if (m["kind"] == "sha256") sha256_id = m["match_id"];
  }
  EXPECT_EQ(CheckImage("d01_plasma__orig.jpg")["ids"][0], sha256_id);
  EXPECT_NE(sha256_id, saved["id"]);
  EXPECT_EQ(CheckImage("d01_plasma__unrel1.jpg")["matched"], false);

  // The receipt is never overwritten.
  auto again = Optout({"register", "--url", "https://me.example/2.jpg", "--receipt", receipt});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already exists"));

  auto revoke = Optout({"revoke", "--receipt", receipt});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(CheckImage("d01_plasma__jpeg30.jpg")["matched"], false);
  auto gone = Optout({"get", "--receipt", receipt});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_THAT(gone.err, HasSubstr("already revoked on"));
}

TEST_F(JourneysE2eTest, ReceiptDefaultsToHomeAndServerComesFromIt) {
  const std::string home = server_.root() + "/home";
  std::filesystem::create_directories(home);
  auto reg = RunCommand({"/usr/bin/env", "HOME=" + home, "OPTOUT_SERVER=", OptoutCliBinary(),
                         "--server", server_.address(), "register", "--json", "--url",
                         "https://home.example/a.jpg"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  const auto out = nlohmann::json::parse(reg.out);
  const std::string receipt = out["receipt"];
  EXPECT_EQ(receipt, home + "/.optout/receipt-" + out["id"].get<std::string>() + ".json");
  struct stat st;
  ASSERT_EQ(stat((home + "/.optout").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // No --server: the receipt's server is used.
  auto get = RunCommand({"/usr/bin/env", "OPTOUT_SERVER=", OptoutCliBinary(), "get", "--receipt",
                         receipt});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  auto neither = Optout({"get", "--id", out["id"]});
  EXPECT_NE(neither.exit_code, 0);
  EXPECT_THAT(neither.err, HasSubstr("--receipt"));
}

// Quality 33 is below --min_pdq_quality (50) but above the low-quality
// floor (15): the owner is told, and a re-encoded copy still matches by PDQ
// at the tier's stricter distance.
TEST_F(JourneysE2eTest, LowQualityImageIsRegisteredInTheLowQualityTier) {
  auto reg = Optout({"register", "--no-receipt", "--json", "--image",
                     Image("d25_lowcontrast__orig.png")});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_THAT(reg.err, HasSubstr("registered as low-quality"));
  EXPECT_EQ(CheckImage("d25_lowcontrast__orig.png")["match"], "sha256");
  const nlohmann::json copy = CheckImage("d25_lowcontrast__jpeg30.jpg");
  EXPECT_EQ(copy["matched"], true);
  EXPECT_EQ(copy["match"], "pdq");
}

TEST_F(JourneysE2eTest, CheckStdinAnswersOneJsonLinePerUrlInOrder) {
  auto reg = Optout({"register", "--no-receipt", "--json", "--url", "https://c.example/a.jpg",
                     "--scope", "https://c.example/private/"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  ASSERT_TRUE(prover_.ProveWithCli({"--server", server_.address()}, nlohmann::json::parse(reg.out))
                  .ok());
  const std::string id = nlohmann::json::parse(reg.out)["match_ids"][0]["match_id"];  // the URL's
  std::string input =
      "http://C.example/a.jpg\n"
      "https://c.example/private/deep/x.png\r\n"
      "https://c.example/b.jpg\n"
      "gopher://bad/\n"
      "\n";
  // Enough lines to need several batches, all after the interesting ones.
  for (int i = 0; i < 20000; ++i) input += "https://bulk.example/" + std::to_string(i) + ".jpg\n";
  input += "https://" + std::string(100000, 'a') + "\n";  // cut, reported as too long
  input += "https://c.example/a.jpg";                       // no final newline
  auto run = Optout({"check", "--stdin"}, input);
  // Three lines could not be checked: they answer null and the exit status says so.
  ASSERT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("3 of 20007 lines could not be checked"));
  std::vector<std::string> lines = absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 20007u);
  auto line = [&](size_t i) { return nlohmann::json::parse(lines[i]); };
  EXPECT_EQ(line(0)["url"], "http://C.example/a.jpg");
  EXPECT_EQ(line(0)["match"], "url");
  EXPECT_EQ(line(0)["ids"][0], id);
  EXPECT_EQ(line(1)["match"], "scope");
  EXPECT_EQ(line(2)["matched"], false);
  EXPECT_EQ(line(2)["match"], "none");
  EXPECT_TRUE(line(3)["matched"].is_null());
  EXPECT_TRUE(line(3)["match"].is_null());
  EXPECT_THAT(line(3)["error"].get<std::string>(), HasSubstr("UNSUPPORTED_SCHEME"));
  EXPECT_THAT(line(4)["error"].get<std::string>(), HasSubstr("EMPTY_INPUT"));
  for (int i = 0; i < 20000; ++i) {
    ASSERT_EQ(line(5 + i)["url"], "https://bulk.example/" + std::to_string(i) + ".jpg");
    ASSERT_EQ(line(5 + i)["matched"], false);
  }
  EXPECT_TRUE(line(20005)["matched"].is_null());
  EXPECT_THAT(line(20005)["error"].get<std::string>(), HasSubstr("TOO_LONG"));
  EXPECT_EQ(line(20006)["match"], "url");
}

// Issue 18 items 3 and 8: an item that could not be checked is an error
// item (null / ERROR, exit 2), never "clear", and does not stop the others.
TEST_F(JourneysE2eTest, CheckAnswersErrorItemsForWhatItCannotCheckAndChecksTheRest) {
  auto reg = Optout({"register", "--no-receipt", "--url", "https://me.example/a.jpg", "--image",
                     Image("d01_plasma__orig.jpg")});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  const std::string missing = server_.root() + "/missing.jpg";
  auto run = Optout({"check", "--json", "--url", "not a url at all", "--image", missing, "--url",
                     "https://me.example/a.jpg", "--image", Image("d01_plasma__jpeg30.jpg")});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("2 of 4 items could not be checked"));
  const auto results = nlohmann::json::parse(run.out)["results"];
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0]["item"], "not a url at all");
  EXPECT_TRUE(results[0]["matched"].is_null());
  EXPECT_THAT(results[0]["error"].get<std::string>(), HasSubstr("NOT_A_HOST_NAME"));
  EXPECT_TRUE(results[1]["matched"].is_null());
  EXPECT_THAT(results[1]["error"].get<std::string>(), HasSubstr("--image"));
  EXPECT_EQ(results[2]["match"], "url");
  EXPECT_EQ(results[3]["match"], "pdq");

  auto text = Optout({"check", "--url", "gopher://x/", "--url", "https://me.example/a.jpg"});
  EXPECT_EQ(text.exit_code, 2) << text.err;
  std::vector<std::string> lines = absl::StrSplit(text.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << text.out;
  EXPECT_THAT(lines[0], ::testing::StartsWith("ERROR"));
  EXPECT_THAT(lines[0], HasSubstr("UNSUPPORTED_SCHEME"));
  EXPECT_THAT(lines[1], ::testing::StartsWith("OPTED-OUT"));
}

}  // namespace
}  // namespace optout
