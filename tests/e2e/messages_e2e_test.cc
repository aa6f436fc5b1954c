// Messages and manners of optout and optoutd (issue 18 item 15), against a
// real optoutd: errors are one line naming the flags the user typed, with a
// way forward (did you mean, is optoutd running, --image); pasted URLs for
// --server and whitespace around ids and tokens are understood; both
// binaries tell their version, and optoutd --help lists its flags.
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::OptoutCliBinary;
using testing::OptoutdBinary;
using testing::RunCommand;

int Lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

class MessagesE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    home_ = server_.root() + "/home";
    std::filesystem::create_directories(home_);
  }
  // optout with $HOME in the test folder and no $OPTOUT_SERVER; `args`
  // choose the server.
  testing::CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/env", "HOME=" + home_, "OPTOUT_SERVER=",
                               OptoutCliBinary()});
    return RunCommand(args);
  }
  testing::OptoutdProcess server_;
  std::string home_;
};

TEST_F(MessagesE2eTest, BothBinariesAndGetInfoTellOneVersion) {
  auto cli = Optout({"--version"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(cli.out, m, std::regex("optout ([0-9]+\\.[0-9]+\\.[0-9]+)\n")))
      << cli.out;
  const std::string version = m[1];
  auto daemon = RunCommand({OptoutdBinary(), "--version"});
  EXPECT_EQ(daemon.exit_code, 0);
  EXPECT_EQ(daemon.out, "optoutd " + version + "\n");
  auto info = client::RegistryClient::Create(server_.address())->GetInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->server_version(), version);
}

TEST_F(MessagesE2eTest, OptoutdHelpListsItsFlags) {
  auto help = RunCommand({OptoutdBinary(), "--help"});
  const std::string text = help.out + help.err;
  for (const char* flag : {"--listen", "--data_dir", "--secret_file", "--psl_file",
                           "--pdq_threshold", "--tls_cert_file", "--allow_insecure"}) {
    EXPECT_THAT(text, HasSubstr(flag)) << text;
  }
  EXPECT_THAT(text, Not(HasSubstr("No flags matched")));
}

TEST_F(MessagesE2eTest, MistypedCommandGetsADidYouMean) {
  auto r = Optout({"--server", server_.address(), "regster", "--url", "https://a.example/x.jpg"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'regster'; did you mean 'register'?"));
  EXPECT_EQ(Lines(r.err), 1) << r.err;
}

TEST_F(MessagesE2eTest, NothingToRegisterNamesTheFlagsBeforeConnecting) {
  auto r = Optout({"--server", "127.0.0.1:1", "register"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nothing to register: give --image FILE"));
  EXPECT_THAT(r.err, Not(HasSubstr("UNAVAILABLE")));
  EXPECT_EQ(Lines(r.err), 1) << r.err;
}

TEST_F(MessagesE2eTest, ConnectionFailureAsksWhetherOptoutdRuns) {
  testing::OptoutdProcess stopped;
  ASSERT_TRUE(stopped.Start().ok());
  const std::string address = stopped.address();
  ASSERT_TRUE(stopped.Stop().ok());
  auto r = Optout({"--server", address, "--timeout", "5s", "check", "--url",
                   "https://a.example/x.jpg"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is optoutd running at " + address +
                               "? (--server or $OPTOUT_SERVER)"));
  EXPECT_EQ(Lines(r.err), 1) << r.err;
}

TEST_F(MessagesE2eTest, ServerGivenAsAUrlIsUnderstoodOrClearlyRefused) {
  auto plain = Optout({"--server", "http://" + server_.address() + "/", "check", "--url",
                       "https://a.example/x.jpg"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  // https:// means TLS; this server speaks plaintext, and the error says so.
  auto tls = Optout({"--server", "https://" + server_.address(), "--timeout", "5s", "check",
                     "--url", "https://a.example/x.jpg"});
  EXPECT_EQ(tls.exit_code, 1);
  EXPECT_EQ(Lines(tls.err), 1) << tls.err;
  EXPECT_THAT(tls.err, HasSubstr("UNAVAILABLE"));
  auto other = Optout({"--server", "grpc://" + server_.address(), "check", "--url",
                       "https://a.example/x.jpg"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.err, HasSubstr("only the http:// and https:// schemes are understood"));
  EXPECT_EQ(Lines(other.err), 1) << other.err;
}

TEST_F(MessagesE2eTest, IdsAndTokensAreTrimmedAndErrorsNameTheFlags) {
  auto reg = Optout({"--server", server_.address(), "--json", "register", "--no-receipt",
                     "--url", "https://me.example/a.jpg"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  const auto registered = nlohmann::json::parse(reg.out);
  const std::string id = registered["id"];
  const std::string token = registered["token"];
  auto got = Optout({"--server", server_.address(), "get", "--id", " " + id + "\n", "--token",
                     "\t" + token + " "});
  EXPECT_EQ(got.exit_code, 0) << got.err;

  std::string other = id;
  other[0] = other[0] == '0' ? '1' : '0';
  auto unknown = Optout({"--server", server_.address(), "get", "--id", other, "--token", token});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("--id: no such opt-out"));
  EXPECT_THAT(unknown.err, Not(HasSubstr("opt_out_id")));
  auto wrong = Optout({"--server", server_.address(), "revoke", "--id", id, "--token",
                       std::string(64, '0')});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("--token: "));
  EXPECT_THAT(wrong.err, Not(HasSubstr("manage_token")));
}

}  // namespace
}  // namespace optout
