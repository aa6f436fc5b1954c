// Issue 9 (every surface faces the internet), on the HTTP listeners
// (--http_listen, --metrics_listen): Debian's cpp-httplib 0.11 kept a
// request line or a header block in memory for as long as a peer sent one;
// an 8 MiB/s dribble of 'a' grew optoutd without bound. Each test is bounded
// in time (< 30 s) and memory (<= 256 MiB sent).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/e2e/adversarial_util.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

const bool kSigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

constexpr int64_t kMiB = 1 << 20;

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return fd;
}

using testing::PortFromLog;

// The port a listener wrote to its port file.
int PortFromFile(const std::string& file) {
  std::ifstream in(file);
  int port = 0;
  in >> port;
  return port;
}

struct Flood {
  int64_t bytes_sent = 0;
  bool server_closed = false;
  int64_t peak_rss_growth = 0;
};

// Sends `prefix`, then `filler` over and over (never the end of a request
// head) until the server closes the connection or `most` bytes went out.
Flood SendEndlessHead(pid_t server, int port, const std::string& prefix,
                      const std::string& filler, int64_t most) {
  Flood flood;
  const int64_t rss_at_start = testing::ProcessRssBytes(server);
  const int fd = Connect(port);
  EXPECT_GE(fd, 0);
  if (fd < 0) return flood;
  std::string chunk = prefix;
  while (chunk.size() < (64 << 10)) chunk += filler;
  const std::string fillers = [&] {
    std::string more;
    while (more.size() < (64 << 10)) more += filler;
    return more;
  }();
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (flood.bytes_sent < most && absl::Now() < give_up) {
    const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      flood.server_closed = errno == EPIPE || errno == ECONNRESET;
      break;
    }
    flood.bytes_sent += n;
    chunk = fillers;
    if (flood.bytes_sent % (4 * kMiB) < (64 << 10)) {
      flood.peak_rss_growth =
          std::max(flood.peak_rss_growth, testing::ProcessRssBytes(server) - rss_at_start);
    }
  }
  flood.peak_rss_growth =
      std::max(flood.peak_rss_growth, testing::ProcessRssBytes(server) - rss_at_start);
  ::close(fd);
  return flood;
}

class AdversarialHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/optout-adversarial-http-XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_ = std::make_unique<testing::OptoutdProcess>(std::vector<std::string>{
        "--http_listen=127.0.0.1:0", "--http_port_file=" + dir_ + "/http.port",
        "--metrics_listen=127.0.0.1:0"});
    ASSERT_TRUE(server_->Start().ok()) << server_->ReadLog();
    http_port_ = PortFromFile(dir_ + "/http.port");
    metrics_port_ = PortFromLog(server_->ReadLog(), "serving metrics on port ");
    ASSERT_GT(http_port_, 0);
    ASSERT_GT(metrics_port_, 0) << server_->ReadLog();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Both listeners still answer a normal request.
  void ExpectStillServing() {
    httplib::Client http("127.0.0.1", http_port_);
    auto info = http.Get("/v1/info");
    ASSERT_TRUE(info) << httplib::to_string(info.error());
    EXPECT_EQ(info->status, 200);
    httplib::Client metrics("127.0.0.1", metrics_port_);
    auto scrape = metrics.Get("/metrics");
    ASSERT_TRUE(scrape) << httplib::to_string(scrape.error());
    EXPECT_EQ(scrape->status, 200);
  }

  std::string dir_;
  std::unique_ptr<testing::OptoutdProcess> server_;
  int http_port_ = 0;
  int metrics_port_ = 0;
};

TEST_F(AdversarialHttpTest, AnEndlessRequestLineIsCutOffAndCostsNoMemory) {
  for (int port : {http_port_, metrics_port_}) {
    SCOPED_TRACE(absl::StrCat("port ", port));
    const Flood flood = SendEndlessHead(server_->pid(), port, "GET /", "a", 256 * kMiB);
    EXPECT_TRUE(flood.server_closed) << "the server read " << flood.bytes_sent << " bytes";
    // The head budget is 64 KiB; the rest is what the kernels buffer.
    EXPECT_LT(flood.bytes_sent, 32 * kMiB);
    EXPECT_LT(flood.peak_rss_growth, 32 * kMiB);
  }
  ExpectStillServing();
}

TEST_F(AdversarialHttpTest, EndlessHeaderLinesAreCutOffAndCostNoMemory) {
  for (int port : {http_port_, metrics_port_}) {
    SCOPED_TRACE(absl::StrCat("port ", port));
    const Flood flood = SendEndlessHead(server_->pid(), port, "GET /v1/info HTTP/1.1\r\nHost: x\r\n",
                                        "X-Filler: aaaaaaaaaaaaaaaa\r\n", 256 * kMiB);
    EXPECT_TRUE(flood.server_closed) << "the server read " << flood.bytes_sent << " bytes";
    EXPECT_LT(flood.bytes_sent, 32 * kMiB);
    EXPECT_LT(flood.peak_rss_growth, 32 * kMiB);
  }
  ExpectStillServing();
}

TEST_F(AdversarialHttpTest, ADribbledRequestHeadIsDroppedAtItsDeadline) {
  const int fd = Connect(http_port_);
  ASSERT_GE(fd, 0);
  const std::string start = "GET /v1/info HTTP/1.1\r\nX-Slow: ";
  ASSERT_EQ(::send(fd, start.data(), start.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(start.size()));
  const absl::Time began = absl::Now();
  bool closed = false;
  // One byte every 250 ms keeps every single read well inside its 10 s
  // timeout; only the head's own 10 s deadline can end it.
  while (!closed && absl::Now() - began < absl::Seconds(25)) {
    if (::send(fd, "a", 1, MSG_NOSIGNAL) != 1) break;
    pollfd one{fd, POLLIN, 0};
    if (::poll(&one, 1, 250) > 0) {
      char buffer[4096];
      while (::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT) > 0) {
      }
      closed = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT) == 0 || errno == ECONNRESET;
    }
  }
  const absl::Duration held = absl::Now() - began;
  ::close(fd);
  EXPECT_LT(held, absl::Seconds(14)) << "a dribbled head held a connection thread for " << held;
  ExpectStillServing();
}

