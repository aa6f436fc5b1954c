// The refusals that need no certificate; the full HTTPS journeys (valid
// token, wrong content, redirects, large bodies) run against a real TLS
// server in tests/e2e/scopes_e2e_test.cc.
#include "service/verify/https_challenge.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::verify {
namespace {

using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

// A TCP listener on 127.0.0.1 that accepts (the kernel does) but never
// answers: the slowest possible server.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd_, 4);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { close(fd_); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_;
  int port_;
};

TEST(HttpsChallengeTest, SlowServerIsRefusedWithinTheTimeout) {
  SilentListener server;
  VerifyOptions options;
  options.timeout = absl::Milliseconds(1200);
  options.resolve["slow.example"] = server.address();
  options.allow_private_addresses = true;
  const absl::Time start = absl::Now();
  EXPECT_THAT(CheckHttpsChallenge("slow.example", "tok", options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("HTTPS: timed out")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(HttpsChallengeTest, PrivateAddressesAreRefusedOutsideTests) {
  SilentListener server;
  VerifyOptions options;
  options.resolve["inside.example"] = server.address();
  EXPECT_THAT(CheckHttpsChallenge("inside.example", "tok", options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("private or loopback")));
}

TEST(HttpsChallengeTest, ReasonNamesNeitherHostNorToken) {
  SilentListener server;
  VerifyOptions options;
  options.timeout = absl::Milliseconds(300);
  options.resolve["secret-host.example"] = server.address();
  options.allow_private_addresses = true;
  absl::Status status = CheckHttpsChallenge("secret-host.example", "secret-token", options);
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr("secret")));
}

}  // namespace
}  // namespace optout::verify
