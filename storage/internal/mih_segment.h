// File: storage/internal/mih_segment.h
//
// MihSegment: an immutable, bulk-built set of (handle, code) entries with a
// multi-index hash over them (layout in mih_layout.h). Per entry it keeps the
// code (32 B), the handle (8 B) and, per slot, a subkey byte and a 4-byte
// position (slot 0 needs no positions: entries are sorted by its prefix), so
// 91 bytes per code plus 2.9 MB of directories.
//
// A search either probes the slots (SearchMih: cost grows steeply with the
// radius and slowly with size) or scans codes() with the SIMD kernels (cost
// linear in size); EstimateMihNanos and CostModelFor let callers pick.
//
// Thread-safety: immutable after Build; all const methods are safe to call
// concurrently. Segments are shared through shared_ptr<const MihSegment>.
#ifndef OPTOUT_STORAGE_INTERNAL_MIH_SEGMENT_H_
#define OPTOUT_STORAGE_INTERNAL_MIH_SEGMENT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "storage/code256.h"
#include "storage/internal/code_blocks.h"
#include "storage/internal/huge_array.h"
#include "storage/internal/mih_layout.h"
#include "storage/internal/scan_kernels.h"

namespace optout::storage::internal {

// Rough per-operation costs behind the estimates, in nanoseconds.
struct CostModel {
  double bucket_ns;     // one probed bucket: directory read + first miss
  double entry_ns;      // one subkey compared inside a bucket
  double candidate_ns;  // one random code fetched and checked
  double scan_code_ns;  // one code in a streaming single-query scan
  double batch_code_ns; // one code-query comparison in a blocked batch scan
};
const CostModel& CostModelFor(ScanIsa isa);

// Reusable buffers of SearchMih; one per searching thread.
struct MihScratch {
  std::vector<uint32_t> candidates;  // positions whose subkey matched
  std::vector<uint32_t> verified;    // candidates within the radius
};

class MihSegment {
 public:
  // Takes the entries (any order; handles are not checked for uniqueness).
  // Positions 0..size()-1 are assigned by the build. Needs size() < 2^32.
  static std::shared_ptr<const MihSegment> Build(
      std::vector<std::pair<uint64_t, Code256>> entries);

  MihSegment(const MihSegment&) = delete;
  MihSegment& operator=(const MihSegment&) = delete;

  size_t size() const { return handles_.size(); }
  uint64_t handle(uint32_t pos) const { return handles_[pos]; }
  const CodeBlocks& codes() const { return codes_; }

  // Calls emit(positions) with the position of every code within `radius`
  // (>= 0) of `query`, in no particular order, until emit returns false.
  // Candidates are verified in chunks of bounded size, so a dense cluster of
  // codes near the query costs bounded memory, and work stops as soon as the
  // caller has enough. Within one call of emit a position appears once; a
  // position may come again in a later call (found through another slot).
  // Returns false when emit stopped the search.
  bool SearchMih(const Code256& query, int radius, const ScanKernels& kernels,
                 MihScratch* scratch,
                 absl::FunctionRef<bool(absl::Span<const uint32_t>)> emit) const;

  // Estimated cost of one SearchMih, from the sizes a uniform code set gives.
  double EstimateMihNanos(int radius, const CostModel& cost) const;

  // Position of `handle` by linear search; false if absent.
  bool Find(uint64_t handle, uint32_t* pos) const;
  // Position of the entry (handle, code) by looking only in `code`'s slot-0
  // bucket (entries with the same 16-bit prefix: ~size()/65536 of them, or
  // the copies of one hot code); false if absent.
  bool FindEntry(uint64_t handle, const Code256& code, uint32_t* pos) const;

  size_t MemoryBytes() const;

 private:
  MihSegment() = default;

  struct Slot {
    std::vector<uint32_t> directory;  // kNumBuckets + 1 offsets by prefix
    HugeArray<uint8_t> subkeys;       // one per entry, in prefix order
    HugeArray<uint32_t> positions;    // one per entry; empty for slot 0
  };

  // Verifies scratch->candidates and hands the survivors to emit.
  bool Flush(const Code256& query, int radius, const ScanKernels& kernels,
             MihScratch* scratch,
             absl::FunctionRef<bool(absl::Span<const uint32_t>)> emit) const;
  bool ProbeSlot(int s, const Code256& query, int threshold, int radius,
                 const ScanKernels& kernels, MihScratch* scratch,
                 absl::FunctionRef<bool(absl::Span<const uint32_t>)> emit) const;

  CodeBlocks codes_;
  HugeArray<uint64_t> handles_;
  std::array<Slot, kNumSlots> slots_;
};

}  // namespace optout::storage::internal

#endif  // OPTOUT_STORAGE_INTERNAL_MIH_SEGMENT_H_
