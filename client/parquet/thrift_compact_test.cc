#include "client/parquet/thrift_compact.h"

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::parquet {
namespace {

using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

TValue Sample() {
  TValue s = TValue::Struct();
  s.items.push_back(TValue::Int(1, TType::kI32, -7));
  s.items.push_back(TValue::Int(2, TType::kI64, int64_t{1} << 40));
  s.items.push_back(TValue::Binary(3, "hello"));
  s.items.push_back(TValue::Int(4, TType::kTrue, 1));
  TValue list = TValue::List(5, TType::kI32);
  for (int i = 0; i < 20; ++i) list.items.push_back(TValue::Int(0, TType::kI32, i * 1000));
  s.items.push_back(list);
  TValue inner = TValue::Struct();
  inner.id = 40;  // a long jump: the field id is written in full
  inner.items.push_back(TValue::Binary(1, "nested"));
  s.items.push_back(inner);
  TValue bools = TValue::List(41, TType::kTrue);
  bools.items.push_back(TValue::Int(0, TType::kTrue, 1));
  bools.items.push_back(TValue::Int(0, TType::kFalse, 0));
  s.items.push_back(bools);
  return s;
}

TEST(ThriftCompactTest, RoundTripsEveryKindOfField) {
  std::string bytes;
  SerializeStruct(Sample(), &bytes);
  size_t pos = 0;
  auto parsed = ParseStruct(bytes, &pos);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(pos, bytes.size());
  EXPECT_EQ(parsed->IntOr(1, 0), -7);
  EXPECT_EQ(parsed->IntOr(2, 0), int64_t{1} << 40);
  EXPECT_EQ(parsed->Field(3)->bin, "hello");
  EXPECT_EQ(parsed->IntOr(4, 0), 1);
  ASSERT_EQ(parsed->Field(5)->items.size(), 20u);
  EXPECT_EQ(parsed->Field(5)->items[19].i, 19000);
  EXPECT_EQ(parsed->Field(40)->Field(1)->bin, "nested");
  EXPECT_EQ(parsed->Field(41)->items[0].i, 1);
  EXPECT_EQ(parsed->Field(41)->items[1].i, 0);
  // Serializing the parse gives the same bytes: unknown fields survive.
  std::string again;
  SerializeStruct(*parsed, &again);
  EXPECT_EQ(again, bytes);
}

TEST(ThriftCompactTest, EveryTruncationIsDataLossNamingTheByte) {
  std::string bytes;
  SerializeStruct(Sample(), &bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    size_t pos = 0;
    auto parsed = ParseStruct(bytes.substr(0, n), &pos);
    EXPECT_THAT(parsed.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("at byte"))) << n;
  }
}

TEST(ThriftCompactTest, RefusesHugeListsAndDeepNesting) {
  // A list header claiming 2^32 elements in a 7-byte input.
  const std::string huge = std::string("\x19\xf5\xff\xff\xff\xff\x0f", 7);
  size_t pos = 0;
  EXPECT_THAT(ParseStruct(huge, &pos).status(), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += '\x1c';  // field 1, a struct, nested
  pos = 0;
  EXPECT_THAT(ParseStruct(deep, &pos).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("nested too deeply")));
}

}  // namespace
}  // namespace optout::parquet
