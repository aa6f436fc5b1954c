// The JSON API of optoutd --http_listen against the real binary, through a
// plain HTTP client: every route, every class of bad input (nothing
// written), the page's security headers, limits shared with gRPC, and TLS.
#include <stdlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/common/receipt/check_receipt.h"
#include "client/common/receipt/items_digest.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "service/verify/testing/txt_responder.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string TempDir() {
  char tmpl[] = "/tmp/optout-http-e2e-XXXXXX";
  return mkdtemp(tmpl) != nullptr ? std::string(tmpl) : std::string();
}

int ReadPort(const std::string& file) {
  std::ifstream in(file);
  int port = 0;
  in >> port;
  return port;
}

// A client writing to a connection the server has refused (a TLS handshake
// without a client certificate) gets EPIPE rather than being killed.
const bool kSigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

std::string B64(const std::string& bytes) { return absl::Base64Escape(bytes); }

// Writes `request` on a fresh connection and reads one answer (headers and
// Content-Length bytes), for 5 s at most: for requests no HTTP client
// library would send.
std::string RawExchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
      answer.append(buffer, n);
      const size_t end_of_headers = answer.find("\r\n\r\n");
      const size_t length_at = answer.find("Content-Length: ");
      if (end_of_headers == std::string::npos || length_at == std::string::npos) continue;
      const size_t length = std::stoul(answer.substr(length_at + 16));
      if (answer.size() >= end_of_headers + 4 + length) break;
    }
  }
  ::close(fd);
  return answer;
}

// One optoutd with HTTP on a free loopback port.
class HttpServerUnderTest {
 public:
  explicit HttpServerUnderTest(std::vector<std::string> flags = {},
                               testing::Transport transport = testing::Transport::kPlaintext)
      : dir_(TempDir()), server_(WithHttp(flags, dir_), transport) {}
  ~HttpServerUnderTest() { std::filesystem::remove_all(dir_); }

  absl::Status Start() {
    absl::Status started = server_.Start();
    if (started.ok()) port_ = ReadPort(dir_ + "/http.port");
    return started;
  }
  int port() const { return port_; }
  testing::OptoutdProcess& process() { return server_; }

 private:
  static std::vector<std::string> WithHttp(std::vector<std::string> flags, const std::string& dir) {
    flags.push_back("--http_listen=127.0.0.1:0");
    flags.push_back("--http_port_file=" + dir + "/http.port");
    return flags;
  }
  std::string dir_;
  testing::OptoutdProcess server_;
  int port_ = 0;
};

