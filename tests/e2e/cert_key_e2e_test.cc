// Issue 10: a mutual-TLS client certificate stands for an API key. optoutd
// runs with --tls_client_ca_file; `optout-admin keys create --cert-subject`
// names a certificate subject; checks over a connection with that
// certificate and no bearer key are charged to the key (budgets, usage),
// over a restart too; a certificate naming no key is anonymous; a bearer key
// wins over the certificate; a revoked key's certificate is anonymous again.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/channel.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_certificates.h"

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

constexpr char kAcmeSubject[] = "CN=acme-crawler,O=Acme";

// A client over mutual TLS with `cert`, sending `api_key` when not empty.
std::unique_ptr<client::RegistryClient> ClientWith(const OptoutdProcess& server,
                                                   const testing::ClientCertificate& cert,
                                                   const std::string& api_key = "") {
  client::TlsFiles files;
  files.ca_file = server.certificates().ca_cert;
  files.cert_file = cert.cert;
  files.key_file = cert.key;
  absl::StatusOr<client::TlsOptions> tls = client::LoadTlsOptions(files);
  EXPECT_THAT(tls, IsOk());
  client::ClientOptions options;
  if (tls.ok()) options.tls = *tls;
  options.api_key = api_key;
  return client::RegistryClient::Create(server.address(), options);
}

v1::CheckRequest UrlItems(int n) {
  v1::CheckRequest request;
  for (int i = 0; i < n; ++i) {
    request.add_items()->set_url(absl::StrCat("https://cert.example/", i, ".jpg"));
  }
  return request;
}

TEST(CertKeyE2eTest, AClientCertificateStandsForItsKey) {
  OptoutdProcess server({"--anonymous_items_per_minute=3"}, Transport::kMutualTls);
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  absl::StatusOr<testing::ClientCertificate> acme = testing::MakeClientCertificate(
      server.certificates(), server.root(), "acme", {"O = Acme", "CN = acme-crawler"});
  ASSERT_THAT(acme, IsOk());
  // The subject as openssl prints it in RFC 2253 form: what the operator
  // gives --cert-subject.
  CommandResult printed = RunCommand({"/usr/bin/openssl", "x509", "-in", acme->cert, "-noout",
                                      "-subject", "-nameopt", "RFC2253"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(absl::StripAsciiWhitespace(printed.out), absl::StrCat("subject=", kAcmeSubject));

  CommandResult created = RunAdmin(server, {"keys", "create", "--name", "acme", "--items-per-minute",
                                         "5", "--cert-subject", kAcmeSubject});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_THAT(created.err, HasSubstr(absl::StrCat("certificate ", kAcmeSubject)));
  CommandResult duplicate = RunAdmin(server, {"keys", "create", "--name", "acme-2",
                                           "--cert-subject", kAcmeSubject});
  EXPECT_EQ(duplicate.exit_code, 1);
  EXPECT_THAT(duplicate.err, HasSubstr("ALREADY_EXISTS"));
  EXPECT_THAT(duplicate.err, HasSubstr("API key acme has this certificate subject"));
  CommandResult bad = RunAdmin(server, {"keys", "create", "--name", "acme-3", "--cert-subject",
                                     "acme-crawler"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("INVALID_ARGUMENT"));
  CommandResult list = RunAdmin(server, {"keys", "list"});
  EXPECT_THAT(list.out, HasSubstr(kAcmeSubject));

  // No bearer key: the certificate's key is charged (5 items per minute).
  auto crawler = ClientWith(server, *acme);
  ASSERT_THAT(crawler->Check(UrlItems(5)), IsOk());
  absl::StatusOr<v1::CheckResponse> over = crawler->Check(UrlItems(1));
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted,
                             HasSubstr("API key acme is over its budget of 5 items per minute")));
  EXPECT_TRUE(client::RetryDelayOf(over.status()).has_value());
  CommandResult usage = RunAdmin(server, {"keys", "usage", "acme"});
  EXPECT_THAT(usage.out, HasSubstr("acme: calls=2 items=5 pdq_items=0 rejections=1"));

  // The test client certificate names no key: it is anonymous (3 items).
  const testing::ClientCertificate plain{server.certificates().client_cert,
                                         server.certificates().client_key};
  auto anonymous = ClientWith(server, plain);
  ASSERT_THAT(anonymous->Check(UrlItems(3)), IsOk());
  EXPECT_THAT(anonymous->Check(UrlItems(1)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("--anonymous_items_per_minute")));

  // A bearer key wins over the certificate.
  CommandResult other = RunAdmin(server, {"keys", "create", "--name", "other"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  auto keyed = ClientWith(server, *acme, std::string(absl::StripAsciiWhitespace(other.out)));
  EXPECT_THAT(keyed->Check(UrlItems(20)), IsOk());
  EXPECT_THAT(RunAdmin(server, {"keys", "usage", "other"}).out, HasSubstr("other: calls=1 items=20"));

  // The mapping is stored with the key: it survives a restart.
  ASSERT_THAT(server.Stop(), IsOk());
  ASSERT_THAT(server.Start(/*same_port=*/true), IsOk()) << server.ReadLog();
  crawler = ClientWith(server, *acme);
  ASSERT_THAT(crawler->Check(UrlItems(5)), IsOk());
  EXPECT_THAT(crawler->Check(UrlItems(1)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("API key acme")));

  // Revoked: the certificate stands for nobody, its checks are anonymous.
  ASSERT_EQ(RunAdmin(server, {"keys", "revoke", "acme"}).exit_code, 0);
  EXPECT_THAT(crawler->Check(UrlItems(3)), IsOk());
  EXPECT_THAT(crawler->Check(UrlItems(1)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("--anonymous_items_per_minute")));
}

}  // namespace
}  // namespace optout
