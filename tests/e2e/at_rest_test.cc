// Nothing raw at rest: after registering a unique URL, scope, PDQ hash, file
// digests and receiving a token, no file under the data folder (WAL, SST,
// MANIFEST, logs) contains any of them, in any encoding we can think of,
// before and after a flush and full compaction.
#include <dirent.h>
#include <sys/stat.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "client/common/digest/digest.h"
#include "client/registry_client.h"
#include "gtest/gtest.h"
#include "storage/opt_out_store.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_files.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

void ListFiles(const std::string& dir, std::vector<std::string>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ListFiles(path, out);
    } else {
      out->push_back(path);
    }
  }
  closedir(d);
}

using testing::ReadFile;

struct Needle {
  std::string what;
  std::string bytes;
};

// Scans every file; returns "file: what" for each needle found.
std::vector<std::string> FindNeedles(const std::string& dir, const std::vector<Needle>& needles,
                                     int* files_scanned, std::vector<std::string>* kinds) {
  std::vector<std::string> files, found;
  ListFiles(dir, &files);
  *files_scanned = static_cast<int>(files.size());
  for (const auto& f : files) {
    const std::string content = ReadFile(f);
    const std::string lower = absl::AsciiStrToLower(content);
    kinds->push_back(f.substr(f.find_last_of('/') + 1));
    for (const auto& n : needles) {
      if (content.find(n.bytes) != std::string::npos ||
          lower.find(absl::AsciiStrToLower(n.bytes)) != std::string::npos) {
        found.push_back(f + ": " + n.what);
      }
    }
  }
  return found;
}

TEST(AtRestTest, DataFolderHoldsNoRawUrlHostHashDigestOrToken) {
  std::mt19937_64 rng(std::random_device{}());
  const std::string unique = std::to_string(rng());
  const std::string host = "host" + unique + ".example-optout.org";
  const std::string url = "https://" + host + "/private/photo" + unique + ".jpg";
  const std::string scope_host = "scope" + unique + ".example-optout.org";
  const std::string scope = "https://" + scope_host + "/album/";
  const std::string pdq = testing::BalancedRandomPdq(rng);
  std::string sha(32, '\0'), md5(16, '\0');
  for (auto* s : {&sha, &md5}) {
    for (char& c : *s) c = static_cast<char>(rng());
  }

  testing::OptoutdProcess server;
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto client = client::RegistryClient::Create(server.address());
  v1::RegisterRequest request;
  request.set_request_id(testing::RequestIdFor("at-rest-" + unique));
  request.add_urls(url);
  request.add_scopes(scope);
  v1::PdqHash* registered_pdq = request.add_pdq();
  registered_pdq->set_hash(pdq);
  registered_pdq->set_quality(100);
  request.add_sha256(sha);
  request.add_md5(md5);
  auto registered = client->Register(request);
  ASSERT_TRUE(registered.ok()) << registered.status();
  ASSERT_TRUE(server.Stop().ok());

  const std::string token_hex = registered->manage_token();
  std::string token_bytes = *digest::FromHex(token_hex);
  std::string pdq_reversed(pdq.rbegin(), pdq.rend());  // reference hex byte order
  const auto sha_of = [](const std::string& s) {
    auto d = digest::Sha256(s);
    return std::string(d.begin(), d.end());
  };
  const std::string exact_expression = host + "/private/photo" + unique + ".jpg";
  const std::vector<Needle> needles = {
      {"raw url", url},
      {"url host", host},
      {"scope host", scope_host},
      {"unique marker", unique},
      {"pdq binary", pdq},
      {"pdq hex", digest::ToHex(pdq)},
      {"pdq reference hex", digest::ToHex(pdq_reversed)},
      {"sha256 binary", sha},
      {"sha256 hex", digest::ToHex(sha)},
      {"md5 binary", md5},
      {"md5 hex", digest::ToHex(md5)},
      {"token hex", token_hex},
      {"token binary", token_bytes},
      {"url expression digest", sha_of(exact_expression)},
      {"url expression digest hex", digest::ToHex(sha_of(exact_expression))},
      {"scope expression digest", sha_of(scope_host + "/album/")},
      {"request id", "at-rest-" + unique},
  };

  int files = 0;
  std::vector<std::string> names;
  auto found = FindNeedles(server.data_dir(), needles, &files, &names);
  EXPECT_GT(files, 0);
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);

  // Force the WAL into SST files and compact, then scan again.
  {
    auto store = storage::OptOutStore::Open(server.data_dir(), storage::StoreOptions());
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->FlushAndCompact().ok());
  }
  names.clear();
  found = FindNeedles(server.data_dir(), needles, &files, &names);
  EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
  bool saw_sst = false;
  for (const auto& n : names) saw_sst |= n.size() > 4 && n.substr(n.size() - 4) == ".sst";
  EXPECT_TRUE(saw_sst) << "compaction should have written SST files";

  // And the registry still works from those files.
  ASSERT_TRUE(server.Start().ok());
  client = client::RegistryClient::Create(server.address());
  v1::CheckRequest check;
  check.add_items()->set_url(url);
  auto checked = client->Check(check);
  ASSERT_TRUE(checked.ok());
  EXPECT_TRUE(checked->results(0).matched());
}

}  // namespace
}  // namespace optout
