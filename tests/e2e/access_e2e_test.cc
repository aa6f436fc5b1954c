// Issue 10 end to end: the admin service on its own unix socket (mode 0600,
// absent from the public port), API keys created, used, counted, kept over a
// restart and revoked through `optout-admin` and `optout --api-key`, budgets
// that end in RESOURCE_EXHAUSTED with a RetryInfo delay, and the anonymous
// per-peer budget.
#include <algorithm>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/bulk_checker.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "optout/admin/v1/admin.grpc.pb.h"
#include "client/common/digest/digest.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_files.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::optout::testing::CommandResult;
using ::optout::testing::IsOk;
using ::optout::testing::OptoutdProcess;
using ::optout::testing::RunAdmin;
using ::optout::testing::RunCommand;
using ::optout::testing::StatusIs;
using ::optout::testing::Transport;
using ::testing::HasSubstr;

CommandResult Optout(const OptoutdProcess& server, std::vector<std::string> args) {
  args.insert(args.begin(), {testing::OptoutCliBinary(), "--server", server.address()});
  return RunCommand(args);
}

// Creates a key through optout-admin and returns it (stdout, one line).
std::string CreateKey(const OptoutdProcess& server, std::vector<std::string> args) {
  args.insert(args.begin(), {"keys", "create"});
  CommandResult created = RunAdmin(server, args);
  EXPECT_EQ(created.exit_code, 0) << created.err;
  return std::string(absl::StripAsciiWhitespace(created.out));
}

v1::CheckRequest UrlItems(int n) {
  v1::CheckRequest request;
  for (int i = 0; i < n; ++i) {
    request.add_items()->set_url(absl::StrCat("https://access.example/", i, ".jpg"));
  }
  return request;
}

