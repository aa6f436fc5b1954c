#include "service/snapshot_files.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/opt_out_store.h"

namespace optout::service {
namespace {

namespace fs = std::filesystem;
using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;

class SnapshotFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/snapshot-files-test-XXXXXX";
    root_ = mkdtemp(tmpl);
    source_dir_ = root_ + "/source";
    target_dir_ = root_ + "/target";
    fs::create_directories(target_dir_);
    auto store = storage::OptOutStore::Open(source_dir_, storage::StoreOptions());
    ASSERT_THAT(store.status(), IsOk());
    source_ = *std::move(store);
    storage::ProgressMark mark;
    mark.value = "progress-at-2";
    ASSERT_THAT(source_->Insert("id1", "record-1", "req1"), IsOk());
    ASSERT_THAT(source_->Insert("id2", "record-2", "req2", &mark), IsOk());
  }
  void TearDown() override { fs::remove_all(root_); }

  std::vector<admin::v1::SnapshotChunk> Chunks() {
    std::vector<admin::v1::SnapshotChunk> chunks;
    EXPECT_THAT(SendSnapshot(source_.get(), source_dir_,
                             [&](const admin::v1::SnapshotChunk& c) {
                               chunks.push_back(c);
                               return true;
                             }),
                IsOk());
    return chunks;
  }

  std::string root_, source_dir_, target_dir_;
  std::unique_ptr<storage::OptOutStore> source_;
};

TEST_F(SnapshotFilesTest, SentCheckpointInstallsInPlaceOfAnOldDatabase) {
  {  // An older database the snapshot replaces.
    auto old = storage::OptOutStore::Open(target_dir_, storage::StoreOptions());
    ASSERT_THAT(old.status(), IsOk());
    ASSERT_THAT((*old)->Insert("stale", "stale-record", "stale-req"), IsOk());
  }
  std::vector<admin::v1::SnapshotChunk> chunks = Chunks();
  ASSERT_TRUE(chunks.back().done());
  SnapshotReceiver receiver(target_dir_);
  ASSERT_THAT(receiver.Begin(), IsOk());
  for (size_t i = 0; i + 1 < chunks.size(); ++i) ASSERT_THAT(receiver.Add(chunks[i]), IsOk());
  ASSERT_THAT(receiver.Finish(chunks.back()), IsOk());
  ASSERT_THAT(MarkSnapshotComplete(target_dir_), IsOk());
  // A crash in the middle of the move: the install runs again from the start.
  for (const auto& entry : fs::directory_iterator(receiver.incoming_dir())) {
    if (entry.path().extension() == ".sst") {
      fs::rename(entry.path(), fs::path(target_dir_) / entry.path().filename());
      break;
    }
  }
  ASSERT_THAT(InstallPendingSnapshot(target_dir_), IsOk());
  ASSERT_THAT(InstallPendingSnapshot(target_dir_), IsOk());  // nothing left to do
  EXPECT_FALSE(fs::exists(receiver.incoming_dir()));

  auto installed = storage::OptOutStore::Open(target_dir_, storage::StoreOptions());
  ASSERT_THAT(installed.status(), IsOk());
  EXPECT_EQ(*(*installed)->GetRecord("id1"), "record-1");
  EXPECT_EQ(*(*installed)->GetRecord("id2"), "record-2");
  EXPECT_FALSE((*installed)->GetRecord("stale")->has_value());
  EXPECT_EQ(*(*installed)->GetProgress(), "progress-at-2");
  // The sender's checkpoint folder is gone.
  for (const auto& entry : fs::directory_iterator(source_dir_)) {
    EXPECT_THAT(entry.path().filename().string(),
                ::testing::Not(::testing::StartsWith("snapshot.outgoing")));
  }
}

TEST_F(SnapshotFilesTest, ReceiverRefusesPathsDisorderAndMissingFiles) {
  std::vector<admin::v1::SnapshotChunk> chunks = Chunks();
  SnapshotReceiver receiver(target_dir_);
  ASSERT_THAT(receiver.Begin(), IsOk());
  admin::v1::SnapshotChunk escape = chunks[0];
  escape.set_file("../CURRENT");
  EXPECT_THAT(receiver.Add(escape), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  admin::v1::SnapshotChunk late = chunks[0];
  late.set_offset(5);
  EXPECT_THAT(receiver.Add(late), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  ASSERT_THAT(receiver.Add(chunks[0]), IsOk());
  // The stream ends after the first file: not a whole snapshot.
  EXPECT_THAT(receiver.Finish(chunks.back()), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  // Never marked complete: a start discards it and keeps the database.
  ASSERT_THAT(InstallPendingSnapshot(target_dir_), IsOk());
  EXPECT_FALSE(fs::exists(receiver.incoming_dir()));
}

TEST_F(SnapshotFilesTest, SenderStopsWhenThePeerGoesAway) {
  EXPECT_THAT(SendSnapshot(source_.get(), source_dir_,
                           [](const admin::v1::SnapshotChunk&) { return false; }),
              StatusIs(absl::StatusCode::kCancelled, ::testing::_));
}

}  // namespace
}  // namespace optout::service
