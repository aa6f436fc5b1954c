// End to end over TLS and mutual TLS: the real optoutd with throwaway
// certificates (made by the fixture with the openssl command), driven by the
// client library, CheckStream, the health and reflection services and the
// optout command; certificate reload on SIGHUP; and the refusals that keep
// plaintext off the network and certificate-less clients out.
#include <signal.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/bulk_checker.h"
#include "client/channel.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/adversarial_util.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/scope_prover.h"
#include "tests/e2e/test_files.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::OptoutCliBinary;
using testing::OptoutdProcess;
using testing::RunCommand;
using testing::Transport;

constexpr char kMd5Hex[] = "0123456789abcdef0123456789abcdef";
constexpr char kPdqHex[] = "e1c95d4aa7cc1853cf60248336b99ab56fc9e1e91839af516a48be4c4946cfba";

using testing::ReadFile;

client::TlsOptions LoadTls(const client::TlsFiles& files) {
  auto tls = client::LoadTlsOptions(files);
  EXPECT_THAT(tls.status(), IsOk());
  return tls.ok() ? *tls : client::TlsOptions();
}

// What a well-configured client of `server` uses.
client::TlsOptions TlsFor(const OptoutdProcess& server) {
  client::TlsFiles files;
  files.ca_file = server.certificates().ca_cert;
  if (server.transport() == Transport::kMutualTls) {
    files.cert_file = server.certificates().client_cert;
    files.key_file = server.certificates().client_key;
  }
  return LoadTls(files);
}

std::unique_ptr<client::RegistryClient> ClientWith(const OptoutdProcess& server,
                                                   const client::TlsOptions& tls) {
  client::ClientOptions options;
  options.tls = tls;
  options.timeout = absl::Seconds(10);
  return client::RegistryClient::Create(server.address(), options);
}

// Waits until the server's log holds `text` (it logs once it acted on a
// signal); false after 10 s.
bool WaitForLog(const OptoutdProcess& server, const std::string& text) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (server.ReadLog().find(text) != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

// One request / one response on a streaming method, as raw bytes (the
// reflection protos are not installed with gRPC).
class OneMessageBidi final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  OneMessageBidi(grpc::GenericStub& stub, const std::string& method, const std::string& request)
      : slice_(request), request_(&slice_, 1) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    stub.PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(), this);
    StartWrite(&request_);
    StartWritesDone();
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override { read_ok_ = ok; }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }
  // The call's status and, when a response came, its bytes.
  std::pair<grpc::Status, std::string> Wait() {
    done_.WaitForNotification();
    std::string bytes;
    std::vector<grpc::Slice> slices;
    if (read_ok_ && response_.Dump(&slices).ok()) {
      for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return {status_, bytes};
  }

 private:
  grpc::ClientContext context_;
  grpc::Slice slice_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  bool read_ok_ = false;
  grpc::Status status_;
  absl::Notification done_;
};

class TlsE2eTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    ASSERT_THAT(server_.Start(), IsOk()) << server_.ReadLog();
    client_ = ClientWith(server_, TlsFor(server_));
  }
  // The optout command with this server's address and TLS flags.
  testing::CommandResult Optout(std::vector<std::string> args) {
    std::vector<std::string> argv = {OptoutCliBinary(), "--server", server_.address()};
    for (const auto& flag : server_.CliTlsFlags()) argv.push_back(flag);
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  testing::ScopeProver prover_;
  OptoutdProcess server_{prover_.ServerFlags(), GetParam()};
  std::unique_ptr<client::RegistryClient> client_;
};

INSTANTIATE_TEST_SUITE_P(Transports, TlsE2eTest,
                         ::testing::Values(Transport::kTls, Transport::kMutualTls),
                         [](const ::testing::TestParamInfo<Transport>& info) {
                           return info.param == Transport::kTls ? "Tls" : "MutualTls";
                         });