TEST(AccessE2eTest, AdminSocketIsOwnerOnlyAndNotOnThePublicPort) {
  OptoutdProcess server;
  ASSERT_THAT(server.Start(), IsOk());
  struct stat st {};
  ASSERT_EQ(::stat((server.data_dir() + "/admin.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600);

  auto public_admin = admin::v1::Admin::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  admin::v1::ListKeysResponse response;
  grpc::Status status = public_admin->ListKeys(&context, admin::v1::ListKeysRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
}

TEST(AccessE2eTest, KeyLifecycleThroughTheCommandsSurvivesRestart) {
  OptoutdProcess server;
  ASSERT_THAT(server.Start(), IsOk());
  const std::string key = CreateKey(server, {"--name", "crawler-1", "--items-per-minute", "1000"});
  ASSERT_THAT(key, ::testing::StartsWith("ok_"));
  CommandResult duplicate = RunAdmin(server, {"keys", "create", "--name", "crawler-1"});
  EXPECT_EQ(duplicate.exit_code, 1);
  EXPECT_EQ(duplicate.out, "");
  EXPECT_THAT(duplicate.err, HasSubstr("ALREADY_EXISTS"));

  CommandResult check = Optout(server, {"--api-key", key, "check", "--url",
                                        "https://access.example/a.jpg", "--url",
                                        "https://access.example/b.jpg"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  CommandResult usage = RunAdmin(server, {"keys", "usage", "crawler-1"});
  EXPECT_EQ(usage.exit_code, 0) << usage.err;
  EXPECT_THAT(usage.out, HasSubstr("crawler-1: calls=1 items=2 pdq_items=0 rejections=0"));

  // The key never appears in the listing, nor anywhere in the data folder.
  CommandResult list = RunAdmin(server, {"keys", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("crawler-1"));
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr(key)));
  ASSERT_THAT(server.Stop(), IsOk());
  CommandResult grep = RunCommand({"/usr/bin/grep", "-rqF", key, server.data_dir()});
  EXPECT_EQ(grep.exit_code, 1) << "the key is stored in clear";

  ASSERT_THAT(server.Start(), IsOk());
  check = Optout(server, {"--api-key", key, "check", "--url", "https://access.example/a.jpg"});
  EXPECT_EQ(check.exit_code, 0) << check.err;

  CommandResult revoke = RunAdmin(server, {"keys", "revoke", "crawler-1"});
  EXPECT_EQ(revoke.exit_code, 0) << revoke.err;
  check = Optout(server, {"--api-key", key, "check", "--url", "https://access.example/a.jpg"});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.err, HasSubstr("UNAUTHENTICATED"));
  revoke = RunAdmin(server, {"keys", "revoke", "crawler-1"});
  EXPECT_EQ(revoke.exit_code, 1);
  EXPECT_THAT(revoke.err, HasSubstr("NOT_FOUND"));
}

TEST(AccessE2eTest, OverBudgetIsResourceExhaustedWithRetryInfo) {
  OptoutdProcess server;
  ASSERT_THAT(server.Start(), IsOk());
  const std::string key =
      CreateKey(server, {"--name", "small", "--items-per-minute", "10", "--methods", "check"});
  client::ClientOptions options;
  options.api_key = key;
  auto client = client::RegistryClient::Create(server.address(), options);
  // A batch costs one unit per item.
  ASSERT_THAT(client->Check(UrlItems(10)), IsOk());
  absl::StatusOr<v1::CheckResponse> over = client->Check(UrlItems(1));
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("10 items per minute")));
  std::optional<absl::Duration> delay = client::RetryDelayOf(over.status());
  ASSERT_TRUE(delay.has_value());
  EXPECT_GE(*delay, absl::Seconds(1));
  EXPECT_LE(*delay, absl::Seconds(60));

  // A stream is charged per batch, and ends with the same status.
  {
    client::BulkChecker stream(*client, 2);
    if (stream.Send(UrlItems(5)).ok()) {
      EXPECT_THAT(stream.Next(),
                  StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("10 items per minute")));
    }
    EXPECT_THAT(stream.Finish(),
                StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("10 items per minute")));
  }

  // The CLI says how long to wait.
  CommandResult cli = Optout(server, {"--api-key", key, "check", "--url", "https://access.example/x"});
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_THAT(cli.err, HasSubstr("RESOURCE_EXHAUSTED"));
  EXPECT_THAT(cli.err, ::testing::ContainsRegex("wait [0-9]+ s before retrying"));
  // On the error's own line: errors are one line.
  EXPECT_EQ(std::count(cli.err.begin(), cli.err.end(), '\n'), 1) << cli.err;

  // A PDQ item is refused for a key limited to "check".
  v1::CheckRequest pdq;
  pdq.add_items()->mutable_pdq()->set_hash(std::string(32, '\x5a'));
  EXPECT_THAT(client->Check(pdq), StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("check_pdq")));

  CommandResult usage = RunAdmin(server, {"keys", "usage"});
  EXPECT_THAT(usage.out, HasSubstr("small: calls=5 items=10 pdq_items=0 rejections=4"));
}

