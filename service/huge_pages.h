// File: service/huge_pages.h
//
// Start-up reload builds gigabytes of index in small heap blocks (10M
// opt-outs: ~6 GB), and first-touch page faults are a large part of its
// cost. glibc can back malloc's arenas with transparent huge pages
// (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), which took a quarter off the
// reload CPU of 1M opt-outs (tests/bench/README.md), but it reads that
// setting only when a process starts.
#ifndef OPTOUT_SERVICE_HUGE_PAGES_H_
#define OPTOUT_SERVICE_HUGE_PAGES_H_

namespace optout::service {

// When GLIBC_TUNABLES is not set at all, sets it to use huge pages for
// malloc and re-executes this program with the same arguments (same pid).
// Returns (and changes nothing) when the variable is set, whatever its value,
// so an operator's choice wins, or when the re-exec fails.
void UseHugePagesForMalloc(char** argv);

// The check path has the opposite problem: every CheckStream batch (about
// a megabyte of digests, parsed into one string) is above glibc's default
// mmap threshold or trimmed away again after use, so each batch faulted in
// fresh pages: about a third of optoutd's CPU per dataset row
// (tests/bench/parquet_bench.sh). This fixes the thresholds so that such
// buffers stay on the heap: allocations under 8 MiB come from the arenas,
// and up to 64 MiB of free memory stays at the top of each. Does nothing
// when GLIBC_TUNABLES names a threshold (the operator's choice wins).
void KeepCheckBuffersOnHeap();

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_HUGE_PAGES_H_
