// Verified scopes (issue 10) against the real optoutd: a host or directory
// scope matches nothing until its host is proven by an HTTPS file or a DNS
// TXT record, served here by a TLS server and a DNS responder on 127.0.0.1
// (optoutd --testing --verify_resolve/--verify_dns/--verify_ca); proofs
// lapse when re-checks fail, pending scopes expire, and bad answers are
// refused with a reason in bounded time.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "service/verify/testing/txt_responder.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_certificates.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::OptoutCliBinary;
using testing::RunCommand;
using Json = nlohmann::json;

// What the challenge server answers for one host.
enum class Serve {
  kNothing,       // 404
  kToken,         // the token the test published
  kWrongContent,  // another token
  kRedirectAway,  // 302 to another host
  kRedirectSame,  // 302 to another path on the same host, which serves the token
  kHuge,          // 1 MiB body starting with the token
  kSlow,          // answers after 20 s
};

const std::vector<std::string> kHosts = {"owner.example.com", "dns.example.net",
                                         "wrong.example.com", "away.example.com",
                                         "same.example.com",  "huge.example.com",
                                         "slow.example.com",  "late.example.com"};

// An HTTPS server for the hosts above (one certificate names them all).
class ChallengeServer {
 public:
  explicit ChallengeServer(const testing::TestCertificates& certs)
      : server_(certs.server_cert.c_str(), certs.server_key.c_str()) {
    server_.Get(R"(/.well-known/optout-challenge/([0-9a-z]+)(/again)?)",
                [this](const httplib::Request& request, httplib::Response& response) {
                  Answer(request, response);
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~ChallengeServer() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  void Set(const std::string& host, Serve serve, const std::string& token = "") {
    absl::MutexLock lock(&mu_);
    serve_[host] = serve;
    if (!token.empty()) token_[host] = token;
  }

 private:
  void Answer(const httplib::Request& request, httplib::Response& response) {
    std::string host = request.get_header_value("Host");
    host = host.substr(0, host.find(':'));
    Serve serve = Serve::kNothing;
    std::string token;
    {
      absl::MutexLock lock(&mu_);
      if (serve_.count(host)) serve = serve_[host];
      token = token_[host];
    }
    const std::string path = request.matches[0];
    switch (serve) {
      case Serve::kNothing:
        response.status = 404;
        return;
      case Serve::kToken:
        response.set_content(token + "\n", "text/plain");
        return;
      case Serve::kWrongContent:
        response.set_content("0123456789abcdef0123456789abcdef", "text/plain");
        return;
      case Serve::kRedirectAway:
        response.set_redirect("https://owner.example.com" + path);
        return;
      case Serve::kRedirectSame:
        if (request.matches[2].length() == 0) {
          response.set_redirect("https://" + host + path + "/again");
        } else {
          response.set_content(token, "text/plain");
        }
        return;
      case Serve::kHuge:
        response.set_content(token + std::string(1 << 20, ' '), "text/plain");
        return;
      case Serve::kSlow:
        for (int i = 0; i < 400 && !stopping_; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        response.set_content(token, "text/plain");
        return;
    }
  }

  httplib::SSLServer server_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::map<std::string, Serve> serve_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> token_ ABSL_GUARDED_BY(mu_);
};

std::string TempDir() {
  char tmpl[] = "/tmp/optout-scopes-e2e-XXXXXX";
  return mkdtemp(tmpl) != nullptr ? std::string(tmpl) : std::string();
}

class ScopesE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    auto certs = testing::MakeTestCertificates(dir_, "challenge-", kHosts);
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
    challenge_ = std::make_unique<ChallengeServer>(certs_);
  }
  void TearDown() override {
    server_.reset();
    challenge_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts optoutd pointed at the local challenge servers.
  void StartServer(std::vector<std::string> flags = {}) {
    std::vector<std::string> all = {
        "--testing", "--verify_dns=" + dns_.address(), "--verify_ca=" + certs_.ca_cert,
        "--verify_timeout=2s", "--http_listen=127.0.0.1:0",
        "--http_port_file=" + dir_ + "/http.port"};
    std::string resolve = "--verify_resolve=";
    for (const std::string& host : kHosts) {
      if (resolve.back() != '=') resolve += ",";
      resolve += absl::StrCat(host, "=127.0.0.1:", challenge_->port());
    }
    all.push_back(resolve);
    all.insert(all.end(), flags.begin(), flags.end());
    server_ = std::make_unique<testing::OptoutdProcess>(all);
    ASSERT_TRUE(server_->Start().ok()) << server_->ReadLog();
  }

  testing::CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server_->address()});
    return RunCommand(args);
  }

  // Registers `scope` (and `url`, when given) with a receipt; returns the
  // --json answer.
  Json Register(const std::string& scope, const std::string& url = "") {
    receipt_ = absl::StrCat(dir_, "/receipt-", ++receipts_, ".json");
    std::vector<std::string> args = {"register", "--json", "--scope", scope, "--receipt", receipt_};
    if (!url.empty()) args.insert(args.end(), {"--url", url});
    auto reg = Optout(args);
    EXPECT_EQ(reg.exit_code, 0) << reg.err;
    return Json::parse(reg.out, nullptr, false);
  }