TEST(AccessE2eTest, AnonymousChecksHaveAPerPeerBudgetAndCanBeTurnedOff) {
  OptoutdProcess server({"--anonymous_items_per_minute=5"});
  ASSERT_THAT(server.Start(), IsOk());
  auto anonymous = client::RegistryClient::Create(server.address());
  ASSERT_THAT(anonymous->Check(UrlItems(5)), IsOk());
  absl::StatusOr<v1::CheckResponse> over = anonymous->Check(UrlItems(1));
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted,
                             HasSubstr("--anonymous_items_per_minute")));
  EXPECT_TRUE(client::RetryDelayOf(over.status()).has_value());
  // Registering and GetInfo are not checks: not charged.
  EXPECT_THAT(anonymous->GetInfo(), IsOk());
  // A key is charged to the key, not to the address.
  client::ClientOptions options;
  options.api_key = CreateKey(server, {"--name", "partner"});
  auto keyed = client::RegistryClient::Create(server.address(), options);
  EXPECT_THAT(keyed->Check(UrlItems(100)), IsOk());
  ASSERT_THAT(server.Stop(), IsOk());

  OptoutdProcess closed({"--anonymous_items_per_minute=0"});
  ASSERT_THAT(closed.Start(), IsOk());
  anonymous = client::RegistryClient::Create(closed.address());
  EXPECT_THAT(anonymous->Check(UrlItems(1)),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("API key")));
  options.api_key = CreateKey(closed, {"--name", "partner"});
  keyed = client::RegistryClient::Create(closed.address(), options);
  EXPECT_THAT(keyed->Check(UrlItems(1)), IsOk());
  // A malformed authorization header is refused, not treated as anonymous.
  auto stub = v1::Check::NewStub(grpc::CreateChannel(closed.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Basic abc");
  v1::CheckResponse response;
  grpc::Status status = stub->Check(&context, UrlItems(1), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
}

TEST(AccessE2eTest, BulkCheckerWaitsAsLongAsTheServerAsksWhenAllowedTo) {
  OptoutdProcess server;
  ASSERT_THAT(server.Start(), IsOk());
  client::ClientOptions options;
  options.api_key = CreateKey(server, {"--name", "one-per-second", "--items-per-minute", "60"});
  auto client = client::RegistryClient::Create(server.address(), options);
  ASSERT_THAT(client->Check(UrlItems(60)), IsOk());  // the budget is spent
  {
    client::BulkChecker patient(*client, client::BulkOptions{1, absl::Seconds(20)});
    const absl::Time start = absl::Now();
    ASSERT_THAT(patient.Send(UrlItems(2)), IsOk());
    EXPECT_THAT(patient.Next(), IsOk());
    EXPECT_THAT(patient.Finish(), IsOk());
    EXPECT_GE(patient.reconnects(), 1);
    EXPECT_GE(absl::Now() - start, absl::Seconds(1));  // asked to wait 2 s at most
  }
  {
    // Asked to wait longer than it may: gives up at once with the delay.
    client::BulkChecker hasty(*client, client::BulkOptions{1, absl::Milliseconds(500)});
    ASSERT_THAT(hasty.Send(UrlItems(60)), IsOk());
    absl::StatusOr<v1::CheckResponse> answer = hasty.Next();
    EXPECT_THAT(answer, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("per minute")));
    EXPECT_TRUE(client::RetryDelayOf(answer.status()).has_value());
    EXPECT_EQ(hasty.reconnects(), 0);
  }
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines;
}

TEST(AccessE2eTest, AuditLogHasOneLinePerCallAndNeverAValue) {
  char tmpl[] = "/tmp/optout-audit-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string audit = dir + "/audit.jsonl";
  OptoutdProcess server({"--audit_log=" + audit, "--anonymous_items_per_minute=3"});
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  const std::string key = CreateKey(server, {"--name", "auditor", "--pdq-per-day", "1"});
  client::ClientOptions options;
  options.api_key = key;
  auto keyed = client::RegistryClient::Create(server.address(), options);
  auto anonymous = client::RegistryClient::Create(server.address());

  std::mt19937_64 rng(10);
  const std::string pdq = testing::BalancedRandomPdq(rng);
  const std::string url = "https://audited.example/secret-photo.jpg";
  v1::RegisterRequest request;
  request.set_request_id(testing::RequestIdFor("audit-1"));
  request.add_urls(url);
  request.add_pdq()->set_hash(pdq);
  request.mutable_pdq(0)->set_quality(100);
  absl::StatusOr<v1::RegisterResponse> registered = anonymous->Register(request);
  ASSERT_THAT(registered, IsOk());

  v1::CheckRequest check;
  check.add_items()->set_url(url);
  check.add_items()->set_url("https://audited.example/other.jpg");
  check.add_items()->mutable_pdq()->set_hash(pdq);
  ASSERT_THAT(keyed->Check(check), IsOk());
  EXPECT_THAT(keyed->Check(check), StatusIs(absl::StatusCode::kResourceExhausted,
                                            HasSubstr("PDQ items per day")));
  check.mutable_items()->RemoveLast();
  ASSERT_THAT(anonymous->Check(check), IsOk());
  ASSERT_THAT(anonymous->Get(registered->opt_out_id(), registered->manage_token()), IsOk());
  ASSERT_THAT(anonymous->Revoke(registered->opt_out_id(), registered->manage_token()), IsOk());
  ASSERT_THAT(RunAdmin(server, {"keys", "revoke", "auditor"}).exit_code, 0);
  ASSERT_THAT(server.Stop(), IsOk());

  const std::string text = testing::ReadFile(audit);
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 8u) << text;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, ::testing::MatchesRegex(
                          R"(\{"time":"20[0-9-]+T[0-9:.]+Z",("key"|"peer"):".*"status":"[A-Z_]+"\})"));
  }
  EXPECT_THAT(lines[0], HasSubstr(R"("method":"admin.CreateKey","target_key":"auditor")"));
  EXPECT_THAT(lines[1], HasSubstr(R"("peer":"127.0.0.1","method":"Register",)"
                                  R"("items":{"url":1,"pdq":1},"matches":{},"status":"OK"})"));
  EXPECT_THAT(lines[2], HasSubstr(R"("key":"auditor","method":"Check",)"
                                  R"("items":{"url":2,"pdq":1},"matches":{"url":1,"pdq":1},"status":"OK"})"));
  EXPECT_THAT(lines[3], HasSubstr(R"("key":"auditor","method":"Check","items":{"url":2,"pdq":1},)"
                                  R"("matches":{},"status":"RESOURCE_EXHAUSTED"})"));
  EXPECT_THAT(lines[4], HasSubstr(R"("peer":"127.0.0.1","method":"Check",)"
                                  R"("items":{"url":2},"matches":{"url":1},"status":"OK"})"));
  EXPECT_THAT(lines[5], HasSubstr(R"("method":"Get","items":{},"matches":{},"status":"OK")"));
  EXPECT_THAT(lines[6], HasSubstr(R"("method":"Revoke","items":{},"matches":{},"status":"OK")"));
  EXPECT_THAT(lines[7], HasSubstr(R"("method":"admin.RevokeKey","target_key":"auditor")"));
  // Never a value: no URL, host, hash, id, token or key, in any spelling.
  for (const std::string& secret :
       {url, std::string("audited.example"), digest::ToHex(pdq), registered->opt_out_id(),
        registered->manage_token(), key, request.request_id()}) {
    EXPECT_THAT(text, ::testing::Not(HasSubstr(secret))) << secret;
  }
  std::system(("rm -rf '" + dir + "'").c_str());
}

