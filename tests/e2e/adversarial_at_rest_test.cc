// Issue 9, finding 10 (at rest): the data folder is 0700 and its files 0600
// whatever the umask (older 0644 files are fixed at start); the default
// secret lives in a config folder apart from the data; the sealed token copy
// is erased after the retry window, after which a retry is refused and the
// token still manages the opt-out.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "client/registry_client.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using testing::OptoutdProcess;

// Mode bits (0777) of every file and folder under `dir`, including `dir`.
void ListModes(const std::string& dir, std::vector<std::pair<std::string, int>>* out) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return;
  out->emplace_back(dir, st.st_mode & 0777);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    if (::stat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ListModes(path, out);
    } else {
      out->emplace_back(path, st.st_mode & 0777);
    }
  }
  ::closedir(d);
}

v1::RegisterRequest UrlRegistration(const std::string& url) {
  v1::RegisterRequest request;
  request.set_request_id("00112233445566778899aabbccddeeff");
  request.add_urls(url);
  return request;
}

TEST(AdversarialAtRestTest, DataFolderIsOwnerOnlyWhateverTheUmask) {
  OptoutdProcess server;
  // As an older optoutd (or a 022 umask) would have left it.
  ASSERT_EQ(::mkdir(server.data_dir().c_str(), 0755), 0);
  std::ofstream(server.data_dir() + "/OLD-LOG") << "old";
  ::chmod((server.data_dir() + "/OLD-LOG").c_str(), 0644);
  const mode_t old_umask = ::umask(022);
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  ::umask(old_umask);
  auto client = client::RegistryClient::Create(server.address());
  ASSERT_TRUE(client->Register(UrlRegistration("https://a.example/1.jpg")).ok());
  ASSERT_TRUE(server.Stop().ok());  // flushes: SST files too
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();

  std::vector<std::pair<std::string, int>> modes;
  ListModes(server.data_dir(), &modes);
  ASSERT_GT(modes.size(), 5u);
  for (const auto& [path, mode] : modes) {
    const bool is_dir = path == server.data_dir();
    EXPECT_EQ(mode, is_dir ? 0700 : 0600) << path << " has mode " << std::oct << mode;
  }
  EXPECT_TRUE(server.Stop().ok());
}

TEST(AdversarialAtRestTest, DefaultSecretLivesInAConfigFolderApartFromTheData) {
  OptoutdProcess server({"--secret_file="});  // empty: the default place
  const std::string config = server.root() + "/config";
  ASSERT_EQ(::setenv("XDG_CONFIG_HOME", config.c_str(), 1), 0);
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  const std::string secret = config + "/optoutd/registry.secret";
  struct stat st {};
  ASSERT_EQ(::stat(secret.c_str(), &st), 0) << "no secret at " << secret;
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat((config + "/optoutd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  EXPECT_NE(::stat((server.data_dir() + ".secret").c_str(), &st), 0) << "nothing beside the data";
  EXPECT_TRUE(server.Stop().ok());

  // A deployment that relied on the old default <data_dir>.secret is told to
  // name it, rather than silently getting a new secret that reads nothing.
  OptoutdProcess legacy({"--secret_file="});
  std::ofstream(legacy.data_dir() + ".secret") << std::string(32, 'k');
  ::chmod((legacy.data_dir() + ".secret").c_str(), 0600);
  const absl::Status refused = legacy.Start();
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(std::string(refused.message()).find("--secret_file=" + legacy.data_dir() + ".secret"),
            std::string::npos)
      << refused;
  ::unsetenv("XDG_CONFIG_HOME");
}

TEST(AdversarialAtRestTest, TokenCopyIsErasedAfterTheRetryWindow) {
  OptoutdProcess server({"--token_retry_hours=0"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto client = client::RegistryClient::Create(server.address());
  const v1::RegisterRequest request = UrlRegistration("https://a.example/2.jpg");
  auto first = client->Register(request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(server.Stop().ok());
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();  // erases at start

  client = client::RegistryClient::Create(server.address());
  auto retry = client->Register(request);
  EXPECT_EQ(retry.status().code(), absl::StatusCode::kAlreadyExists) << retry.status();
  EXPECT_NE(std::string(retry.status().message()).find("manage token is kept"), std::string::npos)
      << retry.status();
  EXPECT_NE(server.ReadLog().find("erased the token copies of 1 opt-outs"), std::string::npos)
      << server.ReadLog();
  EXPECT_TRUE(client->Get(first->opt_out_id(), first->manage_token()).ok())
      << "the token itself still works";
  EXPECT_TRUE(server.Stop().ok());
}

}  // namespace
}  // namespace optout
