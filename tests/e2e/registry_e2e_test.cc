// End to end: the real optoutd on loopback with RocksDB in a temp folder,
// driven through the C++ client library and the gRPC API.
#include <random>
#include <string>

#include "client/bulk_checker.h"
#include "client/common/digest/digest.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include <sys/stat.h>
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "tests/e2e/adversarial_util.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/scope_prover.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::testing::HasSubstr;

std::string RandomPdq(uint32_t seed) {
  std::mt19937 rng(seed);
  return testing::BalancedRandomPdq(rng);
}

class RegistryE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    client_ = client::RegistryClient::Create(server_.address());
  }
  testing::ScopeProver prover_;
  testing::OptoutdProcess server_{prover_.ServerFlags({"--max_batch_items=100"})};
  std::unique_ptr<client::RegistryClient> client_;
};

TEST_F(RegistryE2eTest, RegisterCheckGetRevokeRoundTrip) {
  v1::RegisterRequest request;
  request.set_request_id(testing::RequestIdFor("e2e-1"));
  request.add_urls("https://img.example.net/p/1.jpg");
  request.add_scopes("https://private.example.net/");
  v1::PdqHash* pdq = request.add_pdq();
  pdq->set_hash(RandomPdq(1));
  pdq->set_quality(100);
  auto registered = client_->Register(request);
  ASSERT_TRUE(registered.ok()) << registered.status();
  ASSERT_TRUE(prover_.Prove(*client_, *registered).ok());

  v1::CheckRequest check;
  check.add_items()->set_url("http://img.example.net/p/1.jpg");
  check.add_items()->set_url("https://a.b.private.example.net/x/y.png");
  check.add_items()->set_url("https://img.example.net/p/2.jpg");
  check.add_items()->mutable_pdq()->set_hash(RandomPdq(1));
  auto checked = client_->Check(check);
  ASSERT_TRUE(checked.ok()) << checked.status();
  ASSERT_EQ(checked->results_size(), 4);
  EXPECT_EQ(checked->results(0).kind(), v1::MATCH_KIND_URL);
  EXPECT_EQ(checked->results(1).kind(), v1::MATCH_KIND_SCOPE);
  EXPECT_FALSE(checked->results(2).matched());
  EXPECT_EQ(checked->results(3).kind(), v1::MATCH_KIND_PDQ);
  // Each answer names its own registered item (url, scope, pdq), never the
  // opt-out: the three ids differ, so they cannot be joined.
  ASSERT_EQ(registered->items_size(), 3);
  EXPECT_EQ(checked->results(0).match_ids(0), registered->items(0).match_id());
  EXPECT_EQ(checked->results(1).match_ids(0), registered->items(1).match_id());
  EXPECT_EQ(checked->results(3).match_ids(0), registered->items(2).match_id());
  EXPECT_NE(checked->results(0).match_ids(0), checked->results(3).match_ids(0));
  EXPECT_NE(checked->results(0).match_ids(0), checked->results(1).match_ids(0));
  EXPECT_NE(checked->results(0).match_ids(0), registered->opt_out_id());

  auto got = client_->Get(registered->opt_out_id(), registered->manage_token());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->url_count(), 1);
  ASSERT_EQ(got->items_size(), 3);
  EXPECT_EQ(got->items(0).match_id(), registered->items(0).match_id());

  EXPECT_EQ(client_->Revoke(registered->opt_out_id(), std::string(64, 'f')).code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(client_->Revoke(registered->opt_out_id(), registered->manage_token()).ok());
  auto after = client_->Check(check);
  ASSERT_TRUE(after.ok());
  for (const auto& r : after->results()) EXPECT_FALSE(r.matched());
  // A second revoke is told apart from a typo (service/DESIGN.md#tombstones).
  EXPECT_EQ(client_->Revoke(registered->opt_out_id(), registered->manage_token()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RegistryE2eTest, BadItemIsInvalidArgumentNamingItAndWritesNothing) {
  v1::RegisterRequest request;
  request.add_urls("https://fine.example/a.jpg");
  request.add_pdq()->set_hash(std::string(32, '\0'));
  auto registered = client_->Register(request);
  EXPECT_EQ(registered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(registered.status().message()), HasSubstr("pdq[0].hash"));

  v1::CheckRequest check;
  check.add_items()->set_url("https://fine.example/a.jpg");
  auto checked = client_->Check(check);
  ASSERT_TRUE(checked.ok());
  EXPECT_FALSE(checked->results(0).matched());
}

TEST_F(RegistryE2eTest, OversizedBatchIsRejected) {
  v1::CheckRequest check;
  for (int i = 0; i < 101; ++i) check.add_items()->set_sha256(std::string(32, 'x'));
  auto checked = client_->Check(check);
  EXPECT_EQ(checked.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(checked.status().message()), HasSubstr("too many items"));
}

TEST_F(RegistryE2eTest, CheckStreamAnswersManyBatchesInOrder) {
  v1::RegisterRequest request;
  const std::string sha(32, 'M');
  request.add_sha256(sha);
  ASSERT_TRUE(client_->Register(request).ok());

  client::BulkChecker bulk(*client_, 4);
  int next_expected = 0;
  auto handle = [&](absl::StatusOr<v1::CheckResponse> response) {
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->tag(), static_cast<uint64_t>(next_expected));
    ASSERT_EQ(response->packed_verdicts_size(), 1);
    // Batch k marks item k % 50 as the registered digest.
    const std::string& bitmap = response->packed_verdicts(0).matched_bitmap();
    const int k = next_expected % 50;
    EXPECT_TRUE(bitmap[k / 8] & (1 << (k % 8)));
    ++next_expected;
  };
  for (int batch = 0; batch < 40; ++batch) {
    v1::CheckRequest check;
    check.set_tag(batch);
    auto* packed = check.add_packed();
    packed->set_kind(v1::PackedItems::KIND_SHA256);
    std::string data;
    for (int i = 0; i < 50; ++i) data += (i == batch % 50) ? sha : std::string(32, 'a' + i % 20);
    packed->set_data(data);
    if (bulk.in_flight() == bulk.max_in_flight()) handle(bulk.Next());
    ASSERT_TRUE(bulk.Send(check).ok());
  }
  while (bulk.in_flight() > 0) handle(bulk.Next());
  EXPECT_TRUE(bulk.Finish().ok());
  EXPECT_EQ(next_expected, 40);
}

TEST_F(RegistryE2eTest, BadBatchEndsTheStreamWithItsError) {
  client::BulkChecker bulk(*client_, 2);
  v1::CheckRequest good;
  good.add_items()->set_md5(std::string(16, 'a'));
  v1::CheckRequest bad;
  bad.add_items()->set_md5(std::string(15, 'a'));
  ASSERT_TRUE(bulk.Send(good).ok());
  ASSERT_TRUE(bulk.Next().ok());
  ASSERT_TRUE(bulk.Send(bad).ok());
  auto response = bulk.Next();
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("items[0].md5"));
}

