// optoutd backs malloc with transparent huge pages (service/huge_pages.h),
// unless the operator set GLIBC_TUNABLES themselves.
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using testing::OptoutdProcess;

std::string EnvironmentOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/environ"), std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  for (char& c : text) {
    if (c == '\0') c = '\n';
  }
  return "\n" + text;
}

TEST(HugePagesTest, OptoutdRunsWithMallocHugePagesWhenNothingIsSet) {
  ::unsetenv("GLIBC_TUNABLES");
  OptoutdProcess server;
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  EXPECT_NE(EnvironmentOf(server.pid()).find("\nGLIBC_TUNABLES=glibc.malloc.hugetlb=1\n"),
            std::string::npos);
  EXPECT_TRUE(server.Stop().ok());
}

TEST(HugePagesTest, AnOperatorsGlibcTunablesAreKept) {
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0", 1);
  OptoutdProcess server;
  const bool started = server.Start().ok();
  ::unsetenv("GLIBC_TUNABLES");
  ASSERT_TRUE(started) << server.ReadLog();
  const std::string environment = EnvironmentOf(server.pid());
  EXPECT_NE(environment.find("\nGLIBC_TUNABLES=glibc.malloc.hugetlb=0\n"), std::string::npos);
  EXPECT_EQ(environment.find("hugetlb=1"), std::string::npos);
  EXPECT_TRUE(server.Stop().ok());
}

}  // namespace
}  // namespace optout
