#include "client/cli/flag_names.h"

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::cli {
namespace {

using ::optout::testing::StatusIs;

TEST(RenameFieldAsFlag, IndexedFieldBecomesTheFlagAndTheValueTyped) {
  const std::vector<std::string> urls = {"https://a.example/x.jpg", "http://x.example:7z/"};
  const std::vector<std::string> any = {"https://cdn.example/?s=1"};
  const FieldFlag fields[] = {{"urls", "--url", &urls}, {"url_any_query", "--url-any-query", &any}};
  EXPECT_THAT(RenameFieldAsFlag(absl::InvalidArgumentError("urls[1]: INVALID_PORT: bad port"),
                                fields),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--url http://x.example:7z/: INVALID_PORT: bad port"));
  EXPECT_THAT(RenameFieldAsFlag(
                  absl::InvalidArgumentError("url_any_query[0]: ANY_QUERY_ROOT_PATH: why"), fields),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--url-any-query https://cdn.example/?s=1: ANY_QUERY_ROOT_PATH: why"));
  // An index past the values typed (a hash taken from an image) names the flag only.
  EXPECT_THAT(RenameFieldAsFlag(absl::InvalidArgumentError("urls[7]: x"), fields),
              StatusIs(absl::StatusCode::kInvalidArgument, "--url: x"));
}

TEST(RenameFieldAsFlag, SubfieldIsKeptAndPlainFieldsAreRenamed) {
  const std::vector<std::string> pdq = {"abcd:40"};
  const FieldFlag fields[] = {{"pdq", "--pdq", &pdq}};
  EXPECT_THAT(RenameFieldAsFlag(absl::InvalidArgumentError("pdq[0].quality: 40 < 50"), fields),
              StatusIs(absl::StatusCode::kInvalidArgument, "--pdq abcd:40: quality: 40 < 50"));
  EXPECT_THAT(RenameFieldAsFlag(absl::NotFoundError("opt_out_id: no such opt-out"),
                                ManageFieldFlags()),
              StatusIs(absl::StatusCode::kNotFound, "--id: no such opt-out"));
  EXPECT_THAT(RenameFieldAsFlag(absl::PermissionDeniedError("manage_token: does not match"),
                                ManageFieldFlags()),
              StatusIs(absl::StatusCode::kPermissionDenied, "--token: does not match"));
}

TEST(RenameFieldAsFlag, OtherMessagesAreLeftAlone) {
  const FieldFlag fields[] = {{"urls", "--url"}};
  for (const char* message : {"request: empty registration", "connection refused",
                              "urls[x]: odd", "urlsX: odd", "Urls[0]: odd", "no colon"}) {
    EXPECT_THAT(RenameFieldAsFlag(absl::InvalidArgumentError(message), fields),
                StatusIs(absl::StatusCode::kInvalidArgument, message));
  }
  EXPECT_TRUE(RenameFieldAsFlag(absl::OkStatus(), fields).ok());
}

}  // namespace
}  // namespace optout::cli