class HttpE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.process().ReadLog();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_.port());
  }

  httplib::Result Post(const std::string& path, const std::string& body) {
    return client_->Post(path.c_str(), body, "application/json");
  }
  httplib::Result GetWithToken(const std::string& id, const std::string& token) {
    return client_->Get(("/v1/optouts/" + id).c_str(), {{"Authorization", "Bearer " + token}});
  }
  // Whether `url` matches anything now (HTTP check).
  bool UrlMatches(const std::string& url) {
    auto r = Post("/v1/check", Json{{"items", {{{"url", url}}}}}.dump());
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    if (!r || r->status != 200) return false;
    return Json::parse(r->body)["results"][0]["matched"].get<bool>();
  }
  static void ExpectError(const httplib::Result& r, int status, const std::string& code,
                          const std::string& message_part = "") {
    ASSERT_TRUE(r) << "no answer";
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    Json body = Json::parse(r->body);
    EXPECT_EQ(body["code"], code) << r->body;
    EXPECT_THAT(body["message"].get<std::string>(), HasSubstr(message_part));
  }

  // The DNS server of scope challenges (optoutd --testing --verify_dns).
  verify::testing::TxtResponder dns_;
  HttpServerUnderTest server_{
      {"--max_message_mb=1", "--testing", "--verify_dns=" + dns_.address()}};
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpE2eTest, RegisterGetCheckRevokeRoundTrip) {
  std::mt19937 rng(7);
  const std::string pdq = testing::BalancedRandomPdq(rng);
  const std::string sha256(32, '\x5a');
  Json request = {{"requestId", testing::RequestIdFor("http-1")},
                  {"urls", {"https://img.example.net/http/1.jpg"}},
                  {"scopes", {"https://private.example.net/me/"}},
                  {"pdq", {{{"hash", B64(pdq)}, {"quality", 90}}}},
                  {"sha256", {B64(sha256)}}};
  auto registered = Post("/v1/optouts", request.dump());
  ASSERT_TRUE(registered && registered->status == 200) << (registered ? registered->body : "");
  Json receipt = Json::parse(registered->body);
  const std::string id = receipt["optOutId"];
  const std::string token = receipt["manageToken"];
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(token.size(), 64u);

  auto got = GetWithToken(id, token);
  ASSERT_TRUE(got && got->status == 200) << (got ? got->body : "");
  Json counts = Json::parse(got->body);
  EXPECT_EQ(counts["optOutId"], id);
  EXPECT_EQ(counts["urlCount"], 1);
  EXPECT_EQ(counts["scopeCount"], 1);
  EXPECT_EQ(counts["pdqCount"], 1);
  EXPECT_EQ(counts["sha256Count"], 1);
  EXPECT_EQ(counts["md5Count"], 0);  // zero counts are printed, not left out
  EXPECT_FALSE(counts["createdUnixSeconds"].get<std::string>().empty());
  // The scope matches once its host is proven (a TXT record here), asked
  // for through the JSON API.
  const std::string challenge = receipt["challengeToken"];
  EXPECT_EQ(receipt["scopes"][0]["state"], "SCOPE_STATE_PENDING");
  EXPECT_EQ(counts["scopes"][0]["dnsName"], "_optout-challenge.private.example.net");
  EXPECT_FALSE(UrlMatches("https://private.example.net/me/x.png"));
  dns_.Set("_optout-challenge.private.example.net", {challenge});
  auto verified = client_->Post(("/v1/optouts/" + id + "/verify").c_str(),
                                {{"Authorization", "Bearer " + token}}, "", "");
  ASSERT_TRUE(verified && verified->status == 200) << (verified ? verified->body : "");
  EXPECT_EQ(Json::parse(verified->body)["scopes"][0]["state"], "SCOPE_STATE_VERIFIED");

  Json check = {{"items",
                 {{{"url", "http://img.example.net/http/1.jpg"}},
                  {{"url", "https://private.example.net/me/x.png"}},
                  {{"pdq", {{"hash", B64(pdq)}}}},
                  {{"sha256", B64(sha256)}},
                  {{"url", "https://img.example.net/other.jpg"}}}}};
  auto checked = Post("/v1/check", check.dump());
  ASSERT_TRUE(checked && checked->status == 200) << (checked ? checked->body : "");
  Json results = Json::parse(checked->body)["results"];
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0]["kind"], "MATCH_KIND_URL");
  // Answers name the registered item's match id (listed by Register), not
  // the opt-out.
  EXPECT_EQ(results[0]["matchIds"][0], receipt["items"][0]["matchId"]);
  EXPECT_NE(results[0]["matchIds"][0], id);
  EXPECT_EQ(results[1]["kind"], "MATCH_KIND_SCOPE");
  EXPECT_EQ(results[2]["kind"], "MATCH_KIND_PDQ");
  EXPECT_EQ(results[3]["kind"], "MATCH_KIND_SHA256");
  EXPECT_EQ(results[4]["matched"], false);

  auto revoked = client_->Delete(("/v1/optouts/" + id).c_str(),
                                 {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(revoked && revoked->status == 200) << (revoked ? revoked->body : "");
  // The only field: the registry version of the revocation (issue 13;
  // proto3 JSON writes 64-bit integers as strings).
  const Json revoke_body = Json::parse(revoked->body);
  EXPECT_EQ(revoke_body.size(), 1u) << revoked->body;
  EXPECT_GT(std::stoull(revoke_body.value("version", "0")), 0u) << revoked->body;
  EXPECT_FALSE(UrlMatches("https://img.example.net/http/1.jpg"));
  ExpectError(client_->Delete(("/v1/optouts/" + id).c_str(), {{"Authorization", "Bearer " + token}}),
              400, "FAILED_PRECONDITION", "already revoked on");
}

// Check sessions over HTTP (issue 14): the same admission, ownership,
// batch numbering and signed receipt as over gRPC.
TEST_F(HttpE2eTest, CheckSessionsGiveASignedReceipt) {
  auto opened = Post("/v1/check-sessions", "{}");
  ASSERT_TRUE(opened && opened->status == 200) << (opened ? opened->body : "");
  const Json session = Json::parse(opened->body);
  const std::string id = session["sessionId"];
  EXPECT_EQ(id.size(), 32u);
  auto info = client_->Get("/v1/info");
  ASSERT_TRUE(info && info->status == 200);
  const Json info_json = Json::parse(info->body);
  EXPECT_EQ(session["receiptKeyFingerprint"], info_json["receiptKeyFingerprint"]);

  receipt::ItemsDigest mine;
  auto check = [&](const std::string& url, int batch, httplib::Headers headers) {
    Json body = {{"items", {{{"url", url}}}}, {"sessionBatch", std::to_string(batch)}};
    v1::CheckRequest request;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(body.dump(), &request).ok());
    headers.emplace("Optout-Session", id);
    return std::make_pair(client_->Post("/v1/check", headers, body.dump(), "application/json"),
                          request);
  };
  for (int batch = 1; batch <= 2; ++batch) {
    auto [answer, request] = check(absl::StrCat("https://s.example.org/", batch, ".jpg"), batch, {});
    ASSERT_TRUE(answer && answer->status == 200) << (answer ? answer->body : "");
    mine.Add(request);
  }
  // Batch 2 again (a retry): answered, counted once.
  auto resent = check("https://s.example.org/2.jpg", 2, {});
  ASSERT_TRUE(resent.first && resent.first->status == 200);
  // Batch 4 skips 3; other items under number 1; a bad part; another owner.
  ExpectError(check("https://s.example.org/4.jpg", 4, {}).first, 400, "FAILED_PRECONDITION",
              "session_batch 4");
  {
    Json two = {{"items", {{{"url", "https://s.example.org/1.jpg"}}, {{"url", "https://s.example.org/9.jpg"}}}},
                {"sessionBatch", "1"}};
    ExpectError(client_->Post("/v1/check", {{"Optout-Session", id}}, two.dump(), "application/json"),
                400, "FAILED_PRECONDITION", "other items");
  }
  ExpectError(check("https://s.example.org/5.jpg", 3, {{"Optout-Session-Part", "x"}}).first, 400,
              "INVALID_ARGUMENT", "Optout-Session-Part");
  ExpectError(check("https://s.example.org/5.jpg", 3, {{"Authorization", "Bearer someone-else"}})
                  .first,
              404, "NOT_FOUND", "check session");
  ExpectError(Post("/v1/check-sessions", "{\"x\": 1}"), 400, "INVALID_ARGUMENT",
              "OpenCheckSessionRequest");
  ExpectError(client_->Get(("/v1/check-sessions/" + id).c_str()), 405, "UNIMPLEMENTED");

  auto closed = client_->Delete(("/v1/check-sessions/" + id).c_str());
  ASSERT_TRUE(closed && closed->status == 200) << (closed ? closed->body : "");
  v1::CloseCheckSessionResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(closed->body, &response).ok());
  const v1::CheckReceipt& r = response.receipt();
  std::string key;
  ASSERT_TRUE(absl::Base64Unescape(info_json["receiptPublicKey"].get<std::string>(), &key));
  EXPECT_TRUE(receipt::VerifyReceipt(r, key).ok());
  EXPECT_EQ(r.url_items(), 2u);
  const receipt::Digest32 expected = receipt::CombineParts({{0, mine.Finish()}});
  EXPECT_EQ(r.items_digest(), std::string(expected.begin(), expected.end()));
  ExpectError(client_->Delete(("/v1/check-sessions/" + id).c_str()), 404, "NOT_FOUND");
}