TEST_F(RegistryE2eTest, HealthServiceReportsServing) {
  auto channel = grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials());
  // Returns a finite time only for a SERVING answer.
  EXPECT_LT(testing::TimedHealthCheck(channel), absl::InfiniteDuration());
}

TEST_F(RegistryE2eTest, InfoPublishesPslVersionAndLimits) {
  auto info = client_->GetInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->psl_version().empty());
  EXPECT_EQ(info->pdq_threshold(), 31);
  EXPECT_EQ(info->max_batch_items(), 100);
}

TEST_F(RegistryE2eTest, GracefulStopThenRestartKeepsOptOuts) {
  v1::RegisterRequest request;
  request.add_md5(std::string(16, 'q'));
  auto registered = client_->Register(request);
  ASSERT_TRUE(registered.ok());
  ASSERT_TRUE(server_.Stop().ok()) << server_.ReadLog();
  EXPECT_THAT(server_.ReadLog(), HasSubstr("database closed"));
  ASSERT_TRUE(server_.Start().ok());
  client_ = client::RegistryClient::Create(server_.address());
  v1::CheckRequest check;
  check.add_items()->set_md5(std::string(16, 'q'));
  auto checked = client_->Check(check);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_TRUE(checked->results(0).matched());
}

TEST(OptoutdStartupTest, RefusesASecretFileReadableByOthers) {
  testing::OptoutdProcess server;
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(server.Stop().ok());
  chmod(server.secret_file().c_str(), 0644);
  absl::Status started = server.Start();
  EXPECT_FALSE(started.ok());
  EXPECT_THAT(server.ReadLog(), HasSubstr("chmod 600"));
}

}  // namespace
}  // namespace optout
