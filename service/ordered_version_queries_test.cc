#include "service/ordered_version_queries.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

MATCHER_P(IsOkAndHolds, value, "is OK and holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  *result_listener << "holds " << *arg;
  return *arg == value;
}

// A stream whose last sequence the test moves, and whose queries the test
// may hold: a query reads the sequence when it starts (as a leader answers
// what it held when the request came), then waits until released.
class FakeStream {
 public:
  OrderedVersionQueries::Query Query() {
    return [this](absl::Time deadline) -> absl::StatusOr<uint64_t> {
      uint64_t seen;
      {
        absl::MutexLock lock(&mu_);
        seen = last_;
        starts_.push_back(absl::Now());
        deadlines_.push_back(deadline);
      }
      mu_.LockWhen(absl::Condition(
          +[](bool* held) { return !*held; }, &held_));
      const absl::Status fail = fail_;
      mu_.Unlock();
      if (!fail.ok()) return fail;
      return seen;
    };
  }
  // An acknowledged write.
  void Append() {
    absl::MutexLock lock(&mu_);
    ++last_;
  }
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(status);
  }
  int started() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(starts_.size());
  }
  std::vector<absl::Time> starts() {
    absl::MutexLock lock(&mu_);
    return starts_;
  }
  std::vector<absl::Time> deadlines() {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }

 private:
  absl::Mutex mu_;
  uint64_t last_ = 0;
  bool held_ = false;
  absl::Status fail_;
  std::vector<absl::Time> starts_;
  std::vector<absl::Time> deadlines_;
};

// Waits (bounded) until `done` holds.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

absl::Time Later() { return absl::Now() + absl::Seconds(10); }

TEST(OrderedVersionQueriesTest, CallersArrivingDuringAQueryShareTheNextOne) {
  FakeStream stream;
  OrderedVersionQueries queries(stream.Query(), absl::ZeroDuration(), absl::Seconds(1));
  stream.Append();  // 1
  stream.Hold();
  absl::StatusOr<uint64_t> first;
  std::thread first_caller([&] { first = queries.Get(Later()); });
  ASSERT_TRUE(Eventually([&] { return stream.started() == 1; }));
  // Acknowledged after the running query read the stream, before these
  // callers called: each of them must see it.
  stream.Append();  // 2
  constexpr int kCallers = 40;
  std::vector<absl::StatusOr<uint64_t>> answers(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] { answers[i] = queries.Get(Later()); });
  }
  ASSERT_TRUE(Eventually([&] { return queries.waiting() == kCallers + 1; }));
  stream.Release();
  first_caller.join();
  for (std::thread& t : callers) t.join();
  EXPECT_THAT(first, IsOkAndHolds(1u));
  for (const absl::StatusOr<uint64_t>& answer : answers) EXPECT_THAT(answer, IsOkAndHolds(2u));
  EXPECT_EQ(stream.started(), 2);
  EXPECT_EQ(queries.queries(), 2u);
  EXPECT_EQ(queries.callers(), kCallers + 1u);
  EXPECT_EQ(queries.waiting(), 0);
}

TEST(OrderedVersionQueriesTest, AnAnswerFromBeforeTheCallIsNeverReused) {
  FakeStream stream;
  // Even with a long spacing, a call after an answer asks again (later).
  OrderedVersionQueries queries(stream.Query(), absl::Milliseconds(50), absl::Seconds(1));
  for (uint64_t n = 1; n <= 4; ++n) {
    stream.Append();
    EXPECT_THAT(queries.Get(Later()), IsOkAndHolds(n));
  }
  EXPECT_EQ(queries.queries(), 4u);
}

TEST(OrderedVersionQueriesTest, QueriesStartAtLeastTheIntervalApart) {
  FakeStream stream;
  const absl::Duration interval = absl::Milliseconds(40);
  OrderedVersionQueries queries(stream.Query(), interval, absl::Seconds(1));
  // Many callers in a loop for a while: the stream sees a query per
  // interval at most, whatever the number of calls.
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      while (!stop) {
        if (queries.Get(Later()).ok()) ++answered;
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(400));
  stop = true;
  for (std::thread& t : callers) t.join();
  // Each query's deadline is its start (as the queries saw the clock) plus
  // the same timeout, so deadlines are as far apart as the starts.
  const std::vector<absl::Time> deadlines = stream.deadlines();
  ASSERT_GE(deadlines.size(), 2u);
  for (size_t i = 1; i < deadlines.size(); ++i) {
    EXPECT_GE(deadlines[i] - deadlines[i - 1], interval);
  }
  EXPECT_EQ(answered.load(), static_cast<int>(queries.callers()));
  EXPECT_GT(queries.callers(), queries.queries());
}

TEST(OrderedVersionQueriesTest, AFailedQueryFailsThoseWhoSharedItAndTheNextCallerAsksAgain) {
  FakeStream stream;
  OrderedVersionQueries queries(stream.Query(), absl::ZeroDuration(), absl::Seconds(1));
  stream.Fail(absl::UnavailableError("stream info: timeout"));
  EXPECT_THAT(queries.Get(Later()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("stream info")));
  stream.Fail(absl::OkStatus());
  stream.Append();
  EXPECT_THAT(queries.Get(Later()), IsOkAndHolds(1u));
  EXPECT_EQ(queries.queries(), 2u);
}

TEST(OrderedVersionQueriesTest, ACallerWhoseDeadlinePassesWaitingGetsUnavailableWithoutAsking) {
  FakeStream stream;
  OrderedVersionQueries queries(stream.Query(), absl::ZeroDuration(), absl::Seconds(5));
  stream.Hold();
  std::thread first_caller([&] { (void)queries.Get(Later()); });
  ASSERT_TRUE(Eventually([&] { return stream.started() == 1; }));
  EXPECT_THAT(queries.Get(absl::Now() + absl::Milliseconds(30)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("not learnt in time")));
  stream.Release();
  first_caller.join();
  EXPECT_EQ(stream.started(), 1);
}

TEST(OrderedVersionQueriesTest, AQueryGetsItsStartPlusTheTimeoutAsDeadline) {
  FakeStream stream;
  OrderedVersionQueries queries(stream.Query(), absl::ZeroDuration(), absl::Seconds(1));
  ASSERT_THAT(queries.Get(absl::Now() + absl::Seconds(30)), IsOkAndHolds(0u));
  ASSERT_EQ(stream.deadlines().size(), 1u);
  EXPECT_GE(stream.deadlines()[0] - stream.starts()[0], absl::Milliseconds(500));
  EXPECT_LE(stream.deadlines()[0] - stream.starts()[0], absl::Seconds(1));
}

}  // namespace
}  // namespace optout::service
