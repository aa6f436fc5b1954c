// What an owner expects of the optout command against a real optoutd
// (issue 18, items 9-14): a CDN image opted out whatever its query, one
// stored copy of a repeated image, a second revoke that says when, the
// strongest evidence for a byte-identical copy.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::OptoutCliBinary;
using testing::RunCommand;

std::string Image(const std::string& name) {
  return testing::TestDataPath("pdq/images/" + name);
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

class OwnerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    home_ = server_.root() + "/home";
    std::filesystem::create_directories(home_);
  }
  // Runs optout with $HOME in the test's folder, so receipts land in
  // home_/.optout and never in the real ~/.optout.
  testing::CommandResult Optout(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"/usr/bin/env", "HOME=" + home_, "OPTOUT_SERVER=",
                               OptoutCliBinary(), "--server", server_.address()});
    return RunCommand(args, input);
  }
  nlohmann::json Check(std::vector<std::string> args) {
    args.insert(args.begin(), {"check", "--json"});
    auto r = Optout(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["results"];
  }
  testing::OptoutdProcess server_;
  std::string home_;
};

TEST_F(OwnerE2eTest, SecondRevokeSaysAlreadyRevokedOnTheDayAndMarksTheReceipt) {
  const std::string receipt = home_ + "/r.json";
  auto reg = Optout({"register", "--url", "https://me.example/twice.jpg", "--receipt", receipt});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  const std::string today = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());

  auto first = Optout({"revoke", "--receipt", receipt});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(ReadJson(receipt)["revoked"], today);
  EXPECT_EQ(std::filesystem::status(receipt).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  auto second = Optout({"revoke", "--receipt", receipt});
  EXPECT_NE(second.exit_code, 0);
  EXPECT_THAT(second.err, HasSubstr("already revoked on " + today));
  EXPECT_THAT(second.err, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_EQ(ReadJson(receipt)["revoked"], today);

  // A mistyped id is another thing: never registered.
  const std::string id = ReadJson(receipt)["id"];
  std::string typo = id;
  typo[0] = typo[0] == '0' ? '1' : '0';
  auto unknown = Optout({"revoke", "--id", typo, "--token", ReadJson(receipt)["token"]});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(unknown.err, Not(HasSubstr("already revoked")));
}

TEST_F(OwnerE2eTest, ThePhotoGivenTwiceIsStoredOnceAndAReceiptHoldingItIsNamed) {
  const std::string photo = Image("d01_plasma__orig.jpg");
  const std::string copy = home_ + "/copy-of-plasma.jpg";
  std::filesystem::copy_file(photo, copy);
  auto reg = Optout({"register", "--json", "--image", photo, "--image", photo, "--image", copy});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_THAT(reg.err, HasSubstr(copy + " is the same image as " + photo));
  const auto registered = nlohmann::json::parse(reg.out);
  const std::string receipt = registered["receipt"];
  EXPECT_EQ(ReadJson(receipt)["registered"]["images"].size(), 1u);
  auto got = Optout({"get", "--json", "--receipt", receipt});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  const auto counts = nlohmann::json::parse(got.out);
  EXPECT_EQ(counts["pdq"], 1);
  EXPECT_EQ(counts["sha256"], 1);
  EXPECT_EQ(counts["md5"], 1);

  // Registering it again names the receipt that already holds it...
  auto again = Optout({"register", "--json", "--image", copy});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("already registered (same SHA-256) by opt-out " +
                                   registered["id"].get<std::string>()));
  EXPECT_THAT(again.err, HasSubstr(receipt));
  // ...but not once that opt-out is revoked.
  ASSERT_EQ(Optout({"revoke", "--receipt", receipt}).exit_code, 0);
  const std::string second_receipt = nlohmann::json::parse(again.out)["receipt"];
  auto third = Optout({"register", "--json", "--image", photo});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_THAT(third.err, Not(HasSubstr(receipt)));
  EXPECT_THAT(third.err, HasSubstr(second_receipt));
}

