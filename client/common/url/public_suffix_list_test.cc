#include "client/common/url/public_suffix_list.h"

#include <fstream>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::url {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::_;

TEST(PublicSuffixList, LoadsPinnedDebianList) {
  absl::StatusOr<std::unique_ptr<PublicSuffixList>> psl = PublicSuffixList::Load();
  ASSERT_THAT(psl, IsOk());
  EXPECT_GT((*psl)->rule_count(), 5000u);
  EXPECT_EQ((*psl)->path(), PublicSuffixList::kDefaultPath);
  EXPECT_EQ((*psl)->sha256_hex().size(), 64u);
  // Debian publicsuffix 20230209.2326-1 has no VERSION header; the mtime is
  // the snapshot stamp.
  EXPECT_EQ((*psl)->version(), "20230209.2326");
}

TEST(PublicSuffixList, RegistrableDomains) {
  absl::StatusOr<std::unique_ptr<PublicSuffixList>> loaded = PublicSuffixList::Load();
  ASSERT_THAT(loaded, IsOk());
  const PublicSuffixList& psl = **loaded;
  EXPECT_EQ(psl.RegistrableDomain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(psl.RegistrableDomainLabels("a.b.example.co.uk"), 3);
  EXPECT_EQ(psl.RegistrableDomain("bob.github.io"), "bob.github.io");
  EXPECT_TRUE(psl.IsPublicSuffix("github.io"));
  EXPECT_TRUE(psl.IsPublicSuffix("co.uk"));
  EXPECT_TRUE(psl.IsPublicSuffix("localhost"));
  EXPECT_TRUE(psl.IsPublicSuffix("compute.amazonaws.com"));  // base of a wildcard
  EXPECT_TRUE(psl.IsPublicSuffix("kobe.jp"));
  EXPECT_TRUE(psl.IsPublicSuffix("x.kobe.jp"));
  EXPECT_EQ(psl.RegistrableDomain("y.x.kobe.jp"), "y.x.kobe.jp");
  EXPECT_EQ(psl.RegistrableDomain("www.city.kawasaki.jp"), "city.kawasaki.jp");  // exception
  EXPECT_EQ(psl.RegistrableDomain("x.y.internal"), "y.internal");                // implicit *
  EXPECT_TRUE(psl.IsPublicSuffix(""));
}

TEST(PublicSuffixList, VersionHeaderAndErrors) {
  const std::string path = ::testing::TempDir() + "/psl_with_version.dat";
  {
    std::ofstream out(path);
    out << "// header\n// VERSION: 2024-06-01_12-00-00_UTC\n// COMMIT: abc\n\ncom\n*.test\n";
  }
  absl::StatusOr<std::unique_ptr<PublicSuffixList>> psl = PublicSuffixList::Load(path);
  ASSERT_THAT(psl, IsOk());
  EXPECT_EQ((*psl)->version(), "2024-06-01_12-00-00_UTC");
  EXPECT_TRUE((*psl)->IsPublicSuffix("a.test"));
  EXPECT_EQ((*psl)->RegistrableDomain("b.a.test"), "b.a.test");

  EXPECT_THAT(PublicSuffixList::Load("/nonexistent/psl.dat"),
              StatusIs(absl::StatusCode::kNotFound, _));
  const std::string empty = ::testing::TempDir() + "/psl_empty.dat";
  { std::ofstream out(empty); out << "// nothing\n"; }
  EXPECT_THAT(PublicSuffixList::Load(empty), StatusIs(absl::StatusCode::kFailedPrecondition, _));
  const std::string zero = ::testing::TempDir() + "/psl_zero.dat";
  { std::ofstream out(zero); }
  EXPECT_THAT(PublicSuffixList::Load(zero), StatusIs(absl::StatusCode::kFailedPrecondition, _));
}

// A client uses the server's list from memory (fetched or cached): the same
// bytes give the same hash and rules as the file.
TEST(PublicSuffixList, FromBytesIsTheSameListAsTheFile) {
  auto file = PublicSuffixList::Load();
  ASSERT_THAT(file, IsOk());
  auto copy = PublicSuffixList::FromBytes((*file)->content(), "a copy", "20230209.2326");
  ASSERT_THAT(copy, IsOk());
  EXPECT_EQ((*copy)->sha256_hex(), (*file)->sha256_hex());
  EXPECT_EQ((*copy)->rule_count(), (*file)->rule_count());
  EXPECT_EQ((*copy)->version(), "20230209.2326");
  EXPECT_EQ((*copy)->path(), "a copy");
  EXPECT_TRUE((*copy)->IsPublicSuffix("github.io"));

  auto with_header = PublicSuffixList::FromBytes("// VERSION: v7\nio\n", "x");
  ASSERT_THAT(with_header, IsOk());
  EXPECT_EQ((*with_header)->version(), "v7");
  EXPECT_EQ((*with_header)->content(), "// VERSION: v7\nio\n");
  EXPECT_EQ((*PublicSuffixList::FromBytes("io\n", "x"))->version(), "unknown");
  EXPECT_THAT(PublicSuffixList::FromBytes("", "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition, _));
}

}  // namespace
}  // namespace optout::url

namespace optout::url {
namespace {

using ::optout::testing::IsOk;

TEST(PublicSuffixList, CacheNeverMixesListsOrHosts) {
  const std::string path = ::testing::TempDir() + "/psl_tiny.dat";
  {
    std::ofstream out(path);
    out << "com\nexample.com\n";
  }
  absl::StatusOr<std::unique_ptr<PublicSuffixList>> tiny = PublicSuffixList::Load(path);
  absl::StatusOr<std::unique_ptr<PublicSuffixList>> debian = PublicSuffixList::Load();
  ASSERT_THAT(tiny, IsOk());
  ASSERT_THAT(debian, IsOk());
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ((*tiny)->RegistrableDomainLabels("a.example.com"), 3);
    EXPECT_EQ((*debian)->RegistrableDomainLabels("a.example.com"), 2);
    EXPECT_EQ((*tiny)->RegistrableDomainLabels("a.example.co.uk"), 2);  // implicit "*" rule
    EXPECT_EQ((*debian)->RegistrableDomainLabels("a.example.co.uk"), 3);
  }
  for (int i = 0; i < 5000; ++i) {
    const std::string host = "h" + std::to_string(i) + (i % 2 ? ".github.io" : ".co.uk");
    ASSERT_EQ((*debian)->RegistrableDomainLabels(host),
              (*debian)->RegistrableDomainLabelsUncached(host))
        << host;
    ASSERT_EQ((*debian)->RegistrableDomainLabels(host), 3) << host;
  }
  const std::string long_host = std::string(200, 'a') + ".example.com";
  EXPECT_EQ((*debian)->RegistrableDomainLabels(long_host), 2);
}

}  // namespace
}  // namespace optout::url
