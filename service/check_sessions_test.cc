#include "service/check_sessions.h"

#include <map>

#include "client/common/base/testing/status_matchers.h"
#include "client/common/receipt/check_receipt.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

v1::CheckRequest Md5Batch(char fill, int n) {
  v1::CheckRequest r;
  v1::PackedItems* p = r.add_packed();
  p->set_kind(v1::PackedItems::KIND_MD5);
  p->set_data(std::string(16 * n, fill));
  return r;
}

class CheckSessionsTest : public ::testing::Test {
 protected:
  CheckSessionsTest() {
    signer_ = *receipt::ReceiptSigner::FromSeed(std::string(32, 'k'));
  }
  std::unique_ptr<CheckSessions> Make(CheckSessionOptions options = {}) {
    return std::make_unique<CheckSessions>(
        options, [this](v1::CheckReceipt* r) { return signer_->Sign(r); },
        [] { return uint64_t{42}; }, [this] { return now_; });
  }
  std::shared_ptr<const receipt::ReceiptSigner> signer_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(CheckSessionsTest, ReceiptCountsAndDigestsWhatWasFed) {
  auto sessions = Make();
  auto opened = sessions->Open("key:crawler");
  ASSERT_THAT(opened.status(), IsOk());
  EXPECT_EQ(opened->session_id().size(), 32u);
  auto part = sessions->Join(opened->session_id(), 0, "key:crawler");
  ASSERT_THAT(part.status(), IsOk());
  KindCounts matched;
  matched.md5 = 2;
  EXPECT_THAT((*part)->Add(Md5Batch('a', 10), matched, 7, now_), IsOk());
  EXPECT_THAT((*part)->Add(Md5Batch('b', 5), KindCounts(), 9, now_), IsOk());
  now_ += absl::Seconds(30);
  auto r = sessions->Close(opened->session_id(), "key:crawler");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->md5_items(), 15u);
  EXPECT_EQ(r->md5_matches(), 2u);
  EXPECT_EQ(r->matched_items(), 2u);
  EXPECT_EQ(r->min_version(), 7u);
  EXPECT_EQ(r->max_version(), 9u);
  EXPECT_EQ(r->ended_unix_micros() - r->started_unix_micros(), 30'000'000);
  EXPECT_THAT(receipt::VerifyReceipt(*r, signer_->public_key()), IsOk());

  // The client's own digest of the same batches equals the receipt's.
  receipt::ItemsDigest mine;
  mine.Add(Md5Batch('a', 10));
  mine.Add(Md5Batch('b', 5));
  const receipt::Digest32 combined = receipt::CombineParts({{0, mine.Finish()}});
  EXPECT_EQ(r->items_digest(), std::string(combined.begin(), combined.end()));
  // Closed: gone, and a part still held feeds nothing.
  EXPECT_THAT(sessions->Close(opened->session_id(), "key:crawler").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("check session")));
  EXPECT_EQ(sessions->open_count(), 0u);
}

TEST_F(CheckSessionsTest, EmptySessionUsesTheCurrentVersionAndPartZero) {
  auto sessions = Make();
  auto opened = sessions->Open("peer:1.2.3.4");
  ASSERT_THAT(opened.status(), IsOk());
  auto r = sessions->Close(opened->session_id(), "peer:1.2.3.4");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->min_version(), 42u);
  EXPECT_EQ(r->max_version(), 42u);
  receipt::ItemsDigest none;
  const receipt::Digest32 expected = receipt::CombineParts({{0, none.Finish()}});
  EXPECT_EQ(r->items_digest(), std::string(expected.begin(), expected.end()));
}

