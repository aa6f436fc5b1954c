// Request building and verdict mapping, without a server.
#include "client/dataset/chunk_check.h"

#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "client/common/protocol/packed_items.h"
#include "client/common/digest/digest.h"
#include "client/pdq/testing/corpus_photo.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

class ChunkCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto psl = url::PublicSuffixList::Load();
    ASSERT_THAT(psl, IsOk());
    psl_ = *std::move(psl);
  }
  std::unique_ptr<url::PublicSuffixList> psl_;
};

TEST_F(ChunkCheckTest, BadUrlsBringNoItemAndAreUnchecked) {
  UrlDigester digester(*psl_);
  std::vector<Record> records(4);
  records[0].url = "https://Photos.Example.com/a/b.jpg?x=1";
  records[0].has_url = true;
  records[1].url = "gopher://nope/";
  records[1].has_url = true;
  records[1].md5 = std::string(16, '\x01');
  records[2].passthrough = true;
  records[3].sha256 = std::string(32, '\x02');
  for (Record& r : records) PrepareRecord(digester, protocol::PdqQualityFloors{}, &r);
  EXPECT_GE(records[0].url_count, 2u);
  EXPECT_EQ(records[0].url_digests.substr(0, 32),
            digest::AsStringView(digest::Sha256("photos.example.com/a/b.jpg?x=1")));
  EXPECT_THAT(records[1].unchecked, ::testing::HasSubstr("UNSUPPORTED_SCHEME"));
  EXPECT_EQ(records[1].url_count, 0u);

  ChunkPlan plan;
  BuildRequest(records, &plan);
  ASSERT_EQ(plan.request.packed_size(), 3);  // URL digests, MD5, SHA-256
  EXPECT_EQ(plan.request.packed(0).kind(), v1::PackedItems::KIND_URL_DIGESTS);
  EXPECT_EQ(plan.request.packed(0).counts_size(), 1);
  EXPECT_EQ(plan.request.packed(0).data().size(), 32u * records[0].url_count);
  EXPECT_THAT(plan.item_record[1], ::testing::ElementsAre(1u));
  EXPECT_THAT(plan.item_record[2], ::testing::ElementsAre(3u));

  v1::CheckResponse response;
  response.add_packed_verdicts();
  auto* md5 = response.add_packed_verdicts()->add_matches();
  md5->set_index(0);
  md5->set_kind(v1::MATCH_KIND_MD5);
  md5->add_match_ids("id-1");
  auto* sha = response.add_packed_verdicts()->add_matches();
  sha->set_index(0);
  sha->set_kind(v1::MATCH_KIND_SHA256);
  sha->add_match_ids("id-2");
  std::vector<Verdict> verdicts(records.size());
  ASSERT_THAT(ApplyResponse(plan, response, &verdicts), IsOk());
  EXPECT_EQ(verdicts[0].kind, v1::MATCH_KIND_NONE);
  EXPECT_EQ(verdicts[1].kind, v1::MATCH_KIND_MD5);
  EXPECT_THAT(verdicts[1].ids, ::testing::ElementsAre("id-1"));
  EXPECT_EQ(verdicts[3].kind, v1::MATCH_KIND_SHA256);
}

TEST_F(ChunkCheckTest, ResponseNotFittingThePlanIsAnError) {
  std::vector<Record> records(1);
  records[0].md5 = std::string(16, '\x01');
  ChunkPlan plan;
  BuildRequest(records, &plan);
  v1::CheckResponse response;
  std::vector<Verdict> verdicts(1);
  EXPECT_THAT(ApplyResponse(plan, response, &verdicts),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("packed groups")));
  auto* m = response.add_packed_verdicts()->add_matches();
  m->set_index(5);
  EXPECT_THAT(ApplyResponse(plan, response, &verdicts),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("never sent")));
}

TEST_F(ChunkCheckTest, UndecodableImageIsUncheckedButItsDigestsAreNot) {
  UrlDigester digester(*psl_);
  Record r;
  r.files.push_back({"x.jpg", "not an image"});
  r.image_file = 0;
  PrepareRecord(digester, protocol::PdqQualityFloors{}, &r);
  EXPECT_THAT(r.unchecked, ::testing::HasSubstr("undecodable image x.jpg"));
  EXPECT_TRUE(r.pdq.empty());
  EXPECT_EQ(r.sha256, digest::AsStringView(digest::Sha256("not an image")));
  EXPECT_EQ(r.md5.size(), 16u);
}