TEST_F(HttpE2eTest, InfoPublishesTheServerSettings) {
  auto r = client_->Get("/v1/info");
  ASSERT_TRUE(r && r->status == 200);
  Json info = Json::parse(r->body);
  EXPECT_EQ(info["pdqThreshold"], 31);
  EXPECT_EQ(info["minPdqQuality"], 50);
  EXPECT_FALSE(info["pslVersion"].get<std::string>().empty());
}

TEST_F(HttpE2eTest, ServesThePublicSuffixListItComputesExpressionsWith) {
  auto info = client_->Get("/v1/info");
  auto r = client_->Get("/v1/public-suffix-list");
  ASSERT_TRUE(info && info->status == 200 && r && r->status == 200);
  Json list = Json::parse(r->body);
  // bytes travel as base64 in protobuf's JSON mapping.
  const std::string encoded = list["list"];
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(encoded, &decoded));
  EXPECT_NE(decoded.find("// ===BEGIN ICANN DOMAINS==="), std::string::npos);
  EXPECT_EQ(list["sha256"], Json::parse(info->body)["pslSha256"]);
  EXPECT_EQ(list["version"], Json::parse(info->body)["pslVersion"]);
  EXPECT_EQ(client_->Post("/v1/public-suffix-list", "{}", "application/json")->status, 405);
}