TEST_F(CheckSessionsTest, PartsCombineWhateverTheArrivalOrder) {
  auto sessions = Make();
  std::string digests[2];
  for (int run = 0; run < 2; ++run) {
    auto opened = sessions->Open("key:a");
    ASSERT_THAT(opened.status(), IsOk());
    auto p0 = sessions->Join(opened->session_id(), 0, "key:a");
    auto p1 = sessions->Join(opened->session_id(), 1, "key:a");
    ASSERT_THAT(p0.status(), IsOk());
    ASSERT_THAT(p1.status(), IsOk());
    if (run == 0) {
      EXPECT_THAT((*p0)->Add(Md5Batch('a', 3), KindCounts(), 1, now_), IsOk());
      EXPECT_THAT((*p1)->Add(Md5Batch('b', 3), KindCounts(), 1, now_), IsOk());
    } else {
      EXPECT_THAT((*p1)->Add(Md5Batch('b', 3), KindCounts(), 1, now_), IsOk());
      EXPECT_THAT((*p0)->Add(Md5Batch('a', 3), KindCounts(), 1, now_), IsOk());
    }
    auto r = sessions->Close(opened->session_id(), "key:a");
    ASSERT_THAT(r.status(), IsOk());
    digests[run] = r->items_digest();
  }
  EXPECT_EQ(digests[0], digests[1]);
}

TEST_F(CheckSessionsTest, OnlyTheOwnerJoinsOrCloses) {
  auto sessions = Make();
  auto opened = sessions->Open("key:a");
  ASSERT_THAT(opened.status(), IsOk());
  EXPECT_THAT(sessions->Join(opened->session_id(), 0, "key:b").status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(sessions->Close(opened->session_id(), "peer:9.9.9.9").status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(sessions->Join("00000000000000000000000000000000", 0, "key:a").status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(sessions->Close(opened->session_id(), "key:a").status(), IsOk());
}

TEST_F(CheckSessionsTest, BoundedPerServerPerOwnerAndInParts) {
  CheckSessionOptions options;
  options.max_open = 3;
  options.max_per_owner = 2;
  options.max_parts = 2;
  auto sessions = Make(options);
  auto a1 = sessions->Open("key:a");
  ASSERT_THAT(a1.status(), IsOk());
  ASSERT_THAT(sessions->Open("key:a").status(), IsOk());
  EXPECT_THAT(sessions->Open("key:a").status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("close one")));
  ASSERT_THAT(sessions->Open("key:b").status(), IsOk());
  EXPECT_THAT(sessions->Open("key:c").status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("--max_check_sessions")));
  ASSERT_THAT(sessions->Join(a1->session_id(), 1, "key:a").status(), IsOk());
  EXPECT_THAT(sessions->Join(a1->session_id(), 2, "key:a").status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("parts")));
}

