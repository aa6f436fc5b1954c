// Signed check receipts survive dropped connections (issue 14): a real
// optoutd behind a loopback proxy that drops every connection mid-run,
// after holding back the answers to batches the registry already checked.
// The client reconnects and re-sends those batches (same session_batch
// numbers); the registry answers them again but counts them once, so the
// receipt's digest is still the client's own and verify-receipt accepts it.
// The same when the registry itself is killed and restarted mid-run: it
// takes its open sessions back from its journal.
#include <filesystem>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/bulk_checker.h"
#include "client/common/digest/digest.h"
#include "client/common/receipt/check_receipt.h"
#include "client/common/receipt/items_digest.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/tcp_proxy.h"
#include "tests/e2e/test_files.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

using ::optout::testing::Md5Batch;
using ::optout::testing::Md5Of;

class ReceiptReconnectTest : public ::testing::Test {
 protected:
  struct SentBatches {
    int answered = 0;
    int reconnects = 0;
  };

  // A client with a check session open and the bulk options that send into
  // it, retrying for 30 s across drops and restarts.
  struct Session {
    std::unique_ptr<client::RegistryClient> client;
    std::string id;
    client::BulkOptions options;
  };

  // Opens a session through `address` (10 s per call).
  static void OpenSession(const std::string& address, Session* session) {
    client::ClientOptions client_options;
    client_options.timeout = absl::Seconds(10);
    session->client = client::RegistryClient::Create(address, client_options);
    auto opened = session->client->OpenCheckSession();
    ASSERT_TRUE(opened.ok()) << opened.status();
    session->id = opened->session_id();
    session->options.session_id = session->id;
    session->options.retry_for = absl::Seconds(30);
  }

  // The receipt counts `items` md5 items, the one registered md5 matched,
  // and its digest is the client's own over what it sent.
  static void ExpectReceiptCovers(const v1::CheckReceipt& signed_receipt, uint64_t items,
                                  receipt::ItemsDigest& mine) {
    EXPECT_EQ(signed_receipt.md5_items(), items);
    EXPECT_EQ(signed_receipt.md5_matches(), 1u);
    const receipt::Digest32 expected = receipt::CombineParts({{0, mine.Finish()}});
    EXPECT_EQ(signed_receipt.items_digest(), std::string(expected.begin(), expected.end()));
  }

  // Streams `batches` md5 batches of `batch_size` items through one
  // BulkChecker (keeping `in_flight` full), each folded into `mine`, the
  // client's own digest; `before_batch(b)` runs before batch b is made, to
  // drop a connection or restart the registry mid-run.
  static void SendMd5Batches(client::RegistryClient& client, const client::BulkOptions& options,
                             int batch_size, int batches, receipt::ItemsDigest& mine,
                             SentBatches* sent, const std::function<void(int)>& before_batch) {
    client::BulkChecker bulk(client, options);
    for (int b = 0; b < batches; ++b) {
      before_batch(b);
      v1::CheckRequest batch = Md5Batch(static_cast<uint64_t>(b) * batch_size, batch_size);
      mine.Add(batch);
      if (bulk.in_flight() == bulk.max_in_flight()) {
        auto answer = bulk.Next();
        ASSERT_TRUE(answer.ok()) << answer.status();
        ++sent->answered;
      }
      ASSERT_TRUE(bulk.Send(std::move(batch)).ok());
    }
    while (bulk.in_flight() > 0) {
      auto answer = bulk.Next();
      ASSERT_TRUE(answer.ok()) << answer.status();
      ++sent->answered;
    }
    ASSERT_TRUE(bulk.Finish().ok());
    sent->reconnects = bulk.reconnects();
  }

  // Starts check-dataset of `dir`'s release through the proxy (retrying for
  // 60 s) on a thread writing `*run`, and returns the thread once 1.5 MB
  // went up (or 60 s passed): the run is then mid-way, for the test to
  // restart the registry or rotate its keys under it.
  std::thread StartCheckDatasetUntilMidway(const std::string& dir, testing::CommandResult* run) {
    std::thread checker([this, dir, run] {
      *run = testing::RunCommand({testing::OptoutCliBinary(), "--server", proxy_->address(),
                                  "check-dataset", dir + "/release.csv", "--out", dir + "/out",
                                  "--quiet", "--retry-for", "60s"});
    });
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (proxy_->upstream_bytes() < 1'500'000 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    return checker;
  }

  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    auto proxy = testing::TcpProxy::Start(server_.port());
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    direct_ = client::RegistryClient::Create(server_.address());
    v1::RegisterRequest reg;
    reg.set_request_id(testing::RequestIdFor("reconnect-row-7"));
    reg.add_md5(Md5Of(7));
    ASSERT_TRUE(direct_->Register(reg).ok());
    auto info = direct_->GetInfo();
    ASSERT_TRUE(info.ok()) << info.status();
    info_ = *info;
  }

