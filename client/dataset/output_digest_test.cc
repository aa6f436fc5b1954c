// The items a dropped row is listed with (output_digest.h) feed the items
// digest exactly as the row did inside its chunk, whatever the chunk held.
#include "client/dataset/output_digest.h"

#include "absl/strings/escaping.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/url_digests.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;

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

// A split Parquet file's output holds rows 1-3 and 7-9 of the whole file
// (its shard's row groups); rows 2 and 8 were dropped. Output rows are
// numbered across the gap, and the dropped rows come back between them.
TEST(OutputDigestTest, PutBackNumbersOutputRowsByTheShardsRowRanges) {
  auto dropped_at = [](uint64_t at, const std::string& md5) {
    PutBack::Row row;
    row.at = at;
    v1::PackedItems* p = row.items.add_packed();
    p->set_kind(v1::PackedItems::KIND_MD5);
    p->set_data(md5);
    row.has_items = true;
    return row;
  };
  PutBack put_back("laion.parquet", /*samples=*/false,
                   {dropped_at(2, std::string(16, 'b')), dropped_at(8, std::string(16, 'h'))},
                   {{1, 3}, {7, 3}});
  receipt::ItemsDigest rebuilt, original;
  // The output's four rows are 1, 3, 7, 9 of the file.
  for (char row : std::string("acgi")) {
    if (put_back.due()) put_back.FeedDue(&rebuilt);
    v1::CheckRequest one;
    v1::PackedItems* p = one.add_packed();
    p->set_kind(v1::PackedItems::KIND_MD5);
    p->set_data(std::string(16, row));
    rebuilt.Add(one);
    put_back.Advance();
  }
  ASSERT_THAT(put_back.Finish(&rebuilt), IsOk());
  EXPECT_EQ(put_back.rows(), 6u);
  for (char row : std::string("abcghi")) {
    v1::CheckRequest one;
    v1::PackedItems* p = one.add_packed();
    p->set_kind(v1::PackedItems::KIND_MD5);
    p->set_data(std::string(16, row));
    original.Add(one);
  }
  EXPECT_EQ(receipt::ToHex(rebuilt.Finish()), receipt::ToHex(original.Finish()));

  // A dropped row outside the shard's rows is never put back: named.
  PutBack outside("laion.parquet", /*samples=*/false, {dropped_at(5, std::string(16, 'e'))},
                  {{1, 3}, {7, 3}});
  for (int i = 0; i < 6; ++i) outside.Advance();
  EXPECT_THAT(outside.Finish(&rebuilt),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("row 5 of laion.parquet lies past its end or outside the row groups")));
}

}  // namespace
}  // namespace optout::dataset