// Sends `request` on a new connection; when `hang_up`, closes it as soon as
// the request is out, else reads the whole answer. Returns the server CPU
// spent from the first byte until the server is idle again (< 10 ms in a
// 250 ms slice), at most 30 s.
absl::Duration ServerCpuForRequest(pid_t server, int port, const std::string& request,
                                   bool hang_up,
                                   absl::string_view expected_status = "HTTP/1.1 200") {
  const absl::Duration cpu_before = testing::ProcessCpuTime(server);
  const int fd = Connect(port);
  EXPECT_GE(fd, 0);
  if (fd < 0) return absl::ZeroDuration();
  timeval patient{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &patient, sizeof(patient));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patient, sizeof(patient));
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  if (!hang_up) {
    char buffer[1 << 16];
    std::string answer;
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
      answer.append(buffer, static_cast<size_t>(n));
      if (answer.find("\r\n\r\n") != std::string::npos && answer.back() == '}') break;
    }
    EXPECT_TRUE(absl::StartsWith(answer, expected_status)) << answer.substr(0, 300);
  }
  ::close(fd);
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  for (;;) {
    const absl::Duration slice_start = testing::ProcessCpuTime(server);
    absl::SleepFor(absl::Milliseconds(250));
    if (testing::ProcessCpuTime(server) - slice_start < absl::Milliseconds(10) ||
        absl::Now() > give_up) {
      break;
    }
  }
  return testing::ProcessCpuTime(server) - cpu_before;
}

TEST(AdversarialHttpCheckTest, TheCheckOfAClientThatHungUpIsCancelled) {
  char tmpl[] = "/tmp/optout-adversarial-http-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  testing::OptoutdProcess server({"--http_listen=127.0.0.1:0",
                                  "--http_port_file=" + dir + "/http.port", "--check_threads=2",
                                  "--max_batch_items=80000", "--max_message_mb=64",
                                  "--anonymous_items_per_minute=1000000",
                                  "--audit_log=" + dir + "/audit.jsonl"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  const int port = PortFromFile(dir + "/http.port");
  const auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(testing::StoreManyPdqHashes(channel).ok());
  std::mt19937_64 rng(2);
  std::string body;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(testing::HeavyPdqCheck(rng, 20000), &body).ok());
  const std::string request =
      absl::StrCat("POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
                   "Content-Length: ", body.size(), "\r\n\r\n", body);
  const absl::Duration answered = ServerCpuForRequest(server.pid(), port, request, false);
  const absl::Duration abandoned = ServerCpuForRequest(server.pid(), port, request, true);
  // The JSON parse of the 7.7 MB body cannot be interrupted; the check
  // after it stops at its first chunk.
  EXPECT_LT(abandoned, answered);
  ASSERT_TRUE(server.Stop().ok());
  std::ifstream audit(dir + "/audit.jsonl");
  std::vector<std::string> checks;
  for (std::string line; std::getline(audit, line);) {
    if (line.find(R"("method":"Check")") != std::string::npos) checks.push_back(line);
  }
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_NE(checks[0].find(R"("status":"OK")"), std::string::npos) << checks[0];
  EXPECT_NE(checks[1].find(R"("status":"CANCELLED")"), std::string::npos) << checks[1];
  std::filesystem::remove_all(dir);
}

TEST(AdversarialHttpCheckTest, AnonymousBodiesArePaidForBeforeTheyAreParsed) {
  // Parsing a 7.7 MB JSON body costs ~0.5 CPU-s; charged after the parse,
  // a refused request was free to send again and again.
  char tmpl[] = "/tmp/optout-adversarial-http-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  testing::OptoutdProcess server({"--http_listen=127.0.0.1:0",
                                  "--http_port_file=" + dir + "/http.port",
                                  "--max_batch_items=80000", "--max_message_mb=64",
                                  "--anonymous_items_per_minute=600",
                                  "--register_rate_per_peer=60"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  const int port = PortFromFile(dir + "/http.port");
  std::mt19937_64 rng(3);
  std::string body;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(testing::HeavyPdqCheck(rng, 20000), &body).ok());
  auto post = [&](absl::string_view path) {
    return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
                        "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
  };
  // Over the default anonymous budget of 600 items a minute: refused unread.
  absl::Duration check_cpu;
  for (int i = 0; i < 10; ++i) {
    check_cpu += ServerCpuForRequest(server.pid(), port, post("/v1/check"), false, "HTTP/1.1 429");
  }
  EXPECT_LT(check_cpu, absl::Seconds(2)) << "refused anonymous bodies were parsed";
  // A registration pays one of its 60 a minute per 256 KiB of body: two such
  // bodies at most are read (and refused as malformed), the rest not.
  int refused_unread = 0;
  for (int i = 0; i < 10; ++i) {
    httplib::Client http("127.0.0.1", port);
    auto answer = http.Post("/v1/optouts", body, "application/json");
    ASSERT_TRUE(answer) << httplib::to_string(answer.error());
    if (answer->status == 429) ++refused_unread;
    else EXPECT_EQ(answer->status, 400) << answer->body.substr(0, 300);
  }
  EXPECT_GE(refused_unread, 8);
  ASSERT_TRUE(server.Stop().ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace optout
