// The resume state and report.json, on files in a temp folder.
#include "client/dataset/report.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {
namespace {

using ::optout::testing::IsOk;

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/report-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

InputSummary Summary(const std::string& name) {
  InputSummary s;
  s.input = "/data/" + name;
  s.name = name;
  s.format = "csv";
  s.output = "/out/" + name;
  s.fingerprint = "123:456";
  s.rows = 10;
  s.kept = 7;
  s.removed = 2;
  s.unchecked = 1;
  s.removed_by_kind[v1::MATCH_KIND_URL] = 1;
  s.removed_by_kind[v1::MATCH_KIND_MD5] = 1;
  return s;
}

TEST_F(ReportTest, FinishedInputIsReusedOnlyWithTheSameFingerprint) {
  auto log = InputLog::Open(dir_, "a.csv");
  ASSERT_THAT(log, IsOk());
  EXPECT_FALSE(LoadDone(dir_, "a.csv", "123:456").has_value());  // not committed yet
  ASSERT_THAT((*log)->Commit(Summary("a.csv")), IsOk());
  auto done = LoadDone(dir_, "a.csv", "123:456");
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->resumed);
  EXPECT_EQ(done->removed, 2u);
  EXPECT_EQ(done->removed_by_kind[v1::MATCH_KIND_MD5], 1u);
  EXPECT_FALSE(LoadDone(dir_, "a.csv", "123:457").has_value());
  // Starting the input again forgets that it was done.
  auto again = InputLog::Open(dir_, "a.csv");
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(LoadDone(dir_, "a.csv", "123:456").has_value());
}

TEST_F(ReportTest, ReportListsEveryRemovedAndUncheckedRowInInputOrder) {
  std::vector<InputSummary> inputs;
  for (const char* name : {"a.csv", "b.tar"}) {
    auto log = InputLog::Open(dir_, name);
    ASSERT_THAT(log, IsOk());
    Record row;
    row.row = 3;
    Record sample;
    sample.key = "000007";
    sample.unchecked = "undecodable image 000007.jpg: bad";
    Verdict v;
    v.kind = v1::MATCH_KIND_URL;
    v.ids = {"abc"};
    ASSERT_THAT((*log)->AddRemoved(std::string(name) == "a.csv" ? row : sample, v), IsOk());
    ASSERT_THAT((*log)->AddUnchecked(sample, false), IsOk());
    ASSERT_THAT((*log)->Commit(Summary(name)), IsOk());
    inputs.push_back(Summary(name));
  }
  RunInfo run;
  run.server = "127.0.0.1:1";
  ASSERT_THAT(WriteReport(dir_, dir_, run, inputs), IsOk());
  std::ifstream in(dir_ + "/report.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto report = nlohmann::json::parse(ss.str());
  EXPECT_EQ(report["totals"]["rows"], 20);
  EXPECT_EQ(report["totals"]["removed"], 4);
  EXPECT_EQ(report["removed_by_match"]["url"], 2);
  EXPECT_EQ(report["removed_by_match"]["scope"], 0);
  ASSERT_EQ(report["removed"].size(), 2u);
  EXPECT_EQ(report["removed"][0]["input"], "a.csv");
  EXPECT_EQ(report["removed"][0]["row"], 3);
  EXPECT_EQ(report["removed"][0]["match"], "url");
  EXPECT_EQ(report["removed"][1]["key"], "000007");
  ASSERT_EQ(report["unchecked"].size(), 2u);
  EXPECT_EQ(report["unchecked"][1]["reason"], "undecodable image 000007.jpg: bad");
  EXPECT_EQ(report["inputs"][1]["input"], "/data/b.tar");
}

TEST_F(ReportTest, EmptyListsAreValidJson) {
  auto log = InputLog::Open(dir_, "a.csv");
  ASSERT_THAT(log, IsOk());
  ASSERT_THAT((*log)->Commit(Summary("a.csv")), IsOk());
  ASSERT_THAT(WriteReport(dir_, dir_, RunInfo(), {Summary("a.csv")}), IsOk());
  std::ifstream in(dir_ + "/report.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto report = nlohmann::json::parse(ss.str(), nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << ss.str();
  EXPECT_TRUE(report["removed"].empty());
}

}  // namespace
}  // namespace optout::dataset
