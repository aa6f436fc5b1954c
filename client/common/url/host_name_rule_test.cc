#include "client/common/url/host_name_rule.h"

#include "client/common/base/testing/status_matchers.h"
#include "client/common/url/url_error.h"
#include "gtest/gtest.h"

namespace optout::url {
namespace {

using ::optout::testing::IsOk;

absl::Status Rule(absl::string_view raw) {
  auto canonical = Canonicalize(raw);
  if (!canonical.ok()) return canonical.status();
  return CheckHostName(*canonical);
}

TEST(HostNameRule, PlainTextCanonicalizesButIsNotAHostName) {
  // Canonicalization accepts it (scheme-less, any ASCII host) ...
  auto canonical = Canonicalize("not a url at all");
  ASSERT_THAT(canonical.status(), IsOk());
  EXPECT_EQ(canonical->ToString(), "http://not%20a%20url%20at%20all/");
  // ... the rule for URLs to check refuses it.
  EXPECT_EQ(GetUrlErrorKind(CheckHostName(*canonical)), UrlErrorKind::kNotAHostName);
  EXPECT_EQ(GetUrlErrorKind(Rule("%20leadingspace.com/")), UrlErrorKind::kNotAHostName);
  EXPECT_EQ(GetUrlErrorKind(Rule("http://a<b>.example/")), UrlErrorKind::kNotAHostName);
  EXPECT_EQ(GetUrlErrorKind(Rule("http://\x01\x80.com/")), UrlErrorKind::kNotAHostName);
}

TEST(HostNameRule, AcceptsDomainNamesIpsAndIdn) {
  EXPECT_THAT(Rule("https://Images.Example.com/a b.jpg?x=1"), IsOk());
  EXPECT_THAT(Rule("www.google.com"), IsOk());
  EXPECT_THAT(Rule("http://my_host-1.example/"), IsOk());
  EXPECT_THAT(Rule("http://3279880203/"), IsOk());
  EXPECT_THAT(Rule("http://[2001:db8::1]/"), IsOk());
  EXPECT_THAT(Rule("http://bücher.example/"), IsOk());
  EXPECT_THAT(Rule("localhost"), IsOk());
}

}  // namespace
}  // namespace optout::url