TEST_F(HttpE2eTest, ManageCallsNeedTheBearerToken) {
  auto registered =
      Post("/v1/optouts", Json{{"requestId", testing::RequestIdFor("http-auth")},
                               {"urls", {"https://img.example.net/auth.jpg"}}}.dump());
  ASSERT_TRUE(registered && registered->status == 200);
  Json receipt = Json::parse(registered->body);
  const std::string id = receipt["optOutId"];
  std::string wrong = receipt["manageToken"];
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';

  ExpectError(client_->Get(("/v1/optouts/" + id).c_str()), 401, "UNAUTHENTICATED",
              "Authorization: Bearer");
  ExpectError(client_->Delete(("/v1/optouts/" + id).c_str()), 401, "UNAUTHENTICATED");
  ExpectError(GetWithToken(id, wrong), 403, "PERMISSION_DENIED", "manage_token");
  ExpectError(client_->Delete(("/v1/optouts/" + id).c_str(), {{"Authorization", "Bearer " + wrong}}),
              403, "PERMISSION_DENIED");
  EXPECT_TRUE(UrlMatches("https://img.example.net/auth.jpg"));  // a wrong token revokes nothing
  ExpectError(GetWithToken(std::string(32, '0'), receipt["manageToken"]), 404, "NOT_FOUND");
  ExpectError(GetWithToken("not-hex", receipt["manageToken"]), 400, "INVALID_ARGUMENT",
              "opt_out_id");
}

