#include "client/dataset/csv.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

using ::testing::ElementsAre;

size_t Length(absl::string_view data, bool at_eof = false) {
  bool unterminated = false;
  return CsvRecordLength(data, ',', at_eof, &unterminated);
}

TEST(CsvRecordLengthTest, EndsAtLineBreakOutsideQuotes) {
  EXPECT_EQ(Length("a,b\nc,d\n"), 4u);
  EXPECT_EQ(Length("\"a\nb\",c\nnext"), 8u);
  EXPECT_EQ(Length("\"a\"\"\nb\",c\r\nx"), 11u);
}

TEST(CsvRecordLengthTest, NeedsMoreInputUntilTheRecordEnds) {
  EXPECT_EQ(Length("a,\"b\nc"), 0u);
  EXPECT_EQ(Length("a,b"), 0u);
  EXPECT_EQ(Length("a,b", /*at_eof=*/true), 3u);
  // A quote at the very end may be the first half of "".
  EXPECT_EQ(Length("\"a\""), 0u);
}

TEST(CsvRecordLengthTest, QuoteInsideAnUnquotedFieldIsData) {
  EXPECT_EQ(Length("ab\"c,d\nx"), 7u);
}

TEST(CsvRecordLengthTest, ReportsAnUnterminatedQuoteAtEof) {
  bool unterminated = false;
  EXPECT_EQ(CsvRecordLength("a,\"b\nc", ',', true, &unterminated), 6u);
  EXPECT_TRUE(unterminated);
}

TEST(SplitCsvRecordTest, UnquotesFields) {
  std::vector<std::string> f;
  EXPECT_TRUE(SplitCsvRecord("a,\"b,c\",\"d\"\"e\",,\"x\ny\"\r\n", ',', &f));
  EXPECT_THAT(f, ElementsAre("a", "b,c", "d\"e", "", "x\ny"));
  EXPECT_TRUE(SplitCsvRecord("u\tv\n", '\t', &f));
  EXPECT_THAT(f, ElementsAre("u", "v"));
}

TEST(SplitCsvRecordTest, FlagsMalformedQuoting) {
  std::vector<std::string> f;
  EXPECT_FALSE(SplitCsvRecord("\"abc", ',', &f));
  EXPECT_FALSE(SplitCsvRecord("\"ab\"c,d", ',', &f));
  EXPECT_THAT(f, ElementsAre("abc", "d"));
}

}  // namespace
}  // namespace optout::dataset