TEST_F(CheckSessionsTest, IdleSessionsExpireAndFreeTheirSlot) {
  CheckSessionOptions options;
  options.max_open = 1;
  options.idle_timeout = absl::Minutes(10);
  auto sessions = Make(options);
  auto opened = sessions->Open("key:a");
  ASSERT_THAT(opened.status(), IsOk());
  auto part = sessions->Join(opened->session_id(), 0, "key:a");
  ASSERT_THAT(part.status(), IsOk());
  // Feeding keeps it alive.
  now_ += absl::Minutes(8);
  EXPECT_THAT((*part)->Add(Md5Batch('a', 1), KindCounts(), 1, now_), IsOk());
  now_ += absl::Minutes(8);
  EXPECT_THAT(sessions->Open("key:b").status(), StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  now_ += absl::Minutes(3);
  EXPECT_THAT(sessions->Open("key:b").status(), IsOk());
  EXPECT_THAT(sessions->Close(opened->session_id(), "key:a").status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

// Batch `number` of a part (CheckRequest.session_batch).
v1::CheckRequest Numbered(v1::CheckRequest request, uint64_t number) {
  request.set_session_batch(number);
  return request;
}

TEST_F(CheckSessionsTest, ResentNumberedBatchesAreCountedOnce) {
  auto sessions = Make();
  auto opened = sessions->Open("key:a");
  ASSERT_THAT(opened.status(), IsOk());
  auto part = sessions->Join(opened->session_id(), 0, "key:a");
  ASSERT_THAT(part.status(), IsOk());
  KindCounts one_match;
  one_match.md5 = 1;
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('a', 4), 1), one_match, 5, now_), IsOk());
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('b', 3), 2), one_match, 5, now_), IsOk());
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('c', 2), 3), KindCounts(), 5, now_), IsOk());
  // A stream broke before answers 2 and 3 arrived: the client re-sends them
  // (a new stream may start at any number up to the next one), then goes on.
  EXPECT_THAT((*part)->CheckStart(2), IsOk());
  EXPECT_THAT((*part)->CheckStart(4), IsOk());
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('b', 3), 2), one_match, 6, now_), IsOk());
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('c', 2), 3), KindCounts(), 6, now_), IsOk());
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('d', 1), 4), KindCounts(), 6, now_), IsOk());
  auto r = sessions->Close(opened->session_id(), "key:a");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->md5_items(), 10u);
  EXPECT_EQ(r->md5_matches(), 2u);
  EXPECT_EQ(r->min_version(), 5u);
  EXPECT_EQ(r->max_version(), 6u);  // the re-sends were checked against 6
  receipt::ItemsDigest mine;
  for (char c : {'a', 'b', 'c', 'd'}) mine.Add(Md5Batch(c, 4 - (c - 'a')));
  const receipt::Digest32 expected = receipt::CombineParts({{0, mine.Finish()}});
  EXPECT_EQ(r->items_digest(), std::string(expected.begin(), expected.end()));
}

TEST_F(CheckSessionsTest, BadlyNumberedBatchesAreRefusedNamingTheField) {
  auto sessions = Make();
  auto opened = sessions->Open("key:a");
  ASSERT_THAT(opened.status(), IsOk());
  auto part = sessions->Join(opened->session_id(), 0, "key:a");
  ASSERT_THAT(part.status(), IsOk());
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('a', 4), 1), KindCounts(), 1, now_), IsOk());
  // Skips batch 2.
  EXPECT_THAT((*part)->CheckStart(3),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("session_batch 3")));
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('c', 1), 3), KindCounts(), 1, now_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("before batch 2")));
  // Re-sent with other items: refused, and not counted.
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('x', 5), 1), KindCounts(), 1, now_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("other items")));
  // The same item counts but other items (the old count fingerprint took
  // this for the batch): refused too.
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('z', 4), 1), KindCounts(), 1, now_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("other items")));
  v1::CheckRequest reordered = Md5Batch('a', 4);
  (*reordered.mutable_packed(0)->mutable_data())[20] = 'b';
  EXPECT_THAT((*part)->Add(Numbered(reordered, 1), KindCounts(), 1, now_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("other items")));
  // The very same batch is still counted once.
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('a', 4), 1), KindCounts(), 1, now_), IsOk());
  // Re-sent long after: more than the window of later batches.
  for (uint64_t n = 2; n <= SessionPart::kResendWindow + 2; ++n) {
    ASSERT_THAT((*part)->Add(Numbered(Md5Batch('b', 1), n), KindCounts(), 1, now_), IsOk());
  }
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('a', 4), 1), KindCounts(), 1, now_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("re-sent after")));
  auto r = sessions->Close(opened->session_id(), "key:a");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->md5_items(), 4u + SessionPart::kResendWindow + 1);
}

