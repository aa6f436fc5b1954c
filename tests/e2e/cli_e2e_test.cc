// The optout command against a real optoutd: what a person or a script sees.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::OptoutCliBinary;
using testing::RunCommand;

class CliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog(); }
  testing::CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server_.address()});
    return RunCommand(args);
  }
  testing::OptoutdProcess server_;
};

constexpr char kPdqHex[] = "e1c95d4aa7cc1853cf60248336b99ab56fc9e1e91839af516a48be4c4946cfba";

TEST_F(CliE2eTest, RegisterCheckGetRevokeWithJsonOutput) {
  auto reg = Optout({"register", "--json", "--url", "https://cli.example/a.jpg", "--scope",
                     "https://cli.example/private/", "--pdq", kPdqHex, "--md5",
                     "0123456789abcdef0123456789abcdef", "--receipt",
                     server_.root() + "/receipt.json"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto registered = nlohmann::json::parse(reg.out);
  const std::string id = registered["id"];
  const std::string token = registered["token"];
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(token.size(), 64u);

  auto check = Optout({"check", "--json", "--url", "http://cli.example/a.jpg", "--url",
                       "https://cli.example/private/x/y.jpg", "--url", "https://cli.example/b.jpg",
                       "--pdq", kPdqHex, "--md5", "0123456789ABCDEF0123456789ABCDEF"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  auto results = nlohmann::json::parse(check.out)["results"];
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0]["match"], "url");
  EXPECT_EQ(results[0]["ids"][0], id);
  EXPECT_EQ(results[1]["match"], "scope");
  EXPECT_EQ(results[2]["matched"], false);
  EXPECT_EQ(results[2]["match"], "none");
  EXPECT_EQ(results[3]["match"], "pdq");
  EXPECT_EQ(results[4]["match"], "md5");

  auto get = Optout({"get", "--json", "--id", id, "--token", token});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(nlohmann::json::parse(get.out)["scopes"], 1);

  auto revoke = Optout({"revoke", "--id", id, "--token", token});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  auto after = Optout({"check", "--json", "--url", "http://cli.example/a.jpg"});
  EXPECT_EQ(nlohmann::json::parse(after.out)["results"][0]["matched"], false);
}

TEST_F(CliE2eTest, ErrorsAreOneLineOnStderrWithNonZeroExit) {
  auto bad_url = Optout({"register", "--url", "gopher://x/", "--no-receipt"});
  EXPECT_NE(bad_url.exit_code, 0);
  EXPECT_THAT(bad_url.err, HasSubstr("urls[0]"));
  EXPECT_THAT(bad_url.err, HasSubstr("UNSUPPORTED_SCHEME"));
  EXPECT_EQ(std::count(bad_url.err.begin(), bad_url.err.end(), '\n'), 1);

  auto bad_hex = Optout({"check", "--sha256", "xyz"});
  EXPECT_NE(bad_hex.exit_code, 0);
  EXPECT_THAT(bad_hex.err, HasSubstr("--sha256"));

  auto wrong_token = Optout({"revoke", "--id", std::string(32, 'a'), "--token", std::string(64, 'b')});
  EXPECT_NE(wrong_token.exit_code, 0);
  EXPECT_THAT(wrong_token.err, HasSubstr("NOT_FOUND"));
}

TEST(CliNoServerTest, UnreachableServerIsAClearError) {
  auto result = RunCommand({OptoutCliBinary(), "--server", "127.0.0.1:1", "check", "--md5",
                            "0123456789abcdef0123456789abcdef"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.err, HasSubstr("UNAVAILABLE"));
}

}  // namespace
}  // namespace optout
