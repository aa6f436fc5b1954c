// End to end (issue 16): optoutd --metrics_listen serves Prometheus text
// while it works, and the numbers add up: a scrape after a known load shows
// exactly the calls, items, matches, refusals and stored entries the test
// made, and scrapes during the load only ever see counters grow.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/common/digest/digest.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "optout/v1/optout.grpc.pb.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::testing::HasSubstr;

// Series (name plus labels, as printed) -> value, from one scrape.
std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtod(line.substr(space + 1), &value)) {
      ADD_FAILURE() << "not a sample line: " << line;
      continue;
    }
    samples[std::string(line.substr(0, space))] = value;
  }
  return samples;
}

// The metrics port optoutd logged ("serving metrics on port N").
int MetricsPort(const testing::OptoutdProcess& server) {
  return testing::PortFromLog(server.ReadLog(), "serving metrics on port ");
}

std::string Handled(const std::string& service, const std::string& method,
                    const std::string& code) {
  return absl::StrCat("grpc_server_handled_total{grpc_service=\"", service,
                      "\",grpc_method=\"", method, "\",grpc_code=\"", code, "\"}");
}
std::string HandlingCount(const std::string& service, const std::string& method,
                          const std::string& code) {
  return absl::StrCat("grpc_server_handling_seconds_count{grpc_service=\"", service,
                      "\",grpc_method=\"", method, "\",grpc_code=\"", code, "\"}");
}

std::string UrlOf(int i) { return absl::StrCat("https://img.example.org/metrics/", i, ".jpg"); }
std::string Sha256Of(int i) {
  return std::string(digest::AsStringView(digest::Sha256(absl::StrCat("file-", i))));
}

class MetricsE2eTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> flags) {
    flags.push_back("--metrics_listen=127.0.0.1:0");
    server_ = std::make_unique<testing::OptoutdProcess>(flags);
    ASSERT_TRUE(server_->Start().ok()) << server_->ReadLog();
    port_ = MetricsPort(*server_);
    ASSERT_GT(port_, 0) << server_->ReadLog();
    client_ = client::RegistryClient::Create(server_->address());
  }
  std::string Scrape() {
    httplib::Client http("127.0.0.1", port_);
    auto response = http.Get("/metrics");
    if (!response) {
      ADD_FAILURE() << "scrape failed: " << httplib::to_string(response.error());
      return "";
    }
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    return response->body;
  }

  std::unique_ptr<testing::OptoutdProcess> server_;
  std::unique_ptr<client::RegistryClient> client_;
  int port_ = 0;
};

