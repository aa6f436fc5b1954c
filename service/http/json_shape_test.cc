#include "service/http/json_shape.h"

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "optout/v1/optout.pb.h"

namespace optout::service::http {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

absl::Status ShapeOfCheck(absl::string_view body) {
  return CheckJsonShape(body, *v1::CheckRequest::descriptor());
}

TEST(JsonShapeTest, WellTypedBodiesPass) {
  EXPECT_THAT(ShapeOfCheck(R"({"items": [{"url": "https://a.example/"},
                                          {"pdq": {"hash": "AAAA", "quality": 90, "dihedral": []}},
                                          {"sha256": "AAAA"}], "tag": "7"})"),
              IsOk());
  EXPECT_THAT(ShapeOfCheck(R"({"packed": [{"kind": "KIND_SHA256", "pdq_dihedral": false}]})"),
              IsOk());
  EXPECT_THAT(ShapeOfCheck("{}"), IsOk());
}

TEST(JsonShapeTest, ASingleValueForARepeatedFieldIsRefused) {
  EXPECT_THAT(CheckJsonShape(R"({"urls": "https://a.example/x.jpg"})",
                             *v1::RegisterRequest::descriptor()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("urls: must be a JSON array")));
}

TEST(JsonShapeTest, WrongTypesAreNamedByPath) {
  EXPECT_THAT(ShapeOfCheck(R"({"items": [{"url": "x"}, {"url": 5}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items[1].url: must be a string")));
  EXPECT_THAT(ShapeOfCheck(R"({"items": [{"pdq": {"hash": ["AAAA"]}}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items[0].pdq.hash")));
  EXPECT_THAT(ShapeOfCheck(R"({"packed": [{"pdqDihedral": "yes"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("true or false")));
  EXPECT_THAT(ShapeOfCheck(R"({"items": [null]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items[0]")));
}

TEST(JsonShapeTest, UnknownFieldsNonObjectsAndBrokenJsonAreRefused) {
  EXPECT_THAT(ShapeOfCheck(R"({"items": [{"photo": "AAAA"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items[0].photo: no such field")));
  EXPECT_THAT(ShapeOfCheck("[]"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("JSON object")));
  EXPECT_THAT(ShapeOfCheck("{\"items\": ["), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid JSON")));
  EXPECT_THAT(ShapeOfCheck(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("JSON")));
  EXPECT_THAT(ShapeOfCheck(R"({"items": [{"pdq": {"hash": {"a": {"b": {}}}}}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items[0].pdq.hash")));
}

}  // namespace
}  // namespace optout::service::http
