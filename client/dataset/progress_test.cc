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

TEST(ProgressTest, TerminalLineFitsTheWidthAndDropsTheLeastUsefulFirst) {
  ProgressFigures f;
  f.rows = 123456789;
  f.removed = 1234567;
  f.unchecked = 98765;
  f.rows_per_second = 385000;
  f.fraction = 0.42;
  f.eta = "1:23:45";
  for (int width : {20, 40, 60, 80, 100, 200}) {
    const std::string line = FitProgressLine(f, width);
    EXPECT_LT(line.size(), static_cast<size_t>(width)) << width << ": " << line;
    EXPECT_THAT(line, HasSubstr("123456789 rows")) << width;
  }
  const std::string wide = FitProgressLine(f, 200);
  EXPECT_THAT(wide, HasSubstr("[##########.............."));  // 24 cells, 42 %
  EXPECT_THAT(wide, HasSubstr(" 42%  123456789 rows  385000 rows/s  ETA 1:23:45  1234567 removed  "
                              "98765 unchecked"));
  const std::string at80 = FitProgressLine(f, 80);
  EXPECT_THAT(at80, HasSubstr("removed"));
  EXPECT_THAT(at80, HasSubstr("42%"));
  // Without a known size there is no bar, and the counts still fit.
  f.fraction = -1;
  EXPECT_LT(FitProgressLine(f, 30).size(), 30u);
  EXPECT_EQ(FitProgressLine(f, 200).find('['), std::string::npos);
}

}  // namespace
}  // namespace optout::dataset
