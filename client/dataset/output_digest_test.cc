// The items a dropped row is listed with (output_digest.h) feed the items
// digest exactly as the row did inside its chunk, whatever the chunk held.
#include "client/dataset/output_digest.h"

#include "absl/strings/escaping.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/url_digests.h"
#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

using ::optout::testing::IsOk;

TEST(OutputDigestTest, DroppedRowItemsFeedTheDigestAsTheirChunkDid) {
  auto psl = url::PublicSuffixList::Load();
  ASSERT_THAT(psl, IsOk());
  UrlDigester digester(**psl);
  std::vector<Record> records(5);
  records[0].url = "https://a.example.com/x/1.jpg";
  records[0].has_url = true;
  records[0].md5 = std::string(16, '\x01');
  records[1].passthrough = true;
  records[2].sha256 = std::string(32, '\x02');
  records[3].url = "https://b.example.org/2.png?s=1";
  records[3].has_url = true;
  // PDQ with regions in one record and without in another: the chunk then
  // sends region counts for both.
  records[3].pdq = std::string(9 * 32, '\x03');
  records[3].pdq_regions = std::string(2 * 32, '\x04');
  records[4].pdq = std::string(9 * 32, '\x05');
  for (Record& r : records) {
    if (r.pdq.empty()) PrepareRecord(digester, protocol::PdqQualityFloors{}, &r);
  }
  // PrepareRecord would hash an image; the PDQ records get their URL digests
  // here by hand instead.
  auto count = digester.Append(records[3].url, &records[3].url_digests);
  ASSERT_THAT(count, IsOk());
  records[3].url_count = *count;
  ChunkPlan plan;
  BuildRequest(records, &plan);
  receipt::ItemsDigest whole;
  whole.Add(plan.request);

  receipt::ItemsDigest by_row;
  for (const Record& r : records) {
    const std::string items = DroppedRowItems(r);
    if (r.passthrough) {
      EXPECT_EQ(items, "");
      continue;
    }
    std::string bytes;
    ASSERT_TRUE(absl::Base64Unescape(items, &bytes));
    v1::CheckRequest one;
    ASSERT_TRUE(one.ParseFromString(bytes));
    by_row.Add(one);
  }
  EXPECT_EQ(by_row.counts(), whole.counts());
  EXPECT_EQ(receipt::ToHex(by_row.Finish()), receipt::ToHex(whole.Finish()));
}

}  // namespace
}  // namespace optout::dataset