TEST_F(MetricsE2eTest, CountersAddUpAfterALoadRunAndOnlyGrowDuringIt) {
  StartServer({});
  constexpr int kOptOuts = 40;
  for (int i = 0; i < kOptOuts; ++i) {
    v1::RegisterRequest request;
    request.set_request_id(testing::RequestIdFor(absl::StrCat("metrics-", i)));
    request.add_urls(UrlOf(i));
    request.add_sha256(Sha256Of(i));
    ASSERT_TRUE(client_->Register(request).ok());
  }

  // Each check: 20 typed URLs (every other one registered) and a packed
  // group of 5 SHA-256 digests (all registered).
  constexpr int kThreads = 4;
  constexpr int kChecksPerThread = 50;
  constexpr int kUrls = 20;
  constexpr int kPacked = 5;
  std::atomic<bool> loading{true};
  std::atomic<int> failures{0};
  std::vector<std::thread> load;
  for (int t = 0; t < kThreads; ++t) {
    load.emplace_back([&, t] {
      auto client = client::RegistryClient::Create(server_->address());
      for (int c = 0; c < kChecksPerThread; ++c) {
        v1::CheckRequest check;
        for (int u = 0; u < kUrls; ++u) {
          check.add_items()->set_url(u % 2 == 0 ? UrlOf((t + c + u) % kOptOuts)
                                                : UrlOf(1000 + u));
        }
        v1::PackedItems* packed = check.add_packed();
        packed->set_kind(v1::PackedItems::KIND_SHA256);
        for (int s = 0; s < kPacked; ++s) packed->mutable_data()->append(Sha256Of((c + s) % kOptOuts));
        auto answer = client->Check(check);
        if (!answer.ok()) ++failures;
      }
    });
  }
  // Scrapes while the load runs: no counter ever goes down.
  std::map<std::string, double> previous;
  int scrapes = 0;
  std::thread scraper([&] {
    while (loading.load()) {
      std::map<std::string, double> now = ParseExposition(Scrape());
      for (const auto& [series, value] : previous) {
        if (series.find("_total") != std::string::npos || series.find("_count") != std::string::npos ||
            series.find("_bucket") != std::string::npos) {
          EXPECT_GE(now[series], value) << series;
        }
      }
      previous = std::move(now);
      ++scrapes;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (auto& thread : load) thread.join();
  loading = false;
  scraper.join();
  ASSERT_EQ(failures.load(), 0);
  EXPECT_GE(scrapes, 1);

  const std::string text = Scrape();
  std::map<std::string, double> m = ParseExposition(text);
  constexpr int kChecks = kThreads * kChecksPerThread;
  EXPECT_EQ(m[Handled("optout.v1.Registry", "Register", "OK")], kOptOuts);
  EXPECT_EQ(m[Handled("optout.v1.Check", "Check", "OK")], kChecks);
  EXPECT_EQ(m[HandlingCount("optout.v1.Check", "Check", "OK")], kChecks);
  EXPECT_EQ(m["optout_checked_items_total{kind=\"url\"}"], kChecks * kUrls);
  EXPECT_EQ(m["optout_checked_items_total{kind=\"sha256\"}"], kChecks * kPacked);
  EXPECT_EQ(m["optout_matches_total{kind=\"url\"}"], kChecks * kUrls / 2);
  EXPECT_EQ(m["optout_matches_total{kind=\"sha256\"}"], kChecks * kPacked);
  EXPECT_EQ(m["optout_matches_total{kind=\"pdq\"}"], 0);
  EXPECT_EQ(m["optout_opt_outs"], kOptOuts);
  EXPECT_EQ(m["optout_index_entries{kind=\"url\"}"], kOptOuts);
  EXPECT_EQ(m["optout_index_entries{kind=\"sha256\"}"], kOptOuts);
  EXPECT_GT(m["optout_index_memory_bytes"], 0);
  EXPECT_GT(m["optout_data_disk_free_bytes"], 0);
  EXPECT_EQ(m["optout_check_queue_depth"], 0);
  EXPECT_EQ(m["optout_build_info{version=\"0.1.0\"}"], 1);
  EXPECT_TRUE(m.count("optout_rocksdb_live_data_size_bytes"));
  EXPECT_TRUE(m.count("optout_rocksdb_pending_compaction_bytes"));
  // Histogram buckets end in +Inf, which equals the count.
  EXPECT_EQ(m["grpc_server_handling_seconds_bucket{grpc_service=\"optout.v1.Check\","
              "grpc_method=\"Check\",grpc_code=\"OK\",le=\"+Inf\"}"],
            kChecks);
  // No request value is ever a label: no URL, host or digest in the text.
  EXPECT_EQ(text.find("example.org"), std::string::npos);
  EXPECT_EQ(text.find(digest::ToHex(Sha256Of(0))), std::string::npos);

  // A CheckStream of two batches is one call; its items count like any.
  {
    auto stub = v1::Check::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    auto stream = stub->CheckStream(&context);
    for (int b = 0; b < 2; ++b) {
      v1::CheckRequest batch;
      batch.set_tag(b);
      batch.add_items()->set_url(UrlOf(b));
      ASSERT_TRUE(stream->Write(batch));
    }
    stream->WritesDone();
    v1::CheckResponse answer;
    int answers = 0;
    while (stream->Read(&answer)) ++answers;
    ASSERT_TRUE(stream->Finish().ok());
    EXPECT_EQ(answers, 2);
  }
  m = ParseExposition(Scrape());
  EXPECT_EQ(m[Handled("optout.v1.Check", "CheckStream", "OK")], 1);
  EXPECT_EQ(m["optout_checked_items_total{kind=\"url\"}"], kChecks * kUrls + 2);
  EXPECT_EQ(m["optout_matches_total{kind=\"url\"}"], kChecks * kUrls / 2 + 2);

  // A revocation leaves the gauges.
  v1::RegisterRequest extra;
  extra.set_request_id(testing::RequestIdFor("metrics-extra"));
  extra.add_urls(UrlOf(5000));
  auto registered = client_->Register(extra);
  ASSERT_TRUE(registered.ok());
  ASSERT_TRUE(client_->Revoke(registered->opt_out_id(), registered->manage_token()).ok());
  m = ParseExposition(Scrape());
  EXPECT_EQ(m["optout_opt_outs"], kOptOuts);
  EXPECT_EQ(m["optout_index_entries{kind=\"url\"}"], kOptOuts);
  EXPECT_EQ(m[Handled("optout.v1.Registry", "Revoke", "OK")], 1);
}

TEST_F(MetricsE2eTest, RefusalsAreCountedByLimitAndStatusCode) {
  StartServer({"--register_rate_per_peer=2", "--anonymous_items_per_minute=5"});
  int refused = 0;
  for (int i = 0; i < 5; ++i) {
    v1::RegisterRequest request;
    request.set_request_id(testing::RequestIdFor(absl::StrCat("limited-", i)));
    request.add_urls(UrlOf(i));
    auto answer = client_->Register(request);
    if (answer.status().code() == absl::StatusCode::kResourceExhausted) ++refused;
  }
  ASSERT_EQ(refused, 3);
  v1::CheckRequest empty;  // INVALID_ARGUMENT: a request with no items
  EXPECT_EQ(client_->Check(empty).status().code(), absl::StatusCode::kInvalidArgument);
  v1::CheckRequest too_many;  // 10 items, over the anonymous budget of 5
  for (int i = 0; i < 10; ++i) too_many.add_items()->set_url(UrlOf(i));
  EXPECT_EQ(client_->Check(too_many).status().code(), absl::StatusCode::kResourceExhausted);

  std::map<std::string, double> m = ParseExposition(Scrape());
  EXPECT_EQ(m["optout_limit_rejections_total{limit=\"register_rate_per_peer\"}"], 3);
  EXPECT_EQ(m[Handled("optout.v1.Registry", "Register", "RESOURCE_EXHAUSTED")], 3);
  EXPECT_EQ(m[Handled("optout.v1.Registry", "Register", "OK")], 2);
  EXPECT_EQ(m[Handled("optout.v1.Check", "Check", "INVALID_ARGUMENT")], 1);
  EXPECT_EQ(m[Handled("optout.v1.Check", "Check", "RESOURCE_EXHAUSTED")], 1);
  EXPECT_EQ(m["optout_limit_rejections_total{limit=\"anonymous_items_per_minute\"}"], 1);
  EXPECT_EQ(m["optout_limit_rejections_total{limit=\"api_key_budget\"}"], 0);
  EXPECT_EQ(m["optout_checked_items_total{kind=\"url\"}"], 0);
}

TEST_F(MetricsE2eTest, AdminAndHttpCallsAreCountedByMethodAndCode) {
  const std::string http_port_file = "/tmp/metrics_e2e_http_" + std::to_string(::getpid());
  StartServer({"--http_listen=127.0.0.1:0", "--http_port_file=" + http_port_file});
  std::string port_text;
  int http_port = 0;
  {
    std::FILE* f = std::fopen(http_port_file.c_str(), "r");
    ASSERT_NE(f, nullptr);
    char buf[16] = {};
    std::fgets(buf, sizeof(buf), f);
    std::fclose(f);
    std::remove(http_port_file.c_str());
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(buf), &http_port));
  }
  httplib::Client http("127.0.0.1", http_port);
  ASSERT_TRUE(http.Get("/v1/info"));
  ASSERT_TRUE(http.Get("/v1/info"));
  auto bad = http.Post("/v1/check", "{\"items\": 1}", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  ASSERT_TRUE(http.Get("/v1/optouts/00/extra"));  // 404, no route of the API
  // Check sessions have routes of their own (not "other").
  auto opened = http.Post("/v1/check-sessions", "{}", "application/json");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->status, 200) << opened->body;
  auto unknown = http.Delete("/v1/check-sessions/00");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"keys", "list"}, {"keys", "revoke", "nobody"},
        {"rotate-keys", "--status"}}) {
    testing::RunAdmin(*server_, args);
  }

  std::map<std::string, double> m = ParseExposition(Scrape());
  EXPECT_EQ(m["http_server_requests_total{route=\"GET /v1/info\",code=\"200\"}"], 2);
  EXPECT_EQ(m["http_server_request_duration_seconds_count{route=\"GET /v1/info\",code=\"200\"}"],
            2);
  EXPECT_EQ(m["http_server_requests_total{route=\"POST /v1/check\",code=\"400\"}"], 1);
  EXPECT_EQ(m["http_server_requests_total{route=\"other\",code=\"404\"}"], 1);
  EXPECT_EQ(m["http_server_requests_total{route=\"POST /v1/check-sessions\",code=\"200\"}"], 1);
  EXPECT_EQ(
      m["http_server_requests_total{route=\"DELETE /v1/check-sessions/{id}\",code=\"404\"}"], 1);
  EXPECT_EQ(m[Handled("optout.admin.v1.Admin", "ListKeys", "OK")], 1);
  EXPECT_EQ(m[Handled("optout.admin.v1.Admin", "RevokeKey", "NOT_FOUND")], 1);
  EXPECT_EQ(m[Handled("optout.admin.v1.Admin", "GetKeyRotation", "OK")], 1);
  EXPECT_EQ(m[HandlingCount("optout.admin.v1.Admin", "ListKeys", "OK")], 1);
  EXPECT_EQ(m["optout_key_version"], 1);
  EXPECT_EQ(m["optout_key_rotation_running"], 0);
}

TEST(MetricsListenerTest, PlaintextOffLoopbackIsRefusedNamingTheFlag) {
  testing::OptoutdProcess server({"--metrics_listen=0.0.0.0:0"});
  EXPECT_FALSE(server.Start().ok());
  EXPECT_THAT(server.ReadLog(), HasSubstr("--metrics_listen 0.0.0.0:0 is reachable from the network"));
}

TEST(MetricsListenerTest, ServesOverTlsWithTheServersCertificate) {
  testing::OptoutdProcess server({"--metrics_listen=127.0.0.1:0"}, testing::Transport::kTls);
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  const int port = MetricsPort(server);
  ASSERT_GT(port, 0);
  httplib::SSLClient https("127.0.0.1", port);
  https.set_ca_cert_path(server.certificates().ca_cert.c_str());
  https.enable_server_certificate_verification(true);
  auto response = https.Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body, HasSubstr("optout_build_info"));
  // Plaintext HTTP gets no answer from a TLS listener.
  httplib::Client http("127.0.0.1", port);
  EXPECT_FALSE(http.Get("/metrics"));
}

}  // namespace
}  // namespace optout