  // release.csv of `rows` rows (url, md5) in a new folder, returned; row 7
  // matches by md5. `path` keeps the URLs of different tests apart.
  std::string WriteRelease(uint64_t rows, const std::string& path) const {
    const std::string dir = server_.root() + "/work";
    fs::create_directories(dir);
    std::string csv = "url,md5\n";
    for (uint64_t r = 0; r < rows; ++r) {
      absl::StrAppend(&csv, "https://img", r % 7, ".example.org/", path, "/", r, ".jpg,",
                      digest::ToHex(Md5Of(r)), "\n");
    }
    testing::WriteFile(dir + "/release.csv", csv);
    return dir;
  }

  // check-dataset's report in `out` covers `rows` md5 items with the
  // client's own digest, and verify-receipt accepts it.
  void ExpectReportVerifies(const std::string& out, int rows) const {
    const auto report = nlohmann::json::parse(testing::ReadFile(out + "/report.json"));
    EXPECT_EQ(report["receipt"]["items"]["md5"], rows);
    EXPECT_EQ(report["receipt"]["items_digest"], report["client_items_digest"]);
    auto verified = testing::RunCommand(
        {testing::OptoutCliBinary(), "--server", server_.address(), "verify-receipt", out});
    EXPECT_EQ(verified.exit_code, 0) << verified.err;
    EXPECT_THAT(verified.out, HasSubstr("receipt verified"));
  }

  testing::OptoutdProcess server_;
  std::unique_ptr<testing::TcpProxy> proxy_;
  std::unique_ptr<client::RegistryClient> direct_;
  v1::GetInfoResponse info_;
};

