#include "client/dataset/record.h"

#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

// ClearForReuse leaves every field as a default Record has it (its size
// check makes a new field fail to compile until it is reset there).
TEST(RecordTest, ClearForReuseLeavesEveryFieldDefault) {
  Record r;
  r.passthrough = true;
  r.row = 7;
  r.key = "key";
  r.pair_key = "pair";
  r.url = "https://a.example/x.jpg";
  r.has_url = true;
  r.md5 = std::string(16, 'm');
  r.sha256 = std::string(32, 's');
  r.image_file = 0;
  r.unchecked = "bad URL";
  r.incomplete = true;
  r.raw = "a,b,c";
  r.files.push_back(SampleFile{"x.jpg", "bytes", 1, 0600, false, "src"});
  r.url_digests = std::string(64, 'd');
  r.url_count = 2;
  r.pdq = std::string(288, 'p');
  r.pdq_regions = std::string(32, 'r');
  r.low_quality = true;
  r.pdq_low_quality = true;
  r.pdq_region_low = std::string(1, '\1');
  const size_t url_capacity = r.url.capacity();

  ClearForReuse(&r);
  const Record fresh;
  EXPECT_EQ(r.passthrough, fresh.passthrough);
  EXPECT_EQ(r.row, fresh.row);
  EXPECT_EQ(r.key, fresh.key);
  EXPECT_EQ(r.pair_key, fresh.pair_key);
  EXPECT_EQ(r.url, fresh.url);
  EXPECT_EQ(r.has_url, fresh.has_url);
  EXPECT_EQ(r.md5, fresh.md5);
  EXPECT_EQ(r.sha256, fresh.sha256);
  EXPECT_EQ(r.image_file, fresh.image_file);
  EXPECT_EQ(r.unchecked, fresh.unchecked);
  EXPECT_EQ(r.incomplete, fresh.incomplete);
  EXPECT_EQ(r.raw, fresh.raw);
  EXPECT_TRUE(r.files.empty());
  EXPECT_EQ(r.url_digests, fresh.url_digests);
  EXPECT_EQ(r.url_count, fresh.url_count);
  EXPECT_EQ(r.pdq, fresh.pdq);
  EXPECT_EQ(r.pdq_regions, fresh.pdq_regions);
  EXPECT_EQ(r.low_quality, fresh.low_quality);
  EXPECT_EQ(r.pdq_low_quality, fresh.pdq_low_quality);
  EXPECT_EQ(r.pdq_region_low, fresh.pdq_region_low);
  // The point of it: the buffers stay.
  EXPECT_EQ(r.url.capacity(), url_capacity);
}

}  // namespace
}  // namespace optout::dataset
