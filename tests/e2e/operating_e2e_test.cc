// End to end (issue 16): what an operator relies on besides metrics:
// structured logs (--log_format=json).
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

TEST(OperatingE2eTest, JsonLogFormatWritesOneObjectPerLine) {
  testing::OptoutdProcess server({"--log_format=json"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  ASSERT_TRUE(server.Stop().ok());
  int lines = 0;
  bool saw_listening = false;
  for (absl::string_view line : absl::StrSplit(server.ReadLog(), '\n', absl::SkipEmpty())) {
    const nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(object.is_object()) << line;
    EXPECT_TRUE(object["time"].is_string()) << line;
    EXPECT_TRUE(object["level"] == "INFO" || object["level"] == "WARNING" ||
                object["level"] == "ERROR")
        << line;
    EXPECT_EQ(object["logger"], "optoutd");
    if (object["message"].get<std::string>().find("listening on port") != std::string::npos) {
      saw_listening = true;
    }
    ++lines;
  }
  EXPECT_GE(lines, 4);
  EXPECT_TRUE(saw_listening);
}

TEST(OperatingE2eTest, UnknownLogFormatIsRefused) {
  const testing::CommandResult result =
      testing::RunCommand({testing::OptoutdBinary(), "--log_format=xml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, ::testing::HasSubstr("--log_format must be text or json"));
}

}  // namespace
}  // namespace optout
