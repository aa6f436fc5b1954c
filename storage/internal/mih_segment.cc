// File: storage/internal/mih_segment.cc
#include "storage/internal/mih_segment.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace optout::storage::internal {

namespace {

// Sort items by bits [40, 56) (a 16-bit prefix) with two stable 8-bit LSD
// radix passes. 256 output streams per pass stay in cache, where a direct
// 65536-bucket scatter misses on nearly every write; that makes a 10M build
// several times faster. Stability keeps equal prefixes in input order.
void SortByPrefix(HugeArray<uint64_t>* items, HugeArray<uint64_t>* tmp) {
  for (int shift : {40, 48}) {
    size_t start[257] = {};
    const uint64_t* in = items->data();
    uint64_t* out = tmp->data();
    const size_t n = items->size();
    for (size_t i = 0; i < n; ++i) ++start[((in[i] >> shift) & 0xff) + 1];
    for (int d = 0; d < 256; ++d) start[d + 1] += start[d];
    for (size_t i = 0; i < n; ++i) out[start[(in[i] >> shift) & 0xff]++] = in[i];
    std::swap(*items, *tmp);
  }
}

// Item layout: prefix (16 bits) << 40 | subkey (8 bits) << 32 | index.
inline uint64_t Item(uint32_t slot_value, uint32_t index) {
  return (uint64_t{slot_value & kPrefixMask} << 40) |
         (uint64_t{slot_value >> kPrefixBits} << 32) | index;
}

}  // namespace

std::shared_ptr<const MihSegment> MihSegment::Build(
    std::vector<std::pair<uint64_t, Code256>> entries) {
  // Positions are 32-bit; 4 billion codes would need ~400 GB anyway.
  if (entries.size() >= (size_t{1} << 32)) std::abort();
  std::shared_ptr<MihSegment> seg(new MihSegment());
  const size_t n = entries.size();
  HugeArray<uint64_t> items(n);
  HugeArray<uint64_t> tmp(n);

  // Place entries in slot-0 prefix order, so slot 0's buckets are ranges of
  // positions and need no position array.
  for (size_t i = 0; i < n; ++i) {
    items[i] = Item(SlotValue(entries[i].second, 0), static_cast<uint32_t>(i));
  }
  SortByPrefix(&items, &tmp);
  seg->codes_.Resize(n);
  seg->handles_ = HugeArray<uint64_t>(n);
  constexpr size_t kAhead = 16;  // the gather reads entries in random order
  for (size_t pos = 0; pos < n; ++pos) {
    if (pos + kAhead < n) {
      __builtin_prefetch(&entries[static_cast<uint32_t>(items[pos + kAhead])]);
    }
    const auto& e = entries[static_cast<uint32_t>(items[pos])];
    seg->codes_.Set(pos, e.second);
    seg->handles_[pos] = e.first;
  }
  std::vector<std::pair<uint64_t, Code256>>().swap(entries);

  // One sort per slot. Positions go in ascending, so each bucket lists its
  // positions ascending, which keeps one bucket's candidate fetches moving
  // forward through memory.
  for (int s = 0; s < kNumSlots; ++s) {
    Slot& slot = seg->slots_[s];
    slot.directory.assign(kNumBuckets + 1, 0);
    for (size_t pos = 0; pos < n; ++pos) {
      const uint32_t value = SlotValue(seg->codes_.Get(pos), s);
      ++slot.directory[(value & kPrefixMask) + 1];
      items[pos] = Item(value, static_cast<uint32_t>(pos));
    }
    for (uint32_t b = 0; b < kNumBuckets; ++b) {
      slot.directory[b + 1] += slot.directory[b];
    }
    if (s > 0) SortByPrefix(&items, &tmp);  // slot 0 is already in order
    slot.subkeys = HugeArray<uint8_t>(n);
    if (s > 0) slot.positions = HugeArray<uint32_t>(n);
    for (size_t i = 0; i < n; ++i) {
      slot.subkeys[i] = static_cast<uint8_t>(items[i] >> 32);
      if (s > 0) slot.positions[i] = static_cast<uint32_t>(items[i]);
    }
  }
  return seg;
}

namespace {

// Bucket entries compared per match_subkeys call, and candidates gathered
// before they are verified. Both bound the scratch memory of one query (a
// few dozen KiB) and the work done before a caller can say it has enough,
// however many stored codes crowd around the query; ordinary queries
// (a few hundred to a few thousand candidates) need one or two passes.
constexpr uint32_t kSubkeyPiece = 8192;
constexpr size_t kVerifyChunk = 4096;

}  // namespace

bool MihSegment::Flush(const Code256& query, int radius,
                       const ScanKernels& kernels, MihScratch* scratch,
                       absl::FunctionRef<bool(absl::Span<const uint32_t>)> emit) const {
  std::vector<uint32_t>& verified = scratch->verified;
  verified.clear();
  kernels.verify(codes_.words(), scratch->candidates.data(),
                 scratch->candidates.size(), query, radius, &verified);
  scratch->candidates.clear();
  if (verified.empty()) return true;
  // A code near the query usually shows up in several slots; only matches
  // can repeat, and they are few, so dedupe after verifying.
  std::sort(verified.begin(), verified.end());
  verified.erase(std::unique(verified.begin(), verified.end()), verified.end());
  return emit(verified);
}

