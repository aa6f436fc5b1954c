#include "client/dataset/progress.h"

#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

using ::testing::HasSubstr;

std::string Contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  return out;
}

TEST(ProgressTest, PrintsPlainPeriodicLinesWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  Progress progress({false, absl::Milliseconds(1)}, /*total_bytes=*/1000, f);
  absl::SleepFor(absl::Milliseconds(5));
  progress.Update(500, 7, 2, 250);
  progress.Finish();  // not a terminal: nothing to close
  const std::string text = Contents(f);
  EXPECT_THAT(text, HasSubstr("optout check-dataset: 25.0%  500 rows"));
  EXPECT_THAT(text, HasSubstr("7 removed  2 unchecked"));
  EXPECT_THAT(text, HasSubstr("ETA"));
  EXPECT_EQ(text.find('\r'), std::string::npos);
  std::fclose(f);
}

TEST(ProgressTest, QuietPrintsNothingAndLinesAreThrottled) {
  std::FILE* f = std::tmpfile();
  {
    Progress quiet({true, absl::Milliseconds(1)}, 1000, f);
    absl::SleepFor(absl::Milliseconds(5));
    quiet.Update(1, 0, 0, 1);
    quiet.Finish();
  }
  {
    Progress slow({false, absl::Hours(1)}, 1000, f);
    for (int i = 0; i < 100; ++i) slow.Update(i, 0, 0, i);
  }
  EXPECT_EQ(Contents(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace optout::dataset
