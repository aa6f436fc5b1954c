// Public Suffix List lock-step (issue 18 item 7) against a real optoutd
// started with another list than the client machine's: the client fetches
// the server's list, caches it, says so once, and scope opt-outs match
// through client-computed digests as they do on the server.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/url_digests.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/scope_prover.h"
#include "tests/e2e/test_files.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::OptoutCliBinary;
using testing::RunCommand;

// Unlike Debian's list, github.io is no public suffix here, so the server
// accepts the scope https://github.io/ and expands bob.github.io to github.io.
constexpr char kServerList[] = "// VERSION: e2e-server-list-1\nio\ncom\norg\n";

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class PslE2eTest : public ::testing::Test {
 protected:
  static std::string ListFile() {
    const std::string path = ::testing::TempDir() + "/psl_e2e_server_list.dat";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << kServerList;
    return path;
  }

  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    home_ = server_.root() + "/home";
    std::filesystem::create_directories(home_);
  }

  testing::CommandResult Optout(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"/usr/bin/env", "-u", "XDG_CACHE_HOME", "HOME=" + home_,
                               "OPTOUT_SERVER=", OptoutCliBinary(), "--server",
                               server_.address()});
    return RunCommand(args, input);
  }

  std::string CachedList() const {
    return home_ + "/.cache/optout/public_suffix_list-" +
           digest::ToHex(digest::Sha256(kServerList)) + ".dat";
  }

  testing::ScopeProver prover_;
  testing::OptoutdProcess server_{prover_.ServerFlags({"--psl_file=" + ListFile()})};
  std::string home_;
};

TEST_F(PslE2eTest, ServerPublishesItsListAndItsHash) {
  auto client = client::RegistryClient::Create(server_.address());
  auto info = client->GetInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->psl_version(), "e2e-server-list-1");
  EXPECT_EQ(info->psl_sha256(), digest::ToHex(digest::Sha256(kServerList)));
  auto list = client->GetPublicSuffixList();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->list(), kServerList);
  EXPECT_EQ(list->version(), "e2e-server-list-1");
  EXPECT_EQ(list->sha256(), info->psl_sha256());
}

TEST_F(PslE2eTest, ClientsUseTheServersListFetchedOnceThenCached) {
  auto registered = Optout({"register", "--json", "--scope", "https://github.io/"});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  ASSERT_TRUE(prover_.ProveWithCli({"--server", server_.address()},
                                   nlohmann::json::parse(registered.out))
                  .ok());

  // Why lock-step matters: digests computed with this machine's list
  // (github.io a public suffix) never reach the scope's key.
  auto local = url::PublicSuffixList::Load();
  ASSERT_TRUE(local.ok());
  protocol::UrlDigests digests;
  ASSERT_TRUE(protocol::ComputeUrlDigests("https://bob.github.io/x.jpg", **local, &digests).ok());
  v1::CheckRequest unsynced;
  v1::PackedItems* packed = unsynced.add_packed();
  packed->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
  packed->set_data(std::string(digests.packed()));
  packed->add_counts(static_cast<uint32_t>(digests.size()));
  auto client = client::RegistryClient::Create(server_.address());
  auto answer = client->Check(unsynced);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->packed_verdicts(0).matches().empty());

  const std::string input = "https://bob.github.io/x.jpg\nhttps://bob.example.com/y.jpg\n";
  auto first = Optout({"check", "--stdin"}, input);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::vector<std::string> lines = absl::StrSplit(first.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << first.out;
  EXPECT_EQ(nlohmann::json::parse(lines[0])["match"], "scope");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["matched"], false);
  EXPECT_EQ(Count(first.err, "using the server's Public Suffix List e2e-server-list-1"), 1)
      << first.err;
  EXPECT_THAT(first.err, HasSubstr("fetched, cached in " + CachedList()));
  EXPECT_EQ(testing::ReadFile(CachedList()), kServerList);

  auto second = Optout({"check", "--stdin"}, input);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  EXPECT_THAT(second.err, HasSubstr("(cached in " + CachedList()));

  // check-dataset computes digests the same way.
  const std::string manifest = server_.root() + "/m.csv";
  std::ofstream(manifest) << "url\nhttps://bob.github.io/x.jpg\nhttps://bob.example.com/y.jpg\n";
  auto dataset = Optout({"check-dataset", manifest, "--out", server_.root() + "/out", "--quiet"});
  ASSERT_EQ(dataset.exit_code, 0) << dataset.err;
  EXPECT_EQ(Count(dataset.err, "using the server's Public Suffix List e2e-server-list-1"), 1)
      << dataset.err;
  EXPECT_EQ(testing::ReadFile(server_.root() + "/out/m.csv"),
            "url\nhttps://bob.example.com/y.jpg\n");
}

}  // namespace
}  // namespace optout