bool MihSegment::ProbeSlot(int s, const Code256& query, int threshold, int radius,
                           const ScanKernels& kernels, MihScratch* scratch,
                           absl::FunctionRef<bool(absl::Span<const uint32_t>)> emit) const {
  const Slot& slot = slots_[s];
  const uint32_t value = SlotValue(query, s);
  const uint32_t prefix = value & kPrefixMask;
  const uint32_t* dir = slot.directory.data();
  absl::Span<const uint16_t> masks = MasksByPopcount();

  // First collect the non-empty buckets: the directory reads are independent
  // loads the CPU overlaps. Masks come ordered by popcount, so the k-flip
  // masks are [BallSize16(k - 1), BallSize16(k)) and budget = threshold - k.
  // Crowded buckets are cut into pieces of at most kSubkeyPiece entries.
  thread_local std::vector<SubkeyRange> ranges;
  ranges.clear();
  for (int k = 0; k <= std::min(threshold, kPrefixBits); ++k) {
    const int32_t budget = threshold - k;
    for (uint32_t i = BallSize16(k - 1); i < BallSize16(k); ++i) {
      const uint32_t bucket = prefix ^ masks[i];
      const uint32_t end = dir[bucket + 1];
      for (uint32_t begin = dir[bucket]; begin < end; begin += kSubkeyPiece) {
        ranges.push_back({begin, std::min(end, begin + kSubkeyPiece), budget});
      }
    }
  }
  const uint8_t subkey = static_cast<uint8_t>(value >> kPrefixBits);
  const uint32_t* ids = s == 0 ? nullptr : slot.positions.data();
  size_t first = 0;
  uint64_t entries = 0;
  for (size_t r = 0; r < ranges.size(); ++r) {
    entries += ranges[r].end - ranges[r].begin;
    if (entries < kSubkeyPiece && r + 1 < ranges.size()) continue;
    kernels.match_subkeys(slot.subkeys.data(), ids, ranges.data() + first,
                          r + 1 - first, subkey, &scratch->candidates);
    first = r + 1;
    entries = 0;
    if (scratch->candidates.size() >= kVerifyChunk &&
        !Flush(query, radius, kernels, scratch, emit)) {
      return false;
    }
  }
  return true;
}

bool MihSegment::SearchMih(const Code256& query, int radius,
                           const ScanKernels& kernels, MihScratch* scratch,
                           absl::FunctionRef<bool(absl::Span<const uint32_t>)> emit) const {
  if (size() == 0 || radius < 0) return true;
  scratch->candidates.clear();
  const std::array<int, kNumSlots> thresholds = SlotThresholds(radius);
  for (int s = 0; s < kNumSlots; ++s) {
    if (thresholds[s] >= 0 &&
        !ProbeSlot(s, query, thresholds[s], radius, kernels, scratch, emit)) {
      return false;
    }
  }
  return Flush(query, radius, kernels, scratch, emit);
}

double MihSegment::EstimateMihNanos(int radius, const CostModel& cost) const {
  const std::array<int, kNumSlots> thresholds = SlotThresholds(radius);
  double buckets = 0;
  double candidates = 0;
  for (int s = 0; s < kNumSlots; ++s) {
    buckets += BallSize16(thresholds[s]);
    candidates += BallSize(kSlotWidth[s], thresholds[s]) /
                  static_cast<double>(uint64_t{1} << kSlotWidth[s]);
  }
  const double n = static_cast<double>(size());
  return buckets * cost.bucket_ns +
         buckets * (n / kNumBuckets) * cost.entry_ns +
         candidates * n * cost.candidate_ns;
}

bool MihSegment::Find(uint64_t handle, uint32_t* pos) const {
  const uint64_t* begin = handles_.data();
  const uint64_t* end = begin + handles_.size();
  const uint64_t* it = std::find(begin, end, handle);
  if (it == end) return false;
  *pos = static_cast<uint32_t>(it - begin);
  return true;
}

bool MihSegment::FindEntry(uint64_t handle, const Code256& code, uint32_t* pos) const {
  // Slot 0 needs no positions: its buckets are ranges of positions.
  const uint32_t prefix = SlotValue(code, 0) & kPrefixMask;
  const std::vector<uint32_t>& dir = slots_[0].directory;
  for (uint32_t p = dir[prefix]; p < dir[prefix + 1]; ++p) {
    if (handles_[p] == handle) {
      *pos = p;
      return true;
    }
  }
  return false;
}

size_t MihSegment::MemoryBytes() const {
  size_t bytes = sizeof(*this) + codes_.MemoryBytes() + handles_.MemoryBytes();
  for (const Slot& slot : slots_) {
    bytes += slot.directory.capacity() * sizeof(uint32_t) +
             slot.subkeys.MemoryBytes() + slot.positions.MemoryBytes();
  }
  return bytes;
}

const CostModel& CostModelFor(ScanIsa isa) {
  // Fitted to CPU-time measurements on the development machine (1M and 10M
  // uniform codes, r = 8..63; tests/bench/hamming_bench.cc). Only the ratios
  // matter: they put the MIH/scan crossover near r = 45 at 1M codes and
  // r = 58 at 10M.
  static const CostModel kAvx512 = {100, 0.2, 20, 1.2, 0.08};
  static const CostModel kAvx2 = {100, 0.3, 20, 1.5, 0.45};
  static const CostModel kPortable = {100, 1.5, 25, 4.0, 4.0};
  switch (isa == ScanIsa::kAuto ? KernelsFor(isa).isa : isa) {
    case ScanIsa::kAvx512:
      return kAvx512;
    case ScanIsa::kAvx2:
      return kAvx2;
    default:
      return kPortable;
  }
}

}  // namespace optout::storage::internal
