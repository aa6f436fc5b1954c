#include "service/http/http_status.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace optout::service::http {
namespace {

TEST(HttpStatusTest, CanonicalCodesMapToTheirHttpStatus) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDataLoss), 500);
}

TEST(HttpStatusTest, ErrorBodyNamesTheCodeAndCapsTheMessage) {
  HttpReply reply = ErrorReply(absl::NotFoundError(std::string(2000, 'x')));
  EXPECT_EQ(reply.status, 404);
  nlohmann::json body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["code"], "NOT_FOUND");
  EXPECT_EQ(body["message"].get<std::string>().size(), 512u);
}

TEST(HttpStatusTest, InvalidUtf8InAMessageStillGivesJson) {
  HttpReply reply = ErrorReply(413, absl::ResourceExhaustedError("bad \xff byte"));
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["code"], "RESOURCE_EXHAUSTED");
}

}  // namespace
}  // namespace optout::service::http