TEST_P(TlsE2eTest, RegisterCheckGetRevokeRoundTrip) {
  v1::RegisterRequest request;
  request.set_request_id(testing::RequestIdFor("tls-round-trip"));
  request.add_urls("https://tls.example/p/1.jpg");
  request.add_scopes("https://private.tls.example/");
  request.add_md5(std::string(16, 'm'));
  auto registered = client_->Register(request);
  ASSERT_THAT(registered.status(), IsOk());
  ASSERT_THAT(prover_.Prove(*client_, *registered), IsOk());

  v1::CheckRequest check;
  check.add_items()->set_url("http://tls.example/p/1.jpg");
  check.add_items()->set_url("https://a.private.tls.example/x.png");
  check.add_items()->set_url("https://tls.example/p/2.jpg");
  check.add_items()->set_md5(std::string(16, 'm'));
  auto checked = client_->Check(check);
  ASSERT_THAT(checked.status(), IsOk());
  ASSERT_EQ(checked->results_size(), 4);
  EXPECT_EQ(checked->results(0).kind(), v1::MATCH_KIND_URL);
  EXPECT_EQ(checked->results(1).kind(), v1::MATCH_KIND_SCOPE);
  EXPECT_FALSE(checked->results(2).matched());
  EXPECT_EQ(checked->results(3).kind(), v1::MATCH_KIND_MD5);

  auto got = client_->Get(registered->opt_out_id(), registered->manage_token());
  ASSERT_THAT(got.status(), IsOk());
  EXPECT_EQ(got->scope_count(), 1);
  ASSERT_THAT(client_->Revoke(registered->opt_out_id(), registered->manage_token()), IsOk());
  auto after = client_->Check(check);
  ASSERT_THAT(after.status(), IsOk());
  for (const auto& r : after->results()) EXPECT_FALSE(r.matched());
}

TEST_P(TlsE2eTest, CheckStreamAnswersBatchesInOrder) {
  v1::RegisterRequest request;
  request.set_request_id(testing::RequestIdFor("tls-stream"));
  const std::string sha(32, 'S');
  request.add_sha256(sha);
  ASSERT_THAT(client_->Register(request).status(), IsOk());

  client::BulkChecker bulk(*client_, 4);
  int answered = 0;
  auto handle = [&](absl::StatusOr<v1::CheckResponse> response) {
    ASSERT_THAT(response.status(), IsOk());
    EXPECT_EQ(response->tag(), static_cast<uint64_t>(answered));
    ASSERT_EQ(response->packed_verdicts_size(), 1);
    // Batch k has the registered digest at item k % 8, and only there.
    const std::string& bitmap = response->packed_verdicts(0).matched_bitmap();
    EXPECT_EQ(static_cast<uint8_t>(bitmap[0]), 1u << (answered % 8));
    ++answered;
  };
  for (int batch = 0; batch < 20; ++batch) {
    v1::CheckRequest check;
    check.set_tag(batch);
    auto* packed = check.add_packed();
    packed->set_kind(v1::PackedItems::KIND_SHA256);
    std::string data;
    for (int i = 0; i < 8; ++i) data += (i == batch % 8) ? sha : std::string(32, 'a' + i);
    packed->set_data(data);
    if (bulk.in_flight() == bulk.max_in_flight()) handle(bulk.Next());
    ASSERT_THAT(bulk.Send(check), IsOk());
  }
  while (bulk.in_flight() > 0) handle(bulk.Next());
  EXPECT_THAT(bulk.Finish(), IsOk());
  EXPECT_EQ(answered, 20);
}

TEST_P(TlsE2eTest, HealthAndReflectionAnswerOverTls) {
  auto channel = client::CreateChannel(server_.address(), TlsFor(server_), 1 << 20);
  // Returns a finite time only for a SERVING answer.
  EXPECT_LT(testing::TimedHealthCheck(channel), absl::InfiniteDuration());
  grpc::GenericStub stub(channel);

  // ServerReflectionRequest{list_services: ""} is field 7, empty string.
  OneMessageBidi reflection(stub, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                            std::string("\x3a\x00", 2));
  auto [reflection_status, services] = reflection.Wait();
  ASSERT_TRUE(reflection_status.ok()) << reflection_status.error_message();
  EXPECT_THAT(services, HasSubstr("optout.v1.Registry"));
  EXPECT_THAT(services, HasSubstr("optout.v1.Check"));
}

