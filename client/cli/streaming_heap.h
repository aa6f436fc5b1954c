// File: client/cli/streaming_heap.h
//
// check-dataset's heap. Chunks allocate and free megabyte-sized buffers
// (records, requests, Parquet pages) many times a second, and the run's
// working set (~100 MB at 1M Parquet rows) is touched page by page as it
// grows: on this project's VMs a first touch or a TLB miss of a 4 KiB page
// costs far more than on bare metal.
#ifndef OPTOUT_CLIENT_CLI_STREAMING_HEAP_H_
#define OPTOUT_CLIENT_CLI_STREAMING_HEAP_H_

namespace optout::cli {

// Keeps large buffers on the main heap (glibc would mmap and munmap each
// one, faulting in fresh pages every time), serves every thread from that
// one heap, and backs the first 256 MiB it grows by with transparent huge
// pages (MADV_HUGEPAGE; what GLIBC_TUNABLES=glibc.malloc.hugetlb=1 does,
// which glibc reads only at start-up). Memory stays bounded by the chunks
// in flight; only address space is reserved. The huge pages are left to
// glibc when GLIBC_TUNABLES names hugetlb (the user's choice wins). Call
// once, before the run allocates.
void TuneHeapForStreaming();

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_STREAMING_HEAP_H_
