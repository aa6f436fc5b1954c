#include "service/metrics/text_format.h"

#include <limits>

#include "gtest/gtest.h"

namespace optout::metrics {
namespace {

TEST(TextFormatTest, ValuesAreIntegersExactlyAndDoublesShortest) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(123456789012.0), "123456789012");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(2.5e-5), "2.5e-05");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(TextFormatTest, NamesFollowThePrometheusGrammar) {
  EXPECT_TRUE(IsValidMetricName("optout_checked_items_total"));
  EXPECT_TRUE(IsValidMetricName("ns:rule_name"));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_TRUE(IsValidLabelName("grpc_code"));
  EXPECT_FALSE(IsValidLabelName("__reserved"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(TextFormatTest, LabelsAppendTheExtraLabelLast) {
  EXPECT_EQ(FormatLabels({}, {}), "");
  EXPECT_EQ(FormatLabels({}, {}, "le", "+Inf"), "{le=\"+Inf\"}");
  EXPECT_EQ(FormatLabels({"a"}, {"x"}, "le", "0.5"), "{a=\"x\",le=\"0.5\"}");
}

}  // namespace
}  // namespace optout::metrics
