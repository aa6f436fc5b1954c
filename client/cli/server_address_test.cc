#include "client/cli/server_address.h"

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::cli {
namespace {

using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

std::string Target(absl::string_view given, bool* tls = nullptr) {
  auto a = ParseServerAddress(given);
  if (!a.ok()) return "refused";
  if (tls != nullptr) *tls = a->tls;
  return a->target;
}

TEST(ParseServerAddress, HostPortAsIs) {
  bool tls = true;
  EXPECT_EQ(Target("127.0.0.1:50051", &tls), "127.0.0.1:50051");
  EXPECT_FALSE(tls);
  EXPECT_EQ(Target("registry.example:443"), "registry.example:443");
  EXPECT_EQ(Target("[::1]:50051"), "[::1]:50051");
  EXPECT_EQ(Target("  localhost:1 "), "localhost:1");
}

TEST(ParseServerAddress, HttpIsPlaintextAndHttpsIsTls) {
  bool tls = true;
  EXPECT_EQ(Target("http://127.0.0.1:50051", &tls), "127.0.0.1:50051");
  EXPECT_FALSE(tls);
  EXPECT_EQ(Target("HTTPS://registry.example:8443/", &tls), "registry.example:8443");
  EXPECT_TRUE(tls);
  EXPECT_EQ(Target("https://registry.example"), "registry.example:443");
  EXPECT_EQ(Target("http://registry.example/"), "registry.example:80");
  EXPECT_EQ(Target("https://[::1]"), "[::1]:443");
}

TEST(ParseServerAddress, RefusedWithWhatIsAccepted) {
  for (const char* bad : {"", "registry.example", "grpc://h:1", "https://h:1/api", "h:0",
                          "h:99999", "h:x", "https://", "[::1]", "http://h:"}) {
    EXPECT_THAT(ParseServerAddress(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("give HOST:PORT, http://HOST:PORT (plaintext) or "
                                   "https://HOST:PORT (TLS)")))
        << bad;
  }
}

}  // namespace
}  // namespace optout::cli