// A typed PDQ item below the registry's minimum quality is answered in
// the low-quality tier, and the receipt's digest says so, as for a packed
// item flagged low-quality.
TEST_F(CheckSessionsTest, TypedLowQualityPdqItemsAreInTheDigest) {
  CheckSessionOptions options;
  options.min_pdq_quality = 50;
  auto sessions = Make(options);
  auto opened = sessions->Open("key:a");
  ASSERT_THAT(opened.status(), IsOk());
  auto part = sessions->Join(opened->session_id(), 0, "key:a");
  ASSERT_THAT(part.status(), IsOk());
  v1::CheckRequest typed;
  v1::PdqHash* pdq = typed.add_items()->mutable_pdq();
  pdq->set_hash(std::string(32, 'h'));
  pdq->set_quality(30);
  EXPECT_THAT((*part)->Add(Numbered(typed, 1), KindCounts(), 1, now_), IsOk());
  EXPECT_THAT((*part)->Add(Numbered(typed, 1), KindCounts(), 1, now_), IsOk());  // a re-send
  auto r = sessions->Close(opened->session_id(), "key:a");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->pdq_items(), 1u);
  v1::CheckRequest packed;
  v1::PackedItems* p = packed.add_packed();
  p->set_kind(v1::PackedItems::KIND_PDQ);
  p->set_data(std::string(32, 'h'));
  p->set_pdq_low_quality(std::string(1, '\x01'));
  receipt::ItemsDigest flagged;
  flagged.Add(packed);
  const receipt::Digest32 expected = receipt::CombineParts({{0, flagged.Finish()}});
  EXPECT_EQ(r->items_digest(), std::string(expected.begin(), expected.end()));
}

// The core's view of the store: what CheckSessionJournal keeps, unsealed.
class MapJournal final : public SessionJournal {
 public:
  absl::Status Put(const std::string& key, const std::string& state) override {
    entries[key] = state;
    return absl::OkStatus();
  }
  absl::Status Erase(const std::string& id) override {
    for (auto it = entries.lower_bound(id); it != entries.end() && it->first.rfind(id, 0) == 0;) {
      it = entries.erase(it);
    }
    return absl::OkStatus();
  }
  absl::Status ForEach(
      const std::function<void(const std::string&, const std::string&)>& fn) override {
    for (const auto& [key, state] : entries) fn(key, state);
    return absl::OkStatus();
  }
  std::map<std::string, std::string> entries;
};

// A restart mid-run: the new server takes the session back from its
// journal; the client re-sends what it has no answer for and goes on.
TEST_F(CheckSessionsTest, SessionsOutliveARestartThroughTheJournal) {
  MapJournal journal;
  auto before = Make();
  ASSERT_THAT(before->Restore(&journal), IsOk());
  auto opened = before->Open("key:a");
  ASSERT_THAT(opened.status(), IsOk());
  const std::string id = opened->session_id();
  KindCounts one_match;
  one_match.md5 = 1;
  {
    auto part = before->Join(id, 0, "key:a");
    ASSERT_THAT(part.status(), IsOk());
    EXPECT_THAT((*part)->Add(Numbered(Md5Batch('a', 4), 1), one_match, 5, now_), IsOk());
    EXPECT_THAT((*part)->Add(Numbered(Md5Batch('b', 3), 2), KindCounts(), 5, now_), IsOk());
    EXPECT_THAT((*part)->Add(Numbered(Md5Batch('c', 2), 3), KindCounts(), 5, now_), IsOk());
    auto other = before->Join(id, 2, "key:a");  // a second part, unnumbered
    ASSERT_THAT(other.status(), IsOk());
    EXPECT_THAT((*other)->Add(Md5Batch('p', 1), KindCounts(), 5, now_), IsOk());
  }
  EXPECT_EQ(journal.entries.size(), 3u);  // the session, parts 0 and 2
  before.reset();  // the server stops (nothing is closed)

  now_ += absl::Seconds(20);
  auto after = Make();
  ASSERT_THAT(after->Restore(&journal), IsOk());
  EXPECT_EQ(after->open_count(), 1u);
  EXPECT_THAT(after->Join(id, 0, "key:b").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("check session")));
  auto part = after->Join(id, 0, "key:a");
  ASSERT_THAT(part.status(), IsOk());
  // Answer 3 never reached the client: it re-sends batch 3, then goes on.
  EXPECT_THAT((*part)->CheckStart(3), IsOk());
  EXPECT_THAT((*part)->CheckStart(5),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("session_batch 5")));
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('x', 2), 3), KindCounts(), 6, now_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("other items")));
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('c', 2), 3), KindCounts(), 6, now_), IsOk());
  EXPECT_THAT((*part)->Add(Numbered(Md5Batch('d', 1), 4), one_match, 6, now_), IsOk());
  auto r = after->Close(id, "key:a");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->md5_items(), 11u);
  EXPECT_EQ(r->md5_matches(), 2u);
  EXPECT_EQ(r->min_version(), 5u);
  EXPECT_EQ(r->max_version(), 6u);
  EXPECT_EQ(r->ended_unix_micros() - r->started_unix_micros(), 20'000'000);
  receipt::ItemsDigest zero, two;
  for (char c : {'a', 'b', 'c', 'd'}) zero.Add(Md5Batch(c, 4 - (c - 'a')));
  two.Add(Md5Batch('p', 1));
  const receipt::Digest32 expected = receipt::CombineParts({{0, zero.Finish()}, {2, two.Finish()}});
  EXPECT_EQ(r->items_digest(), std::string(expected.begin(), expected.end()));
  EXPECT_TRUE(journal.entries.empty());  // closed: gone from the journal too
}

