#include "client/common/url/url_error.h"

#include <set>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::url {
namespace {

using ::optout::testing::StatusIs;

TEST(UrlError, NamesAreDistinctAndRoundTrip) {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(UrlErrorKind::kAnyQueryRootPath); ++i) {
    const auto kind = static_cast<UrlErrorKind>(i);
    const std::string name(UrlErrorKindName(kind));
    EXPECT_NE(name, "UNKNOWN");
    EXPECT_TRUE(names.insert(name).second) << name;
    const absl::Status status = UrlError(kind, "why");
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, name + ": why"));
    EXPECT_EQ(GetUrlErrorKind(status), kind);
  }
  EXPECT_EQ(names.size(), 18u);
  EXPECT_EQ(UrlErrorKindName(UrlErrorKind::kTooLong), "TOO_LONG");
  EXPECT_EQ(UrlErrorKindName(UrlErrorKind::kScopePathNoTrailingSlash),
            "SCOPE_PATH_NO_TRAILING_SLASH");
}

TEST(UrlError, OtherStatusesHaveNoKind) {
  EXPECT_EQ(GetUrlErrorKind(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(GetUrlErrorKind(absl::InvalidArgumentError("TOO_LONG")), std::nullopt);
  EXPECT_EQ(GetUrlErrorKind(absl::InvalidArgumentError("TOO_LONGER: x")), std::nullopt);
  EXPECT_EQ(GetUrlErrorKind(absl::NotFoundError("TOO_LONG: x")), std::nullopt);
}

}  // namespace
}  // namespace optout::url
