// Issue 13: the cluster consumer's subscriptions are dropped without
// freeing one that libnats 3.4.1's read loop is still handing a message to
// (service/cluster/internal/subscription_reaper.h). A real nats-server on
// loopback streams 8 KB messages to push consumers (flow control,
// heartbeats, an error handler: as JetStreamLog makes them) that are
// dropped after their first message, hundreds of times. Freeing them with
// natsSubscription_Destroy alone crashed such a loop within 30 consumers
// (SIGSEGV in natsConn_processMsg; AddressSanitizer with an instrumented
// libnats: heap-use-after-free of the natsSubscription).
#include "service/cluster/internal/subscription_reaper.h"

#include <nats/nats.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/nats_cluster.h"

namespace optout::testing {
namespace {

using service::cluster::SubscriptionReaper;

constexpr char kStream[] = "REAPER";
constexpr char kSubject[] = "reaper.s";
constexpr int kMessages = 1500;

void IgnoreAsyncError(natsConnection*, natsSubscription*, natsStatus, void*) {}

class SubscriptionReaperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = nats_.StartAll();
    ASSERT_TRUE(started.ok()) << started;
    ASSERT_EQ(natsOptions_Create(&options_), NATS_OK);
    ASSERT_EQ(natsOptions_SetURL(options_, nats_.Urls().c_str()), NATS_OK);
    ASSERT_EQ(natsOptions_SetMaxReconnect(options_, -1), NATS_OK);
    ASSERT_EQ(natsOptions_SetReconnectWait(options_, 100), NATS_OK);
    // With an error handler libnats watches heartbeats with a timer that
    // holds the subscription too, as in optoutd.
    ASSERT_EQ(natsOptions_SetErrorHandler(options_, &IgnoreAsyncError, nullptr), NATS_OK);
    ASSERT_EQ(natsConnection_Connect(&connection_, options_), NATS_OK);
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 500;  // bounds the consumer delete of a drop
    ASSERT_EQ(natsConnection_JetStream(&js_, connection_, &js_options), NATS_OK);
    reaper_.emplace(connection_);

    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subjects[] = {kSubject};
    config.Name = kStream;
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    natsStatus s = NATS_TIMEOUT;
    // JetStream answers a moment after the server listens.
    for (const absl::Time give_up = absl::Now() + absl::Seconds(10);
         s != NATS_OK && absl::Now() < give_up;) {
      s = js_AddStream(nullptr, js_, &config, nullptr, nullptr);
      if (s != NATS_OK) absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_EQ(s, NATS_OK) << natsStatus_GetText(s);
    const std::string payload(8000, 'm');
    jsPubOptions pub;
    jsPubOptions_Init(&pub);
    pub.MaxWait = 5000;
    ASSERT_EQ(js_PublishAsync(js_, kSubject, payload.data(), static_cast<int>(payload.size()),
                              &pub),
              NATS_OK);
    for (int i = 1; i < kMessages; ++i) {
      ASSERT_EQ(js_PublishAsync(js_, kSubject, payload.data(), static_cast<int>(payload.size()),
                                &pub),
                NATS_OK);
    }
    ASSERT_EQ(js_PublishAsyncComplete(js_, &pub), NATS_OK);
  }

  void TearDown() override {
    // The reaper's contract: the connection is closed (its read loop
    // joined) before the reaper frees what it still holds.
    if (connection_ != nullptr) natsConnection_Close(connection_);
    reaper_.reset();
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (connection_ != nullptr) natsConnection_Destroy(connection_);
    if (options_ != nullptr) natsOptions_Destroy(options_);
  }

  // A push consumer as JetStreamLog makes one, starting at `start`, that
  // has delivered its first message (the rest are on their way).
  natsSubscription* DeliveringConsumer(uint64_t start) {
    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Stream = kStream;
    sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
    sub_options.Config.OptStartSeq = start;
    sub_options.Config.AckPolicy = js_AckNone;
    sub_options.Config.FlowControl = true;
    sub_options.Config.Heartbeat = int64_t{1000} * 1000 * 1000;
    sub_options.Config.MemoryStorage = true;
    sub_options.Config.InactiveThreshold = int64_t{30} * 1000 * 1000 * 1000;
    jsOptions request;
    jsOptions_Init(&request);
    request.Wait = 5000;
    natsSubscription* subscription = nullptr;
    if (js_SubscribeSync(&subscription, js_, kSubject, &request, &sub_options, nullptr) !=
        NATS_OK) {
      return nullptr;
    }
    natsSubscription_SetPendingLimits(subscription, -1, 256 << 20);
    natsMsg* first = nullptr;
    if (natsSubscription_NextMsg(&first, subscription, 5000) == NATS_OK) natsMsg_Destroy(first);
    return subscription;
  }

  NatsCluster nats_{1};
  natsOptions* options_ = nullptr;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
  std::optional<SubscriptionReaper> reaper_;
};

TEST_F(SubscriptionReaperTest, DroppingDeliveringConsumersNeverFreesOneTheReadLoopStillUses) {
  int dropped = 0;
  // Bounded in time as well as count: a loaded machine makes fewer.
  for (const absl::Time stop = absl::Now() + absl::Seconds(15); dropped < 300 && absl::Now() < stop;
       ++dropped) {
    natsSubscription* subscription = DeliveringConsumer(1 + (dropped * 7) % (kMessages - 100));
    ASSERT_NE(subscription, nullptr) << "consumer " << dropped;
    reaper_->Drop(subscription, 2000);
  }
  EXPECT_GE(dropped, 50);
  EXPECT_EQ(reaper_->held(), 0u);
}

TEST_F(SubscriptionReaperTest, DroppedSubscriptionIsFreedOnlyOnceAFlushSucceeds) {
  natsSubscription* subscription = DeliveringConsumer(1);
  ASSERT_NE(subscription, nullptr);
  nats_.Kill(0);
  reaper_->Drop(subscription, 200);
  EXPECT_EQ(reaper_->held(), 1u) << "freed with no round trip to prove the read loop done with it";
  absl::Status restarted = nats_.Start(0);
  ASSERT_TRUE(restarted.ok()) << restarted;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(15);
       reaper_->held() > 0 && absl::Now() < give_up;) {
    reaper_->Reap(500);
  }
  EXPECT_EQ(reaper_->held(), 0u);
}

}  // namespace
}  // namespace optout::testing
