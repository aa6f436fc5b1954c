#include "service/audit_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

AuditEntry KeyedCheck() {
  AuditEntry entry;
  entry.time = absl::FromUnixMillis(1764601445123);
  entry.key_name = "crawler-1";
  entry.peer = "10.0.0.1";
  entry.method = "Check";
  entry.items.url = 2;
  entry.items.pdq = 1;
  entry.matches.scope = 1;
  entry.status = absl::StatusCode::kOk;
  return entry;
}

TEST(AuditLineTest, NamesTheKeyOrElseThePeerAndCountsOnlyKindsThatOccur) {
  EXPECT_EQ(AuditLine(KeyedCheck()),
            R"({"time":"2025-12-01T15:04:05.123Z","key":"crawler-1","method":"Check",)"
            R"("items":{"url":2,"pdq":1},"matches":{"scope":1},"status":"OK"})");
  AuditEntry anonymous = KeyedCheck();
  anonymous.key_name.clear();
  anonymous.status = absl::StatusCode::kResourceExhausted;
  anonymous.event = "pdq_probing";
  EXPECT_EQ(AuditLine(anonymous),
            R"({"time":"2025-12-01T15:04:05.123Z","peer":"10.0.0.1","method":"Check",)"
            R"("items":{"url":2,"pdq":1},"matches":{"scope":1},"status":"RESOURCE_EXHAUSTED",)"
            R"("event":"pdq_probing"})");
}

TEST(AuditLineTest, StringsAreEscaped) {
  AuditEntry entry;
  entry.peer = "unix:";
  entry.method = "admin.CreateKey";
  entry.target_key = "a\"b\\c\n\xff";
  EXPECT_THAT(AuditLine(entry), HasSubstr(R"("target_key":"a\"b\\c\u000a\u00ff")"));
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/audit-log-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/audit.jsonl";
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
  std::string path_;
};

TEST_F(AuditLogTest, AppendsOwnerOnlyLinesAndKeepsEarlierOnesOnReopen) {
  {
    auto log = AuditLog::Open(path_, 1 << 20, 2);
    ASSERT_THAT(log.status(), IsOk());
    (*log)->Write(KeyedCheck());
  }
  auto log = AuditLog::Open(path_, 1 << 20, 2);
  ASSERT_THAT(log.status(), IsOk());
  (*log)->Write(KeyedCheck());
  const std::string line = AuditLine(KeyedCheck()) + "\n";
  EXPECT_EQ(Slurp(path_), line + line);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(AuditLogTest, RotatesBySizeAndKeepsTheNewestFiles) {
  const std::string line = AuditLine(KeyedCheck()) + "\n";
  const int64_t max_bytes = 4096;
  const int64_t per_file = max_bytes / static_cast<int64_t>(line.size());
  auto log = AuditLog::Open(path_, max_bytes, 2);
  ASSERT_THAT(log.status(), IsOk());
  // Four files' worth: FILE, FILE.1 and FILE.2 remain, the oldest is gone.
  for (int64_t i = 0; i < 4 * per_file; ++i) (*log)->Write(KeyedCheck());
  for (const std::string& file : {path_, path_ + ".1", path_ + ".2"}) {
    const std::string text = Slurp(file);
    EXPECT_LE(static_cast<int64_t>(text.size()), max_bytes) << file;
    EXPECT_EQ(static_cast<int64_t>(text.size()) % static_cast<int64_t>(line.size()), 0) << file;
    EXPECT_GT(text.size(), 0u) << file;
  }
  EXPECT_NE(::access((path_ + ".3").c_str(), F_OK), 0);
}

TEST_F(AuditLogTest, RefusesBadSettingsAndUnopenableFiles) {
  EXPECT_THAT(AuditLog::Open(path_, 100, 2).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("audit_log_max_mb")));
  EXPECT_THAT(AuditLog::Open(path_, 1 << 20, 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("audit_log_keep")));
  EXPECT_THAT(AuditLog::Open(dir_ + "/missing/audit.jsonl", 1 << 20, 2).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("--audit_log")));
}

}  // namespace
}  // namespace optout::service
