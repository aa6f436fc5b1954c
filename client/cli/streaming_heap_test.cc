#include "client/cli/streaming_heap.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace optout::cli {
namespace {

// Whether the mapping holding `p` is advised for huge pages (VmFlags "hg"
// in /proc/self/smaps).
bool InHugePageAdvisedMapping(const void* p) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long from = 0, to = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &from, &to) == 2) {
      inside = from <= at && at < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line.find(" hg") != std::string::npos;
    }
  }
  return false;
}

// Each case runs in a child process: the settings are process-wide, and
// glibc reads GLIBC_TUNABLES only at start-up.
TEST(StreamingHeapTest, BuffersOfTheRunComeFromHugePageAdvisedHeap) {
  EXPECT_EXIT(
      {
        ::unsetenv("GLIBC_TUNABLES");
        TuneHeapForStreaming();
        // A chunk's request is about a megabyte; a Parquet column tens.
        void* volatile small = ::malloc(1 << 20);
        void* volatile large = ::malloc(32 << 20);
        // A kernel without transparent huge pages refuses the advice; the
        // heap must then work as before.
        const bool thp = ::access("/sys/kernel/mm/transparent_hugepage", F_OK) == 0;
        const bool ok = small != nullptr && large != nullptr &&
                        (!thp || (InHugePageAdvisedMapping(small) && InHugePageAdvisedMapping(large)));
        ::free(small);
        ::free(large);
        ::_Exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(StreamingHeapTest, HugePagesAreLeftToGlibcWhenGlibcTunablesNameThem) {
  EXPECT_EXIT(
      {
        // Set after start-up, so glibc itself does not advise: only our
        // own advice could make the heap "hg".
        ::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
        TuneHeapForStreaming();
        void* volatile large = ::malloc(32 << 20);
        const bool advised = InHugePageAdvisedMapping(large);
        ::free(large);
        ::_Exit(advised ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace optout::cli
