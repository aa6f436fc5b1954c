#include "service/log.h"

#include "gtest/gtest.h"

namespace optout::service {
namespace {

const absl::Time kTime = absl::FromUnixMillis(1796135290014);  // 2026-12-01T14:28:10.014Z

TEST(LogTest, TextLineHasLevelTimeAndMessage) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kInfo, kTime, "listening on port 1"),
            "I 2026-12-01T14:28:10.014Z optoutd] listening on port 1\n");
}

TEST(LogTest, JsonLineIsOneObjectWithEscapedMessage) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, LogLevel::kError, kTime,
                          "cannot read \"/x\\y\"\n\x01"),
            "{\"time\":\"2026-12-01T14:28:10.014Z\",\"level\":\"ERROR\",\"logger\":\"optoutd\","
            "\"message\":\"cannot read \\\"/x\\\\y\\\"\\n\\u0001\"}\n");
}

}  // namespace
}  // namespace optout::service