TEST_P(TlsE2eTest, CliRegistersChecksGetsAndRevokes) {
  auto reg = Optout({"register", "--json", "--url", "https://cli.tls.example/a.jpg", "--pdq",
                     std::string(kPdqHex) + ":100", "--md5", kMd5Hex, "--no-receipt"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto registered = nlohmann::json::parse(reg.out);
  const std::string id = registered["id"];
  const std::string token = registered["token"];

  auto check = Optout({"check", "--json", "--url", "http://cli.tls.example/a.jpg", "--pdq",
                       kPdqHex, "--md5", kMd5Hex});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  auto results = nlohmann::json::parse(check.out)["results"];
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) EXPECT_EQ(r["matched"], true) << r.dump();

  auto get = Optout({"get", "--json", "--id", id, "--token", token});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(nlohmann::json::parse(get.out)["urls"], 1);
  auto revoke = Optout({"revoke", "--id", id, "--token", token});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  auto after = Optout({"check", "--json", "--md5", kMd5Hex});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(nlohmann::json::parse(after.out)["results"][0]["matched"], false);
}

TEST_P(TlsE2eTest, CliTakesTheCaFromTheEnvironment) {
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "OPTOUT_TLS_CA=" + server_.certificates().ca_cert,
                                   OptoutCliBinary(), "--server", server_.address()};
  if (GetParam() == Transport::kMutualTls) {
    argv.insert(argv.end(), {"--tls-cert", server_.certificates().client_cert, "--tls-key",
                             server_.certificates().client_key});
  }
  argv.insert(argv.end(), {"check", "--md5", kMd5Hex});
  auto result = RunCommand(argv);
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_P(TlsE2eTest, PlaintextClientFailsWithAClearError) {
  auto plaintext = ClientWith(server_, client::TlsOptions());
  EXPECT_THAT(plaintext->GetInfo().status(), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));

  auto result = RunCommand({OptoutCliBinary(), "--server", server_.address(), "check", "--md5",
                            kMd5Hex});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.err, HasSubstr("the server may require TLS: use --tls"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST_P(TlsE2eTest, ServerCertificateFromAnUntrustedCaIsRefused) {
  auto other = testing::MakeTestCertificates(server_.root(), "other-");
  ASSERT_THAT(other.status(), IsOk());
  auto result = RunCommand({OptoutCliBinary(), "--server", server_.address(), "--tls-ca",
                            other->ca_cert, "--tls-cert", other->client_cert, "--tls-key",
                            other->client_key, "check", "--md5", kMd5Hex});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.err, HasSubstr("not signed by a CA this client trusts"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(MutualTlsE2eTest, ClientWithoutCertificateFailsWithAClearError) {
  OptoutdProcess server({}, Transport::kMutualTls);
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  client::TlsFiles files;
  files.ca_file = server.certificates().ca_cert;
  auto anonymous = ClientWith(server, LoadTls(files));
  EXPECT_THAT(anonymous->GetInfo().status(), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));

  auto result = RunCommand({OptoutCliBinary(), "--server", server.address(), "--tls-ca",
                            server.certificates().ca_cert, "check", "--md5", kMd5Hex});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.err,
              HasSubstr("the server may require a client certificate: use --tls-cert"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(MutualTlsE2eTest, ClientCertificateFromAnotherCaIsRefused) {
  OptoutdProcess server({}, Transport::kMutualTls);
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  auto other = testing::MakeTestCertificates(server.root(), "other-");
  ASSERT_THAT(other.status(), IsOk());
  client::TlsFiles files;
  files.ca_file = server.certificates().ca_cert;
  files.cert_file = other->client_cert;
  files.key_file = other->client_key;
  auto stranger = ClientWith(server, LoadTls(files));
  EXPECT_THAT(stranger->GetInfo().status(), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
}

TEST(TlsReloadTest, SighupSwapsCertificatesWithoutDroppingConnections) {
  OptoutdProcess server({}, Transport::kTls);
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  const testing::TestCertificates first = server.certificates();
  client::TlsFiles trusts_first;
  trusts_first.ca_file = first.ca_cert;
  auto connected = ClientWith(server, LoadTls(trusts_first));
  ASSERT_THAT(connected->GetInfo().status(), IsOk());

  // Rotate to certificates of a new CA, in place, as an operator would.
  auto second = testing::MakeTestCertificates(server.root(), "second-");
  ASSERT_THAT(second.status(), IsOk());
  std::ofstream(first.server_cert, std::ios::trunc) << ReadFile(second->server_cert);
  std::ofstream(first.server_key, std::ios::trunc) << ReadFile(second->server_key);
  server.Signal(SIGHUP);
  ASSERT_TRUE(WaitForLog(server, "TLS certificates reloaded")) << server.ReadLog();

  // The open connection goes on: were it dropped, reconnecting would fail,
  // since this client does not trust the new CA.
  EXPECT_THAT(connected->GetInfo().status(), IsOk());
  v1::CheckRequest check;
  check.add_items()->set_md5(std::string(16, 'r'));
  EXPECT_THAT(connected->Check(check).status(), IsOk());
  // New connections get the new certificate.
  EXPECT_THAT(ClientWith(server, LoadTls(trusts_first))->GetInfo().status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("certificate verify failed")));
  client::TlsFiles trusts_second;
  trusts_second.ca_file = second->ca_cert;
  EXPECT_THAT(ClientWith(server, LoadTls(trusts_second))->GetInfo().status(), IsOk());
}

TEST(TlsReloadTest, BadFilesOnSighupKeepTheCertificatesInUse) {
  OptoutdProcess server({}, Transport::kTls);
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  auto other = testing::MakeTestCertificates(server.root(), "other-");
  ASSERT_THAT(other.status(), IsOk());
  // A key that is not the certificate's, as when only one file was replaced.
  std::ofstream(server.certificates().server_key, std::ios::trunc)
      << ReadFile(other->server_key);
  server.Signal(SIGHUP);
  ASSERT_TRUE(WaitForLog(server, "TLS certificates not reloaded")) << server.ReadLog();
  EXPECT_THAT(server.ReadLog(), HasSubstr("--tls_key_file"));
  EXPECT_THAT(ClientWith(server, TlsFor(server))->GetInfo().status(), IsOk());
}

TEST(TransportPolicyTest, PlaintextOnANetworkAddressIsRefused) {
  OptoutdProcess server({"--listen=0.0.0.0:0"});
  EXPECT_THAT(server.Start(), Not(IsOk()));
  EXPECT_THAT(server.ReadLog(), HasSubstr("--allow_insecure"));
}

TEST(TransportPolicyTest, AllowInsecureServesPlaintextOnANetworkAddress) {
  OptoutdProcess server({"--listen=0.0.0.0:0", "--allow_insecure"});
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  EXPECT_THAT(ClientWith(server, client::TlsOptions())->GetInfo().status(), IsOk());
}

TEST(TransportPolicyTest, TlsOnANetworkAddressNeedsNoOverride) {
  OptoutdProcess server({"--listen=0.0.0.0:0"}, Transport::kTls);
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  EXPECT_THAT(ClientWith(server, TlsFor(server))->GetInfo().status(), IsOk());
}

TEST(TransportPolicyTest, KeyThatIsNotTheCertificatesIsRefusedAtStart) {
  char tmpl[] = "/tmp/optout-certs-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  auto a = testing::MakeTestCertificates(dir, "a-");
  auto b = testing::MakeTestCertificates(dir, "b-");
  ASSERT_THAT(a.status(), IsOk());
  ASSERT_THAT(b.status(), IsOk());
  OptoutdProcess server({"--tls_cert_file=" + a->server_cert, "--tls_key_file=" + b->server_key});
  EXPECT_THAT(server.Start(), Not(IsOk()));
  EXPECT_THAT(server.ReadLog(), HasSubstr("is not the key of the first certificate"));
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace optout