TEST_F(ReceiptReconnectTest, ResentBatchesAreCountedOnce) {
  Session session;
  ASSERT_NO_FATAL_FAILURE(OpenSession(proxy_->address(), &session));
  receipt::ItemsDigest mine;
  constexpr int kBatch = 2000, kBatches = 60;  // 32 KB each
  // Two drops, each holding back the answers to the batches in flight.
  proxy_->DropAfter(10 * 32'000, absl::Milliseconds(300));
  SentBatches sent;
  SendMd5Batches(*session.client, session.options, kBatch, kBatches, mine, &sent, [&](int b) {
    if (b == kBatches / 2) proxy_->DropAfter(8 * 32'000, absl::Milliseconds(300));
  });
  EXPECT_GE(sent.reconnects, 2);
  EXPECT_EQ(sent.answered, kBatches);
  EXPECT_EQ(proxy_->drops(), 2);
  // Batches were re-sent: more than the items went upstream, by batches
  // the registry had already answered (the proxy held those answers back).
  EXPECT_GT(proxy_->upstream_bytes(), int64_t{16} * kBatch * (kBatches + 4));
  auto r = direct_->CloseCheckSession(session.id);
  // The session belongs to the proxy's address as the registry sees it,
  // which is the loopback address the direct client comes from too.
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(receipt::VerifyReceipt(*r, info_.receipt_public_key()).ok());
  ExpectReceiptCovers(*r, uint64_t{kBatch} * kBatches, mine);
}

TEST_F(ReceiptReconnectTest, CheckDatasetThroughDropsStillVerifies) {
  // 40,000 rows (about ten 1 MB batches); row 7 matches by md5.
  const std::string dir = WriteRelease(40'000, "a");
  proxy_->DropAfter(2'500'000, absl::Milliseconds(400));
  auto run = testing::RunCommand({testing::OptoutCliBinary(), "--server", proxy_->address(),
                                  "check-dataset", dir + "/release.csv", "--out", dir + "/out",
                                  "--quiet", "--retry-for", "30s"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(proxy_->drops(), 1);
  EXPECT_THAT(run.err, HasSubstr("reconnecting"));
  EXPECT_THAT(run.err, ::testing::Not(HasSubstr("receipt covers other items")));
  ExpectReportVerifies(dir + "/out", 40'000);
}

// optoutd is killed (SIGKILL) with batches in flight and started again on
// its port: the client reconnects, re-sends what it has no answer for, and
// the session goes on where the registry's journal left it.
TEST_F(ReceiptReconnectTest, SessionOutlivesARegistryRestart) {
  Session session;
  ASSERT_NO_FATAL_FAILURE(OpenSession(server_.address(), &session));
  receipt::ItemsDigest mine;
  constexpr int kBatch = 2000, kBatches = 40;
  SentBatches sent;
  // Killed right after batch kBatches / 2 went out.
  SendMd5Batches(*session.client, session.options, kBatch, kBatches, mine, &sent, [&](int b) {
    if (b == kBatches / 2 + 1) {
      server_.Kill();
      ASSERT_TRUE(server_.Start(/*same_port=*/true).ok()) << server_.ReadLog();
    }
  });
  EXPECT_GE(sent.reconnects, 1);
  EXPECT_EQ(sent.answered, kBatches);
  EXPECT_THAT(server_.ReadLog(), HasSubstr("check sessions: 1 kept across the restart"));
  auto r = session.client->CloseCheckSession(session.id);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(receipt::VerifyReceipt(*r, info_.receipt_public_key()).ok());
  ExpectReceiptCovers(*r, uint64_t{kBatch} * kBatches, mine);
  // Closed: not taken back by the next start.
  ASSERT_TRUE(server_.Stop().ok());
  ASSERT_TRUE(server_.Start(/*same_port=*/true).ok()) << server_.ReadLog();
  EXPECT_EQ(session.client->CloseCheckSession(session.id).status().code(),
            absl::StatusCode::kNotFound);
}

// optout-admin rotate-keys runs to its end while a session is open, and
// optoutd is then killed and restarted: the session's journal entries,
// sealed under the old key version, were sealed again under the new one
// before the old was forgotten, so the session goes on. Its receipt is
// signed by the key current at the close (the new one, which GetInfo
// publishes); the old key calls it a wrong key.
TEST_F(ReceiptReconnectTest, SessionOpenAcrossAKeyRotationAndARestartIsSignedByTheNewKey) {
  Session session;
  ASSERT_NO_FATAL_FAILURE(OpenSession(server_.address(), &session));
  receipt::ItemsDigest mine;
  constexpr int kBatch = 2000, kBatches = 20;
  SentBatches sent;
  SendMd5Batches(*session.client, session.options, kBatch, kBatches, mine, &sent, [&](int b) {
    if (b != kBatches / 2) return;
    const testing::CommandResult rotated = testing::RunAdmin(server_, {"rotate-keys"});
    ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
    server_.Kill();
    ASSERT_TRUE(server_.Start(/*same_port=*/true).ok()) << server_.ReadLog();
  });
  EXPECT_EQ(sent.answered, kBatches);
  const std::string log = server_.ReadLog();
  EXPECT_THAT(log, HasSubstr("check session entries sealed under the new version"));
  EXPECT_THAT(log, HasSubstr("check sessions: 1 kept across the restart"));
  auto info = session.client->GetInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_NE(info->receipt_key_fingerprint(), info_.receipt_key_fingerprint());
  auto r = session.client->CloseCheckSession(session.id);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->key_fingerprint(), info->receipt_key_fingerprint());
  EXPECT_TRUE(receipt::VerifyReceipt(*r, info->receipt_public_key()).ok());
  EXPECT_THAT(receipt::VerifyReceipt(*r, info_.receipt_public_key()).message(),
              HasSubstr("wrong key"));
  ExpectReceiptCovers(*r, uint64_t{kBatch} * kBatches, mine);
}

// The journey: check-dataset keeps going while its registry restarts, and
// its report's receipt verifies.
TEST_F(ReceiptReconnectTest, CheckDatasetThroughARegistryRestartStillVerifies) {
  const std::string dir = WriteRelease(60'000, "b");
  // The proxy only measures progress here: it drops nothing.
  testing::CommandResult run;
  std::thread checker = StartCheckDatasetUntilMidway(dir, &run);
  server_.Kill();
  const absl::Status restarted = server_.Start(/*same_port=*/true);
  checker.join();
  ASSERT_TRUE(restarted.ok()) << restarted << server_.ReadLog();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("reconnecting"));
  ExpectReportVerifies(dir + "/out", 60'000);
}

// rotate-keys runs while check-dataset runs: the run finishes, says that
// the receipt is signed by the registry's new key, and the receipt
// verifies with the key GetInfo publishes now.
TEST_F(ReceiptReconnectTest, CheckDatasetAcrossAKeyRotationVerifiesWithTheNewKey) {
  const std::string dir = WriteRelease(60'000, "c");
  // Once 1.5 MB went up, answers are held back for 3 s (then the
  // connection drops and the client re-sends): the run cannot end before
  // the rotation has switched keys, however fast the machine.
  proxy_->DropAfter(1'500'000, absl::Seconds(3));
  testing::CommandResult run;
  std::thread checker = StartCheckDatasetUntilMidway(dir, &run);
  const testing::CommandResult rotated = testing::RunAdmin(server_, {"rotate-keys"});
  checker.join();
  EXPECT_EQ(proxy_->drops(), 1);
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("the registry rotated its keys during the run"));
  ExpectReportVerifies(dir + "/out", 60'000);
  // The key of the start no longer fits.
  const std::string old_key = dir + "/old.key";
  testing::WriteFile(old_key, digest::ToHex(info_.receipt_public_key()));
  auto with_old = testing::RunCommand({testing::OptoutCliBinary(), "--server", server_.address(),
                                       "verify-receipt", dir + "/out", "--registry-key", old_key});
  EXPECT_EQ(with_old.exit_code, 1);
  EXPECT_THAT(with_old.err, HasSubstr("wrong key"));
}

}  // namespace
}  // namespace optout
