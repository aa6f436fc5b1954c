#include "service/verify/dns_txt.h"

#include "absl/time/clock.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/verify/testing/txt_responder.h"

namespace optout::verify {
namespace {

using ::optout::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An answer to `query` (NOERROR) carrying `records` (raw RR bytes after the question).
std::string AnswerTo(const std::string& query, int answers, const std::string& records,
                     uint8_t flags_low = 0x00) {
  std::string out = query.substr(0, query.size() - 11);  // without the OPT record
  out[2] = static_cast<char>(0x81);
  out[3] = static_cast<char>(flags_low);
  out[7] = static_cast<char>(answers);
  out[11] = 0;
  return out + records;
}

std::string TxtRecord(const std::string& rdata) {
  std::string rr("\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c", 10);
  rr.push_back(static_cast<char>(rdata.size() >> 8));
  rr.push_back(static_cast<char>(rdata.size() & 0xff));
  return rr + rdata;
}

TEST(DnsTxtTest, QueryHasTheNameAsLabels) {
  auto query = BuildTxtQuery("_optout-challenge.a.example", 0x1234);
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->substr(0, 2), "\x12\x34");
  EXPECT_NE(query->find(std::string("\x11_optout-challenge\x01" "a\x07" "example\x00", 29)),
            std::string::npos);
  EXPECT_THAT(BuildTxtQuery("a..example", 1).status(), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(BuildTxtQuery(std::string(64, 'a') + ".example", 1).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST(DnsTxtTest, ParsesTxtStringsJoinedPerRecordAndSkipsOtherTypes) {
  const std::string query = *BuildTxtQuery("x.example", 7);
  std::string cname("\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c", 14);
  const std::string answer =
      AnswerTo(query, 3, cname + TxtRecord("\x03" "abc\x03" "def") + TxtRecord("\x02" "zz"));
  auto values = ParseTxtAnswer(answer, 7);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_THAT(*values, ElementsAre("abcdef", "zz"));
}

TEST(DnsTxtTest, RefusesBadAnswers) {
  const std::string query = *BuildTxtQuery("x.example", 7);
  EXPECT_THAT(ParseTxtAnswer(AnswerTo(query, 1, TxtRecord("\x02zz")), 8).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("wrong id")));
  EXPECT_THAT(ParseTxtAnswer(AnswerTo(query, 0, "", 0x03), 7).status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(ParseTxtAnswer(AnswerTo(query, 0, ""), 7).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no TXT record")));
  EXPECT_THAT(ParseTxtAnswer(AnswerTo(query, 0, "", 0x02), 7).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("server error 2")));
  // A string longer than its record, a record longer than the message, a
  // count of records that are not there, a runt.
  EXPECT_THAT(ParseTxtAnswer(AnswerTo(query, 1, TxtRecord("\x09zz")), 7).status(),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  std::string long_rr = TxtRecord("\x02zz");
  long_rr[11] = 100;
  EXPECT_THAT(ParseTxtAnswer(AnswerTo(query, 1, long_rr), 7).status(),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(ParseTxtAnswer(AnswerTo(query, 5, TxtRecord("\x02zz")), 7).status(),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(ParseTxtAnswer("\x00\x07", 7).status(), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  // Truncated (TC bit).
  std::string truncated = AnswerTo(query, 0, "");
  truncated[2] = static_cast<char>(0x83);
  EXPECT_THAT(ParseTxtAnswer(truncated, 7).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("truncated")));
}

TEST(DnsTxtTest, NameserverFromResolvConf) {
  EXPECT_EQ(*NameserverFromResolvConf("# x\nsearch lan\nnameserver 192.0.2.53\nnameserver 1.1.1.1\n"),
            "192.0.2.53:53");
  EXPECT_EQ(*NameserverFromResolvConf("nameserver fe80::1%eth0\nnameserver 2001:db8::53\n"),
            "[2001:db8::53]:53");
  EXPECT_THAT(NameserverFromResolvConf("search lan\n").status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST(DnsTxtTest, QueriesALocalResponder) {
  testing::TxtResponder responder;
  responder.Set("_optout-challenge.a.example", {"tok", std::string(300, 'x')});
  auto values = QueryTxt("_optout-challenge.A.example", responder.address(), absl::Seconds(5));
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_THAT(*values, ElementsAre("tok", std::string(300, 'x')));
  EXPECT_THAT(QueryTxt("_optout-challenge.b.example", responder.address(), absl::Seconds(5)).status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST(DnsTxtTest, SilentServerTimesOutInBoundedTime) {
  testing::TxtResponder responder;
  responder.set_silent(true);
  const absl::Time start = absl::Now();
  EXPECT_THAT(QueryTxt("x.example", responder.address(), absl::Milliseconds(1500)).status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::_));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_GE(responder.queries(), 2);  // resent once a second
}

}  // namespace
}  // namespace optout::verify