TEST_F(HttpE2eTest, MalformedBodiesAreRefusedAndNothingIsWritten) {
  const std::string url = "https://img.example.net/never.jpg";
  const std::string id = testing::RequestIdFor("http-bad");
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"not JSON", "{\"requestId\": \"" + id + "\", \"urls\": [\"" + url + "\""},
      {"wrong type", Json{{"requestId", id}, {"urls", url}}.dump()},
      {"wrong type in a list", Json{{"requestId", id}, {"urls", {url, 5}}}.dump()},
      {"unknown field", Json{{"requestId", id}, {"urls", {url}}, {"photo", "AAAA"}}.dump()},
      {"not an object", Json{{{"requestId", id}}}.dump()},
      {"bytes not base64", Json{{"requestId", id}, {"urls", {url}}, {"sha256", {"%%%"}}}.dump()},
      {"empty", ""},
  };
  for (const auto& [what, body] : bodies) {
    SCOPED_TRACE(what);
    ExpectError(Post("/v1/optouts", body), 400, "INVALID_ARGUMENT", "RegisterRequest");
  }
  ExpectError(client_->Post("/v1/optouts", Json{{"requestId", id}, {"urls", {url}}}.dump(),
                            "text/plain"),
              415, "INVALID_ARGUMENT", "application/json");
  // Valid JSON that the core refuses: the field and item are named.
  ExpectError(Post("/v1/optouts", Json{{"requestId", id},
                                       {"urls", {url}},
                                       {"sha256", {B64("short")}}}.dump()),
              400, "INVALID_ARGUMENT", "sha256");
  ExpectError(Post("/v1/check", Json{{"items", {{{"url", 5}}}}}.dump()), 400, "INVALID_ARGUMENT",
              "CheckRequest");
  ExpectError(Post("/v1/check", Json{{"itemz", Json::array()}}.dump()), 400, "INVALID_ARGUMENT",
              "itemz");
  ExpectError(Post("/v1/check", Json::object().dump()), 400, "INVALID_ARGUMENT");
  EXPECT_FALSE(UrlMatches(url));
}

TEST_F(HttpE2eTest, OversizedBodiesAre413AndUnsizedOnes411) {
  // --max_message_mb=1 for this server. The refusal comes from the
  // Content-Length, before any of the body is read: these requests send none.
  for (const char* path : {"/v1/optouts", "/v1/check"}) {
    SCOPED_TRACE(path);
    const std::string answer = RawExchange(
        server_.port(), absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: x\r\n",
                                     "Content-Type: application/json\r\n",
                                     "Content-Length: 1048577\r\n\r\n"));
    EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 413"));
    EXPECT_THAT(answer, HasSubstr("\"code\":\"RESOURCE_EXHAUSTED\""));
    EXPECT_THAT(answer, HasSubstr("--max_message_mb"));
  }
  const std::string chunked = RawExchange(
      server_.port(), "POST /v1/optouts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_THAT(chunked, ::testing::StartsWith("HTTP/1.1 411"));
  EXPECT_THAT(chunked, HasSubstr("Content-Length"));
  // Just under the limit is read and parsed (and refused by the core).
  const std::string url = "https://img.example.net/big.jpg";
  Json almost = {{"requestId", testing::RequestIdFor("http-big")}, {"urls", {url}}, {"scopes", {""}}};
  const size_t padding = (1u << 20) - almost.dump().size();
  almost["scopes"][0] = std::string(padding, 'a');
  ASSERT_EQ(almost.dump().size(), 1u << 20);
  ExpectError(Post("/v1/optouts", almost.dump()), 400, "INVALID_ARGUMENT", "scopes[0]");
  EXPECT_FALSE(UrlMatches(url));
}

TEST_F(HttpE2eTest, UnknownPathsAndMethods) {
  ExpectError(client_->Get("/v1/nothing"), 404, "NOT_FOUND");
  ExpectError(client_->Get("/v1/check"), 405, "UNIMPLEMENTED", "POST");
  ExpectError(client_->Delete("/v1/optouts"), 405, "UNIMPLEMENTED");
  ExpectError(client_->Post("/index.html", "{}", "application/json"), 405, "UNIMPLEMENTED");
  auto missing = client_->Get("/no-such-page.html");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpE2eTest, EveryAnswerCarriesTheSecurityHeadersAndNoCookie) {
  for (const char* path : {"/", "/v1/info", "/v1/nothing"}) {
    SCOPED_TRACE(path);
    auto r = client_->Get(path);
    ASSERT_TRUE(r);
    const std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_THAT(csp, HasSubstr("default-src 'none'"));
    EXPECT_THAT(csp, HasSubstr("script-src 'self' 'wasm-unsafe-eval';"));
    EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
    EXPECT_THAT(csp, ::testing::Not(HasSubstr("unsafe-inline")));
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
    EXPECT_FALSE(r->has_header("Set-Cookie"));
  }
  auto page = client_->Get("/");
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
}

