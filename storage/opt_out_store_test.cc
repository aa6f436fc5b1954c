#include "storage/opt_out_store.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"

namespace optout::storage {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

class OptOutStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    Reopen();
  }
  void Reopen() {
    store_.reset();
    StoreOptions options;
    options.env = env_.get();
    auto store = OptOutStore::Open("/mem/db", options);
    ASSERT_THAT(store, IsOk());
    store_ = std::move(*store);
  }
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<OptOutStore> store_;
};

TEST_F(OptOutStoreTest, InsertedRecordAndRequestSurviveReopen) {
  ASSERT_THAT(store_->Insert("id1", "record-bytes", "req1"), IsOk());
  Reopen();
  auto record = store_->GetRecord("id1");
  ASSERT_THAT(record, IsOk());
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ(**record, "record-bytes");
  auto request = store_->GetRequest("req1");
  ASSERT_THAT(request, IsOk());
  EXPECT_EQ(request->value_or(""), "id1");
}

TEST_F(OptOutStoreTest, RewriteRecordsMovesRequestKeysAndWritesTheMetaValueTogether) {
  ASSERT_THAT(store_->Insert("id1", "old1", "reqA"), IsOk());
  ASSERT_THAT(store_->Insert("id2", "old2", "reqB"), IsOk());
  ASSERT_THAT(store_->Insert("id3", "old3", ""), IsOk());
  std::vector<OptOutStore::RecordRewrite> rewrites = {
      {"id1", "new1", "reqA", "reqA2"},  // request key moves
      {"id2", "new2", "reqB", ""},       // request key dropped
      {"id3", "new3", "", ""},
  };
  ASSERT_THAT(store_->RewriteRecords(rewrites, "progress", "id3"), IsOk());
  Reopen();
  EXPECT_EQ(store_->GetRecord("id1")->value_or(""), "new1");
  EXPECT_EQ(store_->GetRecord("id2")->value_or(""), "new2");
  EXPECT_EQ(store_->GetRecord("id3")->value_or(""), "new3");
  EXPECT_FALSE(store_->GetRequest("reqA")->has_value());
  EXPECT_EQ(store_->GetRequest("reqA2")->value_or(""), "id1");
  EXPECT_FALSE(store_->GetRequest("reqB")->has_value());
  EXPECT_EQ(store_->GetMeta("progress")->value_or(""), "id3");
  EXPECT_FALSE(store_->GetMeta("absent")->has_value());
  ASSERT_THAT(store_->PutMeta("progress", "done"), IsOk());
  Reopen();
  EXPECT_EQ(store_->GetMeta("progress")->value_or(""), "done");
  int records = 0;
  ASSERT_THAT(store_->ForEachRecord([&](absl::string_view, absl::string_view) {
    ++records;
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(records, 3) << "meta values are not records";
}

TEST_F(OptOutStoreTest, ProgressMarkIsWrittenWithItsChangeAndSurvivesReopen) {
  auto none = store_->GetProgress();
  ASSERT_THAT(none, IsOk());
  EXPECT_FALSE(none->has_value());
  const uint64_t before = store_->LatestSequence();
  ProgressMark first{"seq 1", /*sync=*/false};
  ASSERT_THAT(store_->Insert("id1", "record", "req1", &first), IsOk());
  EXPECT_GT(store_->LatestSequence(), before);
  EXPECT_EQ(store_->GetProgress()->value_or(""), "seq 1");
  ProgressMark second{"seq 2"};
  ASSERT_THAT(store_->Delete("id1", "req1", "tomb", "day", &second), IsOk());
  ProgressMark third{"seq 3"};
  ASSERT_THAT(store_->PutProgress(third), IsOk());
  const uint64_t after = store_->LatestSequence();
  Reopen();
  EXPECT_EQ(store_->GetProgress()->value_or(""), "seq 3");
  EXPECT_GE(store_->LatestSequence(), after);
  EXPECT_FALSE(store_->GetRecord("id1")->has_value());
}

TEST_F(OptOutStoreTest, BatchReadsWhatItStagedAndWritesItAllWithTheProgressAtOnce) {
  ASSERT_THAT(store_->Insert("id0", "held", "req0"), IsOk());
  ASSERT_THAT(store_->Delete("id0", "req0", "", "", nullptr, "revoked-day"), IsOk());
  std::unique_ptr<OptOutStore::Batch> batch = store_->NewBatch();
  EXPECT_TRUE(batch->empty());
  ASSERT_THAT(batch->Insert("id1", "record1", "req1"), IsOk());
  ASSERT_THAT(batch->PutMeta("kept/1", "sealed"), IsOk());
  // Staged changes are read through the batch, not yet from the store.
  EXPECT_EQ(batch->GetRequest("req1")->value_or(""), "id1");
  EXPECT_EQ(batch->GetRecord("id1")->value_or(""), "record1");
  EXPECT_FALSE(store_->GetRecord("id1")->has_value());
  // What the store holds is read through the batch too.
  EXPECT_EQ(batch->GetRevokedRequest("req0")->value_or(""), "revoked-day");
  EXPECT_FALSE(batch->GetRequest("req2")->has_value());
  const uint64_t before = store_->LatestSequence();
  ProgressMark mark{"seq 9", /*sync=*/true};
  ASSERT_THAT(store_->Write(batch.get(), &mark), IsOk());
  EXPECT_TRUE(batch->empty());
  // One write: a single sequence for the record, its request key, the meta
  // value and the progress (RocksDB numbers each key of a batch).
  EXPECT_EQ(store_->LatestSequence(), before + 4);
  Reopen();
  EXPECT_EQ(store_->GetRecord("id1")->value_or(""), "record1");
  EXPECT_EQ(store_->GetRequest("req1")->value_or(""), "id1");
  EXPECT_EQ(store_->GetMeta("kept/1")->value_or(""), "sealed");
  EXPECT_EQ(store_->GetProgress()->value_or(""), "seq 9");
}

TEST_F(OptOutStoreTest, ClearedOrEmptyBatchWritesNothing) {
  std::unique_ptr<OptOutStore::Batch> batch = store_->NewBatch();
  ASSERT_THAT(batch->Insert("id1", "record1", "req1"), IsOk());
  batch->Clear();
  EXPECT_FALSE(batch->GetRecord("id1")->has_value());
  const uint64_t before = store_->LatestSequence();
  ASSERT_THAT(store_->Write(batch.get()), IsOk());
  EXPECT_EQ(store_->LatestSequence(), before);
  EXPECT_FALSE(store_->GetRecord("id1")->has_value());
}

TEST_F(OptOutStoreTest, UnsyncedMetaIsListedAndDeletedByPrefix) {
  ASSERT_THAT(store_->PutMeta("key_state", "k"), IsOk());
  ASSERT_THAT(store_->PutUnsyncedMeta("session/a", "1"), IsOk());
  ASSERT_THAT(store_->PutUnsyncedMeta("session/a/0", "2"), IsOk());
  ASSERT_THAT(store_->PutUnsyncedMeta("session/b", "3"), IsOk());
  ASSERT_THAT(store_->PutUnsyncedMeta("sessions", "other prefix"), IsOk());
  Reopen();
  auto list = [&](absl::string_view prefix) {
    std::vector<std::string> seen;
    EXPECT_THAT(store_->ForEachMeta(prefix,
                                    [&](absl::string_view key, absl::string_view value) {
                                      seen.push_back(absl::StrCat(key, "=", value));
                                      return absl::OkStatus();
                                    }),
                IsOk());
    return seen;
  };
  EXPECT_EQ(list("session/"),
            (std::vector<std::string>{"session/a=1", "session/a/0=2", "session/b=3"}));
  ASSERT_THAT(store_->DeleteMetaPrefix("session/a"), IsOk());
  EXPECT_EQ(list("session/"), (std::vector<std::string>{"session/b=3"}));
  EXPECT_THAT(store_->DeleteMetaPrefix(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty prefix")));
  auto kept = store_->GetMeta("key_state");
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->value_or(""), "k");
  EXPECT_EQ(list("sessions").size(), 1u);
}

TEST_F(OptOutStoreTest, MissingKeysAreNulloptNotErrors) {
  auto record = store_->GetRecord("nope");
  ASSERT_THAT(record, IsOk());
  EXPECT_FALSE(record->has_value());
  auto request = store_->GetRequest("nope");
  ASSERT_THAT(request, IsOk());
  EXPECT_FALSE(request->has_value());
}

TEST_F(OptOutStoreTest, DeleteRemovesRecordAndRequestKey) {
  ASSERT_THAT(store_->Insert("id1", "r", "req1"), IsOk());
  ASSERT_THAT(store_->Delete("id1", "req1"), IsOk());
  EXPECT_FALSE(store_->GetRecord("id1")->has_value());
  EXPECT_FALSE(store_->GetRequest("req1")->has_value());
}

TEST_F(OptOutStoreTest, DeleteWithTombstoneKeepsOnlyTheTombstone) {
  ASSERT_TRUE(store_->Insert("id1", "r", "req1").ok());
  EXPECT_FALSE(store_->GetTombstone("t1")->has_value());
  ASSERT_TRUE(store_->Delete("id1", "req1", "t1", "day").ok());
  EXPECT_FALSE(store_->GetRecord("id1")->has_value());
  EXPECT_FALSE(store_->GetRequest("req1")->has_value());
  EXPECT_EQ(store_->GetTombstone("t1")->value_or(""), "day");
  // Tombstones are not records: a start-up scan never sees them.
  int records = 0;
  ASSERT_TRUE(store_
                  ->ForEachRecord([&](absl::string_view, absl::string_view) {
                    ++records;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(records, 0);
}

// A key rotation keeps a revoked request under the new version's key: the
// stored request key goes, the revoked one is written under the other key.
TEST_F(OptOutStoreTest, RevokedRequestMayBeKeptUnderAnotherKeyThanTheOneDeleted) {
  ASSERT_THAT(store_->Insert("id1", "r", "req1-old"), IsOk());
  ASSERT_THAT(store_->Delete("id1", "req1-old", "t1", "day", nullptr, "revoked-day", "req1-new"),
              IsOk());
  EXPECT_FALSE(store_->GetRequest("req1-old")->has_value());
  EXPECT_FALSE(store_->GetRevokedRequest("req1-old")->has_value());
  EXPECT_EQ(store_->GetRevokedRequest("req1-new")->value_or(""), "revoked-day");
}

TEST_F(OptOutStoreTest, RevokedRequestKeysStayUntilDeletedAndSurviveReopen) {
  ASSERT_THAT(store_->Insert("id1", "r", "req1"), IsOk());
  ASSERT_THAT(store_->Insert("id2", "r", "req2"), IsOk());
  ASSERT_THAT(store_->PutMeta("other_meta", "x"), IsOk());
  ASSERT_THAT(store_->Delete("id1", "req1", "t1", "day", nullptr, "revoked-day"), IsOk());
  ASSERT_THAT(store_->Delete("id2", "req2", "t2", "day"), IsOk());  // none asked for
  EXPECT_FALSE(store_->GetRequest("req1")->has_value());
  EXPECT_EQ(store_->GetRevokedRequest("req1")->value_or(""), "revoked-day");
  EXPECT_FALSE(store_->GetRevokedRequest("req2")->has_value());
  Reopen();
  std::map<std::string, std::string> seen;
  auto collect = [&](absl::string_view key, absl::string_view value) {
    seen[std::string(key)] = std::string(value);
    return absl::OkStatus();
  };
  ASSERT_THAT(store_->ForEachRevokedRequest(collect), IsOk());
  EXPECT_EQ(seen, (std::map<std::string, std::string>{{"req1", "revoked-day"}}));
  ProgressMark mark{"seq 9"};
  ASSERT_THAT(store_->DeleteRevokedRequests({"req1"}, &mark), IsOk());
  EXPECT_FALSE(store_->GetRevokedRequest("req1")->has_value());
  EXPECT_EQ(store_->GetProgress()->value_or(""), "seq 9");
  EXPECT_EQ(store_->GetMeta("other_meta")->value_or(""), "x");
  seen.clear();
  ASSERT_THAT(store_->ForEachRevokedRequest(collect), IsOk());
  EXPECT_TRUE(seen.empty());
}

TEST_F(OptOutStoreTest, ForEachRecordVisitsEveryRecordInIdOrder) {
  ASSERT_THAT(store_->Insert("b", "2", ""), IsOk());
  ASSERT_THAT(store_->Insert("a", "1", ""), IsOk());
  ASSERT_THAT(store_->FlushAndCompact(), IsOk());
  ASSERT_THAT(store_->Insert("c", "3", ""), IsOk());
  std::map<std::string, std::string> seen;
  std::string order;
  ASSERT_TRUE(store_
                  ->ForEachRecord([&](absl::string_view id, absl::string_view record) {
                    seen[std::string(id)] = std::string(record);
                    order += std::string(id);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(order, "abc");
  EXPECT_EQ(seen["b"], "2");
}

TEST_F(OptOutStoreTest, ForEachRecordInARangeVisitsOnlyIdsFromBeginToBeforeEnd) {
  for (const char* id : {"a", "b", "c", "d"}) ASSERT_THAT(store_->Insert(id, "x", ""), IsOk());
  auto visit = [&](absl::string_view begin, absl::string_view end) {
    std::string order;
    EXPECT_THAT(store_->ForEachRecord(
                    [&](absl::string_view id, absl::string_view) {
                      order += std::string(id);
                      return absl::OkStatus();
                    },
                    begin, end),
                IsOk());
    return order;
  };
  EXPECT_EQ(visit("b", "d"), "bc");
  EXPECT_EQ(visit("", "b"), "a");
  EXPECT_EQ(visit("c", ""), "cd");
  EXPECT_EQ(store_->EstimatedRecordCount(), 4u);
}

TEST_F(OptOutStoreTest, ForEachRecordStopsAtFirstError) {
  ASSERT_THAT(store_->Insert("a", "1", ""), IsOk());
  ASSERT_THAT(store_->Insert("b", "2", ""), IsOk());
  int calls = 0;
  absl::Status s = store_->ForEachRecord([&](absl::string_view, absl::string_view) {
    ++calls;
    return absl::DataLossError("bad record");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad record")));
  EXPECT_EQ(calls, 1);
}

TEST_F(OptOutStoreTest, BackupRestoresWhatWasWrittenBeforeItAndNothingAfter) {
  ASSERT_THAT(store_->Insert("id1", "r1", "req1"), IsOk());
  ASSERT_THAT(store_->Insert("id2", "r2", ""), IsOk());
  auto first = store_->Backup("/mem/backup");
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->id, 1u);
  EXPECT_GT(first->files, 0u);
  ASSERT_THAT(store_->Insert("id3", "r3", ""), IsOk());

  ASSERT_THAT(OptOutStore::RestoreLatestBackup("/mem/backup", "/mem/restored", env_.get()), IsOk());
  StoreOptions options;
  options.env = env_.get();
  auto restored = OptOutStore::Open("/mem/restored", options);
  ASSERT_THAT(restored, IsOk());
  std::map<std::string, std::string> records;
  ASSERT_THAT((*restored)->ForEachRecord([&](absl::string_view id, absl::string_view record) {
    records.emplace(id, record);
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(records, (std::map<std::string, std::string>{{"id1", "r1"}, {"id2", "r2"}}));
  auto request = (*restored)->GetRequest("req1");
  ASSERT_THAT(request, IsOk());
  EXPECT_EQ(request->value_or(""), "id1");
  // The restored database takes writes.
  EXPECT_THAT((*restored)->Insert("id4", "r4", ""), IsOk());
}

TEST_F(OptOutStoreTest, RestoreNeverOverwritesADatabaseAndNeedsABackup) {
  ASSERT_THAT(store_->Backup("/mem/backup"), IsOk());
  EXPECT_THAT(OptOutStore::RestoreLatestBackup("/mem/backup", "/mem/db", env_.get()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already holds a database")));
  EXPECT_THAT(OptOutStore::RestoreLatestBackup("/mem/nothing", "/mem/new", env_.get()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("holds no backup")));
}

}  // namespace
}  // namespace optout::storage
