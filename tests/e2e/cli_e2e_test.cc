// The optout command against a real optoutd: what a person or a script sees.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/scope_prover.h"
#include "tests/e2e/test_files.h"

namespace optout {
namespace {

// The match id `optout register --json` reported for its first item of
// `kind` (and of value `item`, when given).
std::string MatchIdOf(const nlohmann::json& registered, const std::string& kind,
                      const std::string& item = "") {
  for (const auto& m : registered["match_ids"]) {
    if (m["kind"] == kind && (item.empty() || m["item"] == item)) return m["match_id"];
  }
  return "no " + kind + " match id";
}

using ::testing::HasSubstr;
using ::testing::Not;
using testing::OptoutCliBinary;
using testing::RunCommand;

class CliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog(); }
  testing::CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server_.address()});
    return RunCommand(args);
  }
  testing::ScopeProver prover_;
  testing::OptoutdProcess server_{prover_.ServerFlags()};
};

constexpr char kPdqHex[] = "e1c95d4aa7cc1853cf60248336b99ab56fc9e1e91839af516a48be4c4946cfba";

TEST_F(CliE2eTest, RegisterCheckGetRevokeWithJsonOutput) {
  auto reg = Optout({"register", "--json", "--url", "https://cli.example/a.jpg", "--scope",
                     "https://cli.example/private/", "--pdq", std::string(kPdqHex) + ":100", "--md5",
                     "0123456789abcdef0123456789abcdef", "--receipt",
                     server_.root() + "/receipt.json"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto registered = nlohmann::json::parse(reg.out);
  ASSERT_TRUE(prover_.ProveWithCli({"--server", server_.address()}, registered).ok());
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
  EXPECT_EQ(results[0]["item"], "http://cli.example/a.jpg");
  EXPECT_EQ(results[0]["match"], "url");
  // Each item answers with its own match id, never the opt-out id.
  EXPECT_EQ(results[0]["ids"][0], MatchIdOf(registered, "url"));
  EXPECT_NE(results[0]["ids"][0], id);
  EXPECT_EQ(results[1]["match"], "scope");
  EXPECT_EQ(results[1]["ids"][0], MatchIdOf(registered, "scope"));
  EXPECT_EQ(results[3]["ids"][0], MatchIdOf(registered, "pdq"));
  EXPECT_EQ(results[4]["ids"][0], MatchIdOf(registered, "md5"));
  EXPECT_EQ(results[2]["matched"], false);
  EXPECT_EQ(results[2]["match"], "none");
  EXPECT_EQ(results[3]["match"], "pdq");
  EXPECT_EQ(results[4]["match"], "md5");
  EXPECT_EQ(results[4]["item"], "md5:0123456789ABCDEF0123456789ABCDEF");  // as typed

  auto get = Optout({"get", "--json", "--id", id, "--token", token});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  const auto held = nlohmann::json::parse(get.out);
  EXPECT_EQ(held["scopes"], 1);
  ASSERT_EQ(held["match_ids"].size(), 4u);
  EXPECT_EQ(held["match_ids"][0]["match_id"], MatchIdOf(registered, "url"));
  // The receipt lists them too, with the items they stand for.
  const auto receipt = nlohmann::json::parse(testing::ReadFile(server_.root() + "/receipt.json"));
  EXPECT_EQ(receipt["match_ids"], registered["match_ids"]);
  EXPECT_EQ(receipt["match_ids"][0]["item"], "https://cli.example/a.jpg");

  auto revoke = Optout({"revoke", "--id", id, "--token", token});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  auto after = Optout({"check", "--json", "--url", "http://cli.example/a.jpg"});
  EXPECT_EQ(nlohmann::json::parse(after.out)["results"][0]["matched"], false);
}

// A script pairs results with its inputs: one result per item, in the order
// given across flags, each naming its item.
TEST_F(CliE2eTest, CheckResultsFollowCommandLineOrderAndNameTheirItems) {
  const std::string image = testing::TestDataPath("pdq/images/d01_plasma__orig.jpg");
  auto reg = Optout({"register", "--json", "--no-receipt", "--image", image, "--url",
                     "https://order.example/b.jpg", "--sha256", std::string(64, 'a')});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  const auto registered = nlohmann::json::parse(reg.out);
  const std::string url_id = MatchIdOf(registered, "url");

  const std::string md5 = "0123456789abcdef0123456789abcdef";
  const std::string sha256 = std::string(64, 'A');
  auto check = Optout({"--json", "check", "--md5", md5, "--url", "https://order.example/a.jpg",
                       "--image", image, "--pdq", kPdqHex, "--url",
                       "https://order.example/b.jpg", "--sha256", sha256});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  const auto results = nlohmann::json::parse(check.out)["results"];
  ASSERT_EQ(results.size(), 6u) << check.out;
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"md5:" + md5, "none"},
      {"https://order.example/a.jpg", "none"},
      {"image:" + image, "sha256"},  // the registered file itself: strongest evidence
      {std::string("pdq:") + kPdqHex, "pdq"},  // a brightened copy of the image
      {"https://order.example/b.jpg", "url"},
      {"sha256:" + sha256, "sha256"},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(results[i]["item"], expected[i].first) << i;
    EXPECT_EQ(results[i]["match"], expected[i].second) << i;
    EXPECT_EQ(results[i]["matched"], expected[i].second != "none") << i;
    // The image matched by its three hashes, each a registered item of its own.
    EXPECT_EQ(results[i]["ids"].size(), expected[i].second == "none" ? 0u : i == 2 ? 3u : 1u) << i;
  }
  std::string image_sha256_id;
  for (const auto& m : registered["match_ids"]) {
    if (m["kind"] == "sha256" && m["item"] != std::string(64, 'a')) image_sha256_id = m["match_id"];
  }
  EXPECT_EQ(results[2]["ids"][0], image_sha256_id);
  EXPECT_EQ(results[3]["ids"][0], MatchIdOf(registered, "pdq"));
  EXPECT_EQ(results[4]["ids"][0], url_id);
  EXPECT_EQ(results[5]["ids"][0], MatchIdOf(registered, "sha256", std::string(64, 'a')));

  // The text form: one line per item in the same order, the item last.
  auto text = Optout({"check", "--url", "https://order.example/b.jpg", "--md5", md5});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out, "OPTED-OUT url\t" + url_id + "\thttps://order.example/b.jpg\n" +
                          "clear     none\t-\tmd5:" + md5 + "\n");
}