  // `optout verify --json --receipt` of the last registration: (exit code, answer).
  std::pair<int, Json> Verify() {
    auto verified = Optout({"verify", "--json", "--receipt", receipt_});
    return {verified.exit_code, Json::parse(verified.out, nullptr, false)};
  }

  // The state of the first scope of the last registration, as `optout get` shows it.
  std::string StateNow() {
    auto got = Optout({"get", "--json", "--receipt", receipt_});
    if (got.exit_code != 0) return "get failed: " + got.err;
    Json json = Json::parse(got.out, nullptr, false);
    return json["scope_states"][0]["state"];
  }

  // Waits up to `limit` for the first scope to reach `state`.
  bool WaitForState(const std::string& state, absl::Duration limit) {
    const absl::Time end = absl::Now() + limit;
    while (absl::Now() < end) {
      if (StateNow() == state) return true;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }

  std::string MatchOf(const std::string& url) {
    auto check = Optout({"check", "--json", "--url", url});
    EXPECT_EQ(check.exit_code, 0) << check.err;
    Json json = Json::parse(check.out, nullptr, false);
    return json["results"][0]["matched"] ? std::string(json["results"][0]["match"]) : "none";
  }

  std::string dir_;
  testing::TestCertificates certs_;
  verify::testing::TxtResponder dns_;
  std::unique_ptr<ChallengeServer> challenge_;
  std::unique_ptr<testing::OptoutdProcess> server_;
  std::string receipt_;
  int receipts_ = 0;
};

TEST_F(ScopesE2eTest, HttpsProofTurnsAPendingScopeOnAndAFailedRecheckLapsesIt) {
  StartServer({"--scope_recheck_interval=3s"});
  const Json registered =
      Register("https://owner.example.com/photos/", "https://owner.example.com/one.jpg");
  const std::string token = registered["challenge"]["token"];
  ASSERT_EQ(token.size(), 32u);
  EXPECT_EQ(registered["challenge"]["scopes"][0]["https_url"],
            "https://owner.example.com/.well-known/optout-challenge/" + token);
  EXPECT_EQ(registered["challenge"]["scopes"][0]["dns_name"],
            "_optout-challenge.owner.example.com");
  EXPECT_EQ(registered["scopes"][0]["state"], "pending");
  std::ifstream receipt(receipt_);
  EXPECT_EQ(Json::parse(receipt)["challenge"]["token"], token);

  // Pending: the scope matches nothing; the exact URL needs no proof.
  EXPECT_EQ(MatchOf("https://owner.example.com/photos/a.jpg"), "none");
  EXPECT_EQ(MatchOf("https://owner.example.com/one.jpg"), "url");
  auto [refused, refused_json] = Verify();
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(refused_json["scopes"][0]["state"], "pending");
  EXPECT_THAT(std::string(refused_json["scopes"][0]["reason"]), HasSubstr("HTTPS: answered 404"));
  EXPECT_THAT(std::string(refused_json["scopes"][0]["reason"]), HasSubstr("DNS: no such name"));

  challenge_->Set("owner.example.com", Serve::kToken, token);
  auto [ok, ok_json] = Verify();
  EXPECT_EQ(ok, 0);
  EXPECT_EQ(ok_json["scopes"][0]["state"], "verified");
  EXPECT_EQ(ok_json["scopes"][0]["method"], "https");
  EXPECT_EQ(MatchOf("https://owner.example.com/photos/a.jpg"), "scope");
  EXPECT_EQ(MatchOf("https://owner.example.com/other/a.jpg"), "none");

  // The file is taken down: the next re-check lapses the scope.
  challenge_->Set("owner.example.com", Serve::kNothing);
  ASSERT_TRUE(WaitForState("lapsed", absl::Seconds(10))) << StateNow();
  EXPECT_EQ(MatchOf("https://owner.example.com/photos/a.jpg"), "none");
  EXPECT_EQ(MatchOf("https://owner.example.com/one.jpg"), "url");
  EXPECT_THAT(server_->ReadLog(), HasSubstr("1 lapsed"));
  EXPECT_THAT(server_->ReadLog(), ::testing::Not(HasSubstr("owner.example.com")));

  // Put back and verified again.
  challenge_->Set("owner.example.com", Serve::kToken);
  EXPECT_EQ(Verify().first, 0);
  EXPECT_EQ(MatchOf("https://owner.example.com/photos/a.jpg"), "scope");
}

TEST_F(ScopesE2eTest, DnsProofOverTheJsonApiSurvivesRestart) {
  StartServer();
  const Json registered = Register("https://dns.example.net/");
  const std::string id = registered["id"];
  const std::string token = registered["token"];
  const std::string challenge = registered["challenge"]["token"];
  dns_.Set("_optout-challenge.dns.example.net", {"v=unrelated", challenge});

  std::ifstream port_file(dir_ + "/http.port");
  int http_port = 0;
  port_file >> http_port;
  httplib::Client http("127.0.0.1", http_port);
  auto answer = http.Post(("/v1/optouts/" + id + "/verify").c_str(),
                          httplib::Headers{{"Authorization", "Bearer " + token}}, "", "");
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  Json verified = Json::parse(answer->body);
  EXPECT_EQ(verified["scopes"][0]["state"], "SCOPE_STATE_VERIFIED");
  EXPECT_EQ(verified["scopes"][0]["method"], "dns");
  EXPECT_EQ(verified["scopes"][0]["host"], "dns.example.net");
  auto got = http.Get(("/v1/optouts/" + id).c_str(),
                      httplib::Headers{{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(got);
  EXPECT_EQ(Json::parse(got->body)["scopes"][0]["state"], "SCOPE_STATE_VERIFIED");
  EXPECT_EQ(Json::parse(got->body)["challengeToken"], challenge);
  auto wrong = http.Post(("/v1/optouts/" + id + "/verify").c_str(),
                         httplib::Headers{{"Authorization", "Bearer " + std::string(64, '0')}}, "",
                         "");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);

  EXPECT_EQ(MatchOf("https://cdn.dns.example.net/x.jpg"), "scope");
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(server_->Start().ok()) << server_->ReadLog();
  EXPECT_EQ(MatchOf("https://cdn.dns.example.net/x.jpg"), "scope");
  EXPECT_EQ(StateNow(), "verified");
}

TEST_F(ScopesE2eTest, PendingScopeExpiresAndIsNotProvenAfterwards) {
  StartServer({"--pending_scope_expiry=2s"});
  const Json registered = Register("https://late.example.com/");
  ASSERT_TRUE(WaitForState("expired", absl::Seconds(8))) << StateNow();
  challenge_->Set("late.example.com", Serve::kToken, registered["challenge"]["token"]);
  auto [code, json] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(json["scopes"][0]["state"], "expired");
  EXPECT_EQ(MatchOf("https://late.example.com/a.jpg"), "none");
}

TEST_F(ScopesE2eTest, BadAnswersAreRefusedWithAReasonInBoundedTime) {
  StartServer();
  struct Case {
    std::string host;
    Serve serve;
    std::string reason;
  };
  const Case cases[] = {
      {"wrong.example.com", Serve::kWrongContent, "HTTPS: wrong token content"},
      {"away.example.com", Serve::kRedirectAway, "HTTPS: redirects to another host"},
      {"huge.example.com", Serve::kHuge, "HTTPS: body larger than 1024 bytes"},
      {"slow.example.com", Serve::kSlow, "HTTPS: timed out after 2s"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.host);
    const Json registered = Register("https://" + c.host + "/");
    challenge_->Set(c.host, c.serve, registered["challenge"]["token"]);
    const absl::Time start = absl::Now();
    auto [code, json] = Verify();
    // HTTPS within --verify_timeout, DNS at once (NXDOMAIN), plus the CLI.
    EXPECT_LT(absl::Now() - start, absl::Seconds(6));
    EXPECT_EQ(code, 1);
    EXPECT_EQ(json["scopes"][0]["state"], "pending");
    EXPECT_THAT(std::string(json["scopes"][0]["reason"]), HasSubstr(c.reason));
    EXPECT_EQ(MatchOf("https://" + c.host + "/a.jpg"), "none");
  }
  // A wrong TXT record is refused as well; a redirect within the host is followed.
  const Json dns_wrong = Register("https://wrong.example.com/dir/");
  dns_.Set("_optout-challenge.wrong.example.com", {"not-the-token"});
  auto [code, json] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_THAT(std::string(json["scopes"][0]["reason"]), HasSubstr("DNS: wrong token content"));
  const Json same = Register("https://same.example.com/");
  challenge_->Set("same.example.com", Serve::kRedirectSame, same["challenge"]["token"]);
  EXPECT_EQ(Verify().first, 0);
  EXPECT_EQ(MatchOf("https://same.example.com/a.jpg"), "scope");
  EXPECT_NE(server_->pid(), -1);  // still serving
}

TEST_F(ScopesE2eTest, TestOnlyFlagsAreRefusedWithoutTesting) {
  for (const std::string& flag :
       {std::string("--verify_dns=127.0.0.1:53"), std::string("--verify_resolve=a.example=127.0.0.1:1"),
        "--verify_ca=" + certs_.ca_cert}) {
    auto run = RunCommand({testing::OptoutdBinary(), "--data_dir=" + dir_ + "/never", flag});
    EXPECT_EQ(run.exit_code, 2) << flag;
    EXPECT_THAT(run.err, HasSubstr("need --testing")) << flag;
  }
}

}  // namespace
}  // namespace optout