// A loopback port nobody listens on right now (for a second listener, whose
// port optoutd does not report).
int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(AccessE2eTest, AdminOffLoopbackNeedsMutualTls) {
  OptoutdProcess plaintext({"--admin_listen=0.0.0.0:0", "--allow_insecure"});
  EXPECT_THAT(plaintext.Start(), ::testing::Not(IsOk()));
  EXPECT_THAT(plaintext.ReadLog(), HasSubstr("--admin_listen 0.0.0.0:0 is reachable"));
  EXPECT_THAT(plaintext.ReadLog(), HasSubstr("--tls_client_ca_file"));

  OptoutdProcess tls_only({"--admin_listen=0.0.0.0:0"}, Transport::kTls);
  EXPECT_THAT(tls_only.Start(), ::testing::Not(IsOk()));
  EXPECT_THAT(tls_only.ReadLog(), HasSubstr("--tls_client_ca_file"));
}

TEST(AccessE2eTest, TcpAdminListenerServesTheSameTlsAsThePublicOne) {
  const int port = FreeLoopbackPort();
  ASSERT_NE(port, 0);
  const std::string admin = absl::StrCat("127.0.0.1:", port);
  OptoutdProcess server({"--admin_listen=" + admin}, Transport::kMutualTls);
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();

  CommandResult plaintext = RunCommand({testing::OptoutAdminBinary(), "--admin", admin, "keys", "list"});
  EXPECT_EQ(plaintext.exit_code, 1);
  EXPECT_THAT(plaintext.err, HasSubstr("UNAVAILABLE"));

  const testing::TestCertificates& certs = server.certificates();
  CommandResult no_client_cert = RunCommand({testing::OptoutAdminBinary(), "--admin", admin,
                                             "--tls-ca", certs.ca_cert, "keys", "list"});
  EXPECT_EQ(no_client_cert.exit_code, 1);

  CommandResult mutual = RunCommand({testing::OptoutAdminBinary(), "--admin", admin, "--tls-ca",
                                     certs.ca_cert, "--tls-cert", certs.client_cert, "--tls-key",
                                     certs.client_key, "keys", "create", "--name", "over-tls"});
  EXPECT_EQ(mutual.exit_code, 0) << mutual.err;
  EXPECT_THAT(mutual.out, ::testing::StartsWith("ok_"));
  // No unix socket when the admin listener is TCP.
  struct stat st {};
  EXPECT_NE(::stat((server.data_dir() + "/admin.sock").c_str(), &st), 0);
}

}  // namespace
}  // namespace optout