TEST_F(CliE2eTest, ErrorsAreOneLineOnStderrWithNonZeroExit) {
  auto bad_url = Optout({"register", "--url", "gopher://x/", "--no-receipt"});
  EXPECT_NE(bad_url.exit_code, 0);
  // The server's field (urls[0]) is named as the flag and value typed.
  EXPECT_THAT(bad_url.err, HasSubstr("optout register: --url gopher://x/: UNSUPPORTED_SCHEME"));
  EXPECT_THAT(bad_url.err, Not(HasSubstr("urls[0]")));
  EXPECT_THAT(bad_url.err, HasSubstr("UNSUPPORTED_SCHEME"));
  EXPECT_EQ(std::count(bad_url.err.begin(), bad_url.err.end(), '\n'), 1);

  auto bad_hex = Optout({"check", "--url", "https://x.example/", "--sha256", "xyz"});
  EXPECT_NE(bad_hex.exit_code, 0);
  EXPECT_THAT(bad_hex.err, ::testing::StartsWith("optout check: --sha256"));
  EXPECT_THAT(bad_hex.err, ::testing::EndsWith("[INVALID_ARGUMENT]\n"));
  EXPECT_EQ(bad_hex.out, "");

  auto bad_pdq = Optout({"register", "--no-receipt", "--pdq", "12"});
  EXPECT_NE(bad_pdq.exit_code, 0);
  EXPECT_THAT(bad_pdq.err, ::testing::StartsWith("optout register: --pdq"));

  // An unreadable image is an error item (issue 18 item 8): ERROR on stdout,
  // one note on stderr, exit 2.
  auto bad_image = Optout({"check", "--image", "/nonexistent/x.jpg"});
  EXPECT_EQ(bad_image.exit_code, 2);
  EXPECT_THAT(bad_image.out, ::testing::StartsWith("ERROR"));
  EXPECT_THAT(bad_image.out, HasSubstr("--image /nonexistent/x.jpg"));
  EXPECT_THAT(bad_image.err, ::testing::StartsWith("optout check: note: 1 of 1 items"));
  EXPECT_EQ(std::count(bad_image.err.begin(), bad_image.err.end(), '\n'), 1);

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

TEST(CliUsageTest, UsageErrorsAreOneLineLikeEveryOtherError) {
  auto old_flag = RunCommand({OptoutCliBinary(), "url", "expressions", "--psl",
                              "/usr/share/publicsuffix/public_suffix_list.dat", "https://a.example/"});
  EXPECT_EQ(old_flag.exit_code, 1);
  EXPECT_THAT(old_flag.err, ::testing::StartsWith("optout url expressions: "));
  EXPECT_THAT(old_flag.err, HasSubstr("--psl"));
  EXPECT_THAT(old_flag.err, ::testing::EndsWith("[INVALID_ARGUMENT]\n"));
  EXPECT_EQ(std::count(old_flag.err.begin(), old_flag.err.end(), '\n'), 1);

  auto no_command = RunCommand({OptoutCliBinary()});
  EXPECT_EQ(no_command.exit_code, 1);
  EXPECT_THAT(no_command.err, ::testing::StartsWith("optout: "));
  EXPECT_EQ(std::count(no_command.err.begin(), no_command.err.end(), '\n'), 1);

  auto help = RunCommand({OptoutCliBinary(), "check", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--image"));
}

// `optout url`: needs no server.
TEST(CliUrlTest, InvalidInputsAreReportedLikeEveryOtherErrorAndTheOthersGoOn) {
  auto run = RunCommand({OptoutCliBinary(), "url", "canonicalize", "gopher://x/",
                         "HTTP://Example.COM:80/a/../b.jpg"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "http://example.com/b.jpg\n");
  EXPECT_THAT(run.err, ::testing::StartsWith("optout url canonicalize: invalid URL \"gopher://x/\""));
  EXPECT_THAT(run.err, HasSubstr("UNSUPPORTED_SCHEME"));
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1);
}

TEST(CliUrlTest, JsonLinesStayValidForAnyInputBytes) {
  // A quote, a backslash, a control character and a byte that is not UTF-8,
  // in an input that canonicalizes and in one that does not.
  const std::string odd = "http://x.example/\"\\\x01\xff" "caf\xc3\xa9";
  auto run = RunCommand({OptoutCliBinary(), "--json", "url", "canonicalize", odd,
                         "gopher://\xff\"x"});
  EXPECT_EQ(run.exit_code, 1);
  std::vector<std::string> lines = absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << run.out;
  const auto ok = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(ok["input"], "http://x.example/\"\\\x01\xef\xbf\xbd" "caf\xc3\xa9");  // U+FFFD
  EXPECT_EQ(ok["canonical"], "http://x.example/\"/%01%FFcaf%C3%A9");
  const auto error = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(error["input"], "gopher://\xef\xbf\xbd\"x");
  EXPECT_EQ(error["error"], "UNSUPPORTED_SCHEME");
  EXPECT_EQ(error["reason"], "scheme is not http or https");
}

TEST(CliUrlTest, ExpressionsReadThePublicSuffixListFromPslFile) {
  const std::string system_psl = "/usr/share/publicsuffix/public_suffix_list.dat";
  auto run = RunCommand({OptoutCliBinary(), "--json", "url", "expressions", "--psl-file",
                         system_psl, "https://a.b.example.co.uk/1/2/3.jpg?x=1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto line = nlohmann::json::parse(run.out);
  EXPECT_EQ(line["canonical"], "https://a.b.example.co.uk/1/2/3.jpg?x=1");
  EXPECT_FALSE(line["psl_version"].get<std::string>().empty());
  EXPECT_GE(line["expressions"].size(), 2u);

  auto missing = RunCommand({OptoutCliBinary(), "url", "expressions", "--psl-file",
                             "/nonexistent/psl.dat", "https://example.com/"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, ::testing::StartsWith("optout url expressions: "));
  EXPECT_EQ(missing.out, "");
}

}  // namespace
}  // namespace optout