// A copy with a frame: PrepareRecord adds the trimmed regions that
// `optout check --image` sends, and BuildRequest puts them after the
// image's hashes with one count per PDQ item (client/pdq/match_regions.h).
TEST_F(ChunkCheckTest, FramedImageCarriesItsRegionsAfterItsHashes) {
  const std::string framed = pdq::testing::CorpusPhotoBytes("v01__border.jpg");
  ASSERT_FALSE(framed.empty());
  UrlDigester digester(*psl_);
  std::vector<Record> records(2);
  records[0].files.push_back({"framed.jpg", framed});
  records[0].image_file = 0;
  records[1].sha256 = std::string(32, '\x02');
  for (Record& r : records) PrepareRecord(digester, protocol::PdqQualityFloors{}, &r);
  ASSERT_EQ(records[0].pdq.size(), protocol::kPdqDihedralItemBytes);
  const size_t regions = records[0].pdq_regions.size() / protocol::kPdqBytes;
  EXPECT_GE(regions, 1u);  // at least the frame trimmed away
  EXPECT_LE(regions, static_cast<size_t>(protocol::kMaxCheckRegionsPerPdq));

  ChunkPlan plan;
  BuildRequest(records, &plan);
  const v1::PackedItems* pdq = nullptr;
  for (const auto& p : plan.request.packed()) {
    if (p.kind() == v1::PackedItems::KIND_PDQ) pdq = &p;
  }
  ASSERT_NE(pdq, nullptr);
  EXPECT_TRUE(pdq->pdq_dihedral());
  ASSERT_EQ(pdq->counts_size(), 1);
  EXPECT_EQ(pdq->counts(0), regions);
  EXPECT_EQ(pdq->data(), records[0].pdq + records[0].pdq_regions);
  EXPECT_EQ(protocol::PackedItemCount(*pdq), 1u);  // one image, one item
}

// v09 has PDQ quality 30: below the server's minimum (50), above its
// low-quality floor (15). Sent as low-quality, flagged in the group's
// bitmap; without the tier (old server: floors 50/50), by digests only.
TEST_F(ChunkCheckTest, LowQualityImagesAreFlaggedInTheirGroup) {
  const std::string low = pdq::testing::CorpusPhotoBytes("v09__recompress.jpg");
  const std::string normal = pdq::testing::CorpusPhotoBytes("v01__recompress.jpg");
  ASSERT_FALSE(low.empty());
  ASSERT_FALSE(normal.empty());
  UrlDigester digester(*psl_);
  const protocol::PdqQualityFloors tier{50, 15};
  std::vector<Record> records(3);
  for (int i = 0; i < 3; ++i) {
    records[i].files.push_back({"x.jpg", i == 1 ? low : normal});
    records[i].image_file = 0;
    PrepareRecord(digester, tier, &records[i]);
  }
  EXPECT_TRUE(records[1].pdq_low_quality);
  EXPECT_FALSE(records[1].low_quality);
  EXPECT_FALSE(records[0].pdq_low_quality);
  ChunkPlan plan;
  BuildRequest(records, &plan);
  const v1::PackedItems* pdq = nullptr;
  for (const auto& p : plan.request.packed()) {
    if (p.kind() == v1::PackedItems::KIND_PDQ) pdq = &p;
  }
  ASSERT_NE(pdq, nullptr);
  EXPECT_EQ(protocol::PackedItemCount(*pdq), 3u);
  EXPECT_EQ(pdq->pdq_low_quality(), std::string(1, '\x02'));

  Record old_server;
  old_server.files.push_back({"x.jpg", low});
  old_server.image_file = 0;
  PrepareRecord(digester, protocol::PdqQualityFloors{}, &old_server);
  EXPECT_TRUE(old_server.low_quality);
  EXPECT_TRUE(old_server.pdq.empty());
}

// With region tiers (GetInfoResponse.pdq_region_tiers) each region goes
// with its own tier: PrepareRecord keeps one per region, and BuildRequest
// sends them all in the group's region bitmap, a region of a record without
// them in its item's tier.
TEST_F(ChunkCheckTest, RegionTiersGoInTheGroupsRegionBitmap) {
  const std::string framed = pdq::testing::CorpusPhotoBytes("v01__border.jpg");
  ASSERT_FALSE(framed.empty());
  UrlDigester digester(*psl_);
  protocol::PdqQualityFloors floors{50, 15};
  floors.region_tiers = true;
  Record prepared;
  prepared.files.push_back({"framed.jpg", framed});
  prepared.image_file = 0;
  PrepareRecord(digester, floors, &prepared);
  EXPECT_EQ(prepared.pdq_region_low.size(), prepared.pdq_regions.size() / protocol::kPdqBytes);

  const std::string pdq(protocol::kPdqDihedralItemBytes, '\x0f');
  const std::string region(protocol::kPdqBytes, '\x33');
  std::vector<Record> records(3);
  records[0].pdq = pdq;  // regions low, normal
  records[0].pdq_regions = region + region;
  records[0].pdq_region_low = std::string("\x01\x00", 2);
  records[1].pdq = pdq;  // a low-quality item whose region has no tier of its own
  records[1].pdq_low_quality = true;
  records[1].pdq_regions = region;
  records[2].pdq = pdq;  // no region
  ChunkPlan plan;
  BuildRequest(records, &plan);
  ASSERT_EQ(plan.request.packed_size(), 1);
  const v1::PackedItems& group = plan.request.packed(0);
  EXPECT_EQ(group.pdq_low_quality(), std::string(1, '\x02'));
  EXPECT_EQ(group.pdq_region_low_quality(), std::string(1, static_cast<char>(0b101)));

  records[0].pdq_region_low.clear();  // no record with region tiers: no bitmap
  ChunkPlan without;
  BuildRequest(records, &without);
  ASSERT_EQ(without.request.packed_size(), 1);
  EXPECT_TRUE(without.request.packed(0).pdq_region_low_quality().empty());
}

}  // namespace
}  // namespace optout::dataset