TEST_F(CheckSessionsTest, ExpiredOrUnreadableSessionsAreDroppedAtRestore) {
  MapJournal journal;
  auto before = Make();
  ASSERT_THAT(before->Restore(&journal), IsOk());
  auto stale = before->Open("key:a");
  ASSERT_THAT(stale.status(), IsOk());
  now_ += absl::Minutes(9);
  auto fresh = before->Open("key:a");
  ASSERT_THAT(fresh.status(), IsOk());
  auto broken = before->Open("key:a");
  ASSERT_THAT(broken.status(), IsOk());
  journal.entries[broken->session_id() + "/0"] = "not a part";
  journal.entries["orphan/0"] = "a part without its session";
  before.reset();

  now_ += absl::Minutes(2);  // the first is 11 minutes idle: expired
  auto after = Make();
  ASSERT_THAT(after->Restore(&journal), IsOk());
  EXPECT_EQ(after->open_count(), 1u);
  EXPECT_THAT(after->Join(fresh->session_id(), 0, "key:a").status(), IsOk());
  EXPECT_THAT(after->Join(stale->session_id(), 0, "key:a").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("check session")));
  EXPECT_THAT(after->Join(broken->session_id(), 0, "key:a").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("check session")));
  ASSERT_EQ(journal.entries.size(), 1u);
  EXPECT_EQ(journal.entries.begin()->first, fresh->session_id());
}

TEST_F(CheckSessionsTest, StreamBatchesAreConsecutiveOrAllUnnumbered) {
  auto sessions = Make();
  auto opened = sessions->Open("key:a");
  ASSERT_THAT(opened.status(), IsOk());
  auto part = sessions->Join(opened->session_id(), 0, "key:a");
  ASSERT_THAT(part.status(), IsOk());
  StreamBatchOrder numbered;
  EXPECT_THAT(numbered.Next(**part, 1), IsOk());
  EXPECT_THAT(numbered.Next(**part, 2), IsOk());
  EXPECT_THAT(numbered.Next(**part, 4),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("session_batch 4: want 3")));
  StreamBatchOrder unnumbered;
  EXPECT_THAT(unnumbered.Next(**part, 0), IsOk());
  EXPECT_THAT(unnumbered.Next(**part, 0), IsOk());
  EXPECT_THAT(unnumbered.Next(**part, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not numbered")));
  // A stream may not start past the part's next number (1: nothing fed).
  StreamBatchOrder late;
  EXPECT_THAT(late.Next(**part, 2),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("session_batch 2")));
}

}  // namespace
}  // namespace optout::service
