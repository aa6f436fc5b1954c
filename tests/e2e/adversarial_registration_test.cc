// Issue 9, finding 6 (registration flood): Register is limited per client
// address by a token bucket, and refused below a free-disk floor while
// checks go on. Each refusal is RESOURCE_EXHAUSTED naming its flag, and
// nothing of a refused registration is stored.
#include <string>

#include "client/registry_client.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using testing::OptoutdProcess;

v1::RegisterRequest UrlRegistration(int i) {
  v1::RegisterRequest request;
  request.add_urls("https://flood.example/" + std::to_string(i) + ".jpg");
  return request;
}

bool Matches(client::RegistryClient& client, const std::string& url) {
  v1::CheckRequest request;
  request.add_items()->set_url(url);
  auto response = client.Check(request);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() && response->results(0).matched();
}

TEST(AdversarialRegistrationTest, OneAddressGetsItsBurstThenIsRefused) {
  OptoutdProcess server({"--register_rate_per_peer=5"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto client = client::RegistryClient::Create(server.address());
  int accepted = 0, refused = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = client->Register(UrlRegistration(i));
    if (r.ok()) {
      ++accepted;
      continue;
    }
    ++refused;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
    EXPECT_NE(std::string(r.status().message()).find("--register_rate_per_peer"),
              std::string::npos)
        << r.status();
    EXPECT_FALSE(Matches(*client, "https://flood.example/" + std::to_string(i) + ".jpg"))
        << "a refused registration must not be stored";
  }
  // The burst of 5, plus at most one refill if the loop took 12 s.
  EXPECT_GE(accepted, 5);
  EXPECT_LE(accepted, 6);
  EXPECT_GE(refused, 34);
  EXPECT_TRUE(Matches(*client, "https://flood.example/0.jpg")) << "checks are not limited";
  EXPECT_TRUE(server.Stop().ok());
}

TEST(AdversarialRegistrationTest, BelowTheFreeDiskFloorRegistrationsStopAndChecksGoOn) {
  // A floor no disk reaches: 100 TB.
  OptoutdProcess server({"--min_free_disk_mb=100000000"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto client = client::RegistryClient::Create(server.address());
  auto r = client->Register(UrlRegistration(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("--min_free_disk_mb"), std::string::npos)
      << r.status();
  EXPECT_FALSE(Matches(*client, "https://flood.example/1.jpg"));
  EXPECT_TRUE(client->GetInfo().ok());
  EXPECT_TRUE(server.Stop().ok());

  // The same data with the default floor accepts it again.
  OptoutdProcess normal;
  ASSERT_TRUE(normal.Start().ok()) << normal.ReadLog();
  client = client::RegistryClient::Create(normal.address());
  EXPECT_TRUE(client->Register(UrlRegistration(1)).ok());
  EXPECT_TRUE(Matches(*client, "https://flood.example/1.jpg"));
  EXPECT_TRUE(normal.Stop().ok());
}

}  // namespace
}  // namespace optout