TEST_F(OwnerE2eTest, ImagesAboveThePixelLimitGetAHintAndTheFlagRaisesIt) {
  const std::string photo = Image("d01_plasma__orig.jpg");
  auto refused = Optout({"hash", "--max-pixels", "1000", photo});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err, HasSubstr("above the limit of 1000"));
  EXPECT_THAT(refused.err, HasSubstr("give --max-pixels"));
  // In check, the image is an item that could not be checked: its ERROR
  // line carries the hint.
  auto check = Optout({"check", "--max-pixels", "1000", "--image", photo});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_THAT(check.out + check.err, HasSubstr("give --max-pixels"));
  EXPECT_EQ(Optout({"hash", "--max-pixels", "100000000", photo}).exit_code, 0);
}

TEST_F(OwnerE2eTest, AByteIdenticalCopyIsReportedBySha256NotPdq) {
  const std::string photo = Image("d01_plasma__orig.jpg");
  ASSERT_EQ(Optout({"register", "--image", photo}).exit_code, 0);
  const auto same = Check({"--image", photo});
  EXPECT_EQ(same[0]["matched"], true);
  EXPECT_EQ(same[0]["match"], "sha256");
  const auto reencoded = Check({"--image", Image("d01_plasma__jpeg30.jpg")});
  EXPECT_EQ(reencoded[0]["matched"], true);
  EXPECT_EQ(reencoded[0]["match"], "pdq");
}

TEST_F(OwnerE2eTest, AnyQueryUrlCoversThePathWithAnyQueryWhileUrlKeepsItsQuery) {
  auto reg = Optout({"register", "--json", "--url-any-query",
                     "https://cdn.example/photos/x.jpg?name=large", "--url",
                     "https://cdn.example/photos/exact.jpg?name=large"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  // Checks name the any-query item by its match id (register lists it).
  std::string id;
  const nlohmann::json registered = nlohmann::json::parse(reg.out);
  for (const auto& m : registered["match_ids"]) {
    if (m["kind"] == "url_any_query") id = m["match_id"];
  }
  const std::string receipt = nlohmann::json::parse(reg.out)["receipt"];
  EXPECT_EQ(ReadJson(receipt)["registered"]["url_any_query"][0],
            "https://cdn.example/photos/x.jpg?name=large");

  const auto results =
      Check({"--url", "https://cdn.example/photos/x.jpg?name=small", "--url",
             "https://cdn.example/photos/x.jpg?w=100&name=small", "--url",
             "https://cdn.example/photos/x.jpg", "--url",
             "https://cdn.example/photos/y.jpg?name=large", "--url",
             "https://cdn.example/photos/exact.jpg?name=small", "--url",
             "https://cdn.example/photos/exact.jpg?name=large"});
  ASSERT_EQ(results.size(), 6u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i]["matched"], true) << results[i];
    EXPECT_EQ(results[i]["match"], "url_any_query") << results[i];
    EXPECT_EQ(results[i]["ids"][0], id);
  }
  EXPECT_EQ(results[3]["matched"], false) << "another path";
  EXPECT_EQ(results[4]["matched"], false) << "--url includes the query";
  EXPECT_EQ(results[5]["match"], "url");

  // The bulk path sends client-computed digests: the same answers.
  auto bulk = Optout({"check", "--stdin"},
                     "https://cdn.example/photos/x.jpg?name=small\n"
                     "https://cdn.example/photos/x.jpg?b=2&a=1\n"
                     "https://cdn.example/photos/x.jpg\n"
                     "https://cdn.example/photos/y.jpg?name=large\n");
  ASSERT_EQ(bulk.exit_code, 0) << bulk.err;
  std::vector<std::string> lines = absl::StrSplit(bulk.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(nlohmann::json::parse(lines[i])["match"], "url_any_query") << lines[i];
  }
  EXPECT_EQ(nlohmann::json::parse(lines[3])["matched"], false);

  auto got = Optout({"get", "--json", "--receipt", receipt});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(nlohmann::json::parse(got.out)["url_any_query"], 1);
  EXPECT_EQ(nlohmann::json::parse(got.out)["urls"], 1);

  // A whole host is a scope's job: refused, naming the flag.
  auto root = Optout({"register", "--url-any-query", "https://cdn.example/?name=large"});
  EXPECT_EQ(root.exit_code, 1);
  EXPECT_THAT(root.err, HasSubstr("ANY_QUERY_ROOT_PATH"));
  EXPECT_THAT(root.err, HasSubstr("--url-any-query"));
}

}  // namespace
}  // namespace optout