TEST(HttpE2eLimitsTest, RegisterRateIsSharedWithGrpcAndAnswers429) {
  HttpServerUnderTest server({"--register_rate_per_peer=2"});
  ASSERT_TRUE(server.Start().ok()) << server.process().ReadLog();
  httplib::Client client("127.0.0.1", server.port());
  int refused = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = client.Post(
        "/v1/optouts",
        Json{{"requestId", testing::RequestIdFor(absl::StrCat("rate-", i))},
             {"urls", {absl::StrCat("https://img.example.net/rate/", i, ".jpg")}}}.dump(),
        "application/json");
    ASSERT_TRUE(r);
    if (r->status == 429) {
      ++refused;
      EXPECT_EQ(Json::parse(r->body)["code"], "RESOURCE_EXHAUSTED");
    }
  }
  EXPECT_EQ(refused, 1);
}

TEST(HttpE2eLimitsTest, ChecksGoThroughApiKeysAndTheAnonymousBudget) {
  HttpServerUnderTest server({"--anonymous_items_per_minute=2"});
  ASSERT_TRUE(server.Start().ok()) << server.process().ReadLog();
  testing::CommandResult created =
      testing::RunAdmin(server.process(), {"keys", "create", "--name", "web-test"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string key(absl::StripAsciiWhitespace(created.out));
  httplib::Client client("127.0.0.1", server.port());
  const std::string three = Json{{"items",
                                  {{{"url", "https://a.example/1.jpg"}},
                                   {{"url", "https://a.example/2.jpg"}},
                                   {{"url", "https://a.example/3.jpg"}}}}}.dump();
  const std::string one = Json{{"items", {{{"url", "https://a.example/1.jpg"}}}}}.dump();
  for (int i = 0; i < 2; ++i) {
    auto within = client.Post("/v1/check", one, "application/json");
    ASSERT_TRUE(within);
    EXPECT_EQ(within->status, 200) << within->body;
  }
  auto anonymous = client.Post("/v1/check", one, "application/json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 429) << anonymous->body;
  EXPECT_THAT(anonymous->body, HasSubstr("--anonymous_items_per_minute"));
  EXPECT_FALSE(anonymous->get_header_value("Retry-After").empty());

  auto keyed = client.Post("/v1/check", {{"Authorization", "Bearer " + key}}, three,
                           "application/json");
  ASSERT_TRUE(keyed);
  EXPECT_EQ(keyed->status, 200) << keyed->body;
  auto unknown = client.Post("/v1/check", {{"Authorization", "Bearer not-a-key"}}, three,
                             "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 401) << unknown->body;
  auto malformed = client.Post("/v1/check", {{"Authorization", "Basic abc"}}, three,
                               "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 401) << malformed->body;

  testing::CommandResult usage = testing::RunAdmin(server.process(), {"keys", "usage"});
  EXPECT_THAT(usage.out, HasSubstr("web-test"));
}

TEST(HttpE2eLimitsTest, PlaintextOffLoopbackIsRefusedNamingTheFlag) {
  testing::OptoutdProcess server({"--http_listen=0.0.0.0:0"});
  EXPECT_FALSE(server.Start().ok());
  EXPECT_THAT(server.ReadLog(), HasSubstr("--http_listen 0.0.0.0:0 is reachable from the network"));
}

TEST(HttpE2eLimitsTest, ATakenPortIsRefused) {
  HttpServerUnderTest first;
  ASSERT_TRUE(first.Start().ok()) << first.process().ReadLog();
  testing::OptoutdProcess second({absl::StrCat("--http_listen=127.0.0.1:", first.port())});
  EXPECT_FALSE(second.Start().ok());
  EXPECT_THAT(second.ReadLog(), HasSubstr("--http_listen"));
}

TEST(HttpE2eTlsTest, ServesTlsWithTheGrpcCertificate) {
  HttpServerUnderTest server({}, testing::Transport::kTls);
  ASSERT_TRUE(server.Start().ok()) << server.process().ReadLog();
  httplib::SSLClient client("localhost", server.port());
  client.set_ca_cert_path(server.process().certificates().ca_cert.c_str());
  client.enable_server_certificate_verification(true);
  auto r = client.Get("/v1/info");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Strict-Transport-Security"), "max-age=31536000");

  httplib::Client plaintext("127.0.0.1", server.port());
  EXPECT_FALSE(plaintext.Get("/v1/info") && plaintext.Get("/v1/info")->status == 200);
}

TEST(HttpE2eTlsTest, MutualTlsNeedsAClientCertificate) {
  HttpServerUnderTest server({}, testing::Transport::kMutualTls);
  ASSERT_TRUE(server.Start().ok()) << server.process().ReadLog();
  const testing::TestCertificates& certs = server.process().certificates();
  httplib::SSLClient anonymous("localhost", server.port());
  anonymous.set_ca_cert_path(certs.ca_cert.c_str());
  EXPECT_FALSE(anonymous.Get("/v1/info"));

  httplib::SSLClient client("localhost", server.port(), certs.client_cert, certs.client_key);
  client.set_ca_cert_path(certs.ca_cert.c_str());
  auto r = client.Get("/v1/info");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
}

TEST(HttpE2eTlsTest, AClientCertificateStandsForItsKeyOverHttpToo) {
  HttpServerUnderTest server({"--anonymous_items_per_minute=1000"},
                             testing::Transport::kMutualTls);
  ASSERT_TRUE(server.Start().ok()) << server.process().ReadLog();
  const testing::TestCertificates& certs = server.process().certificates();
  absl::StatusOr<testing::ClientCertificate> acme = testing::MakeClientCertificate(
      certs, server.process().root(), "acme-http", {"O = Acme", "CN = acme-http"});
  ASSERT_TRUE(acme.ok()) << acme.status();
  testing::CommandResult created =
      testing::RunAdmin(server.process(), {"keys", "create", "--name", "acme-http",
                                           "--items-per-minute", "4", "--cert-subject",
                                           "CN=acme-http,O=Acme"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string three = Json{{"items",
                                  {{{"url", "https://a.example/1.jpg"}},
                                   {{"url", "https://a.example/2.jpg"}},
                                   {{"url", "https://a.example/3.jpg"}}}}}.dump();
  // Charged to the key (4 a minute), not to the roomy anonymous budget.
  httplib::SSLClient client("localhost", server.port(), acme->cert, acme->key);
  client.set_ca_cert_path(certs.ca_cert.c_str());
  auto first = client.Post("/v1/check", three, "application/json");
  ASSERT_TRUE(first) << httplib::to_string(first.error());
  EXPECT_EQ(first->status, 200) << first->body;
  auto second = client.Post("/v1/check", three, "application/json");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 429) << second->body;
  EXPECT_FALSE(second->get_header_value("Retry-After").empty());
  // A certificate that names no key is anonymous.
  httplib::SSLClient other("localhost", server.port(), certs.client_cert, certs.client_key);
  other.set_ca_cert_path(certs.ca_cert.c_str());
  for (int i = 0; i < 2; ++i) {
    auto anonymous = other.Post("/v1/check", three, "application/json");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 200) << anonymous->body;
  }
  testing::CommandResult usage = testing::RunAdmin(server.process(), {"keys", "usage", "acme-http"});
  EXPECT_THAT(usage.out, HasSubstr("acme-http: calls=2 items=3 pdq_items=0 rejections=1"));
}

}  // namespace
}  // namespace optout
