// File: storage/hamming_index.cc
#include "storage/hamming_index.h"

#include <algorithm>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "storage/internal/code_blocks.h"
#include "storage/internal/mih_segment.h"
#include "storage/internal/scan_kernels.h"

namespace optout::storage {

using internal::CodeBlocks;
using internal::CostModel;
using internal::MihSegment;
using internal::ScanKernels;

namespace {

// Codes per tile of the blocked batch scan: 64 KiB of codes, of which the
// first two words (read for every code) take 32 KiB and stay in L1 while
// every query of the batch runs over the tile.
constexpr size_t kBatchTileCodes = 2048;
// Queries run over a tile per kernel call; with the tile size this bounds
// the (query, code) pairs one call can produce (dense clusters of stored
// codes make every pair a hit) to 512 Ki pairs, 4 MiB.
constexpr size_t kQueryGroup = 256;
constexpr uint32_t kDoneQuery = ~uint32_t{0};

// Buffers of one streamed search.
struct BatchScratch {
  std::vector<Code256> active_codes;    // queries still wanted
  std::vector<uint32_t> active_index;   // their index in the batch
  std::vector<uint64_t> pairs;          // (group query << 32) | position
  internal::MihScratch mih;
};

// Blocked scan of `codes` for every query the sink still wants. `resolve`
// turns a position into its handle, or false for a removed entry.
template <typename Resolve>
void BlockedScan(const CodeBlocks& codes, absl::Span<const Code256> queries,
                 int radius, const ScanKernels& kernels, HitSink& sink,
                 Resolve resolve, BatchScratch* scratch) {
  std::vector<Code256>& active_codes = scratch->active_codes;
  std::vector<uint32_t>& active_index = scratch->active_index;
  std::vector<uint64_t>& pairs = scratch->pairs;
  active_codes.clear();
  active_index.clear();
  for (size_t j = 0; j < queries.size(); ++j) {
    if (!sink.Wants(j)) continue;
    active_codes.push_back(queries[j]);
    active_index.push_back(static_cast<uint32_t>(j));
  }
  for (size_t start = 0; start < codes.size() && !active_codes.empty();
       start += kBatchTileCodes) {
    const uint64_t* tile =
        codes.words() + start / internal::kBlockCodes * internal::kBlockWords;
    const size_t tile_codes = std::min(kBatchTileCodes, codes.size() - start);
    bool any_done = false;
    for (size_t g = 0; g < active_codes.size(); g += kQueryGroup) {
      pairs.clear();
      kernels.scan_batch(tile, tile_codes, active_codes.data() + g,
                         std::min(kQueryGroup, active_codes.size() - g), radius,
                         static_cast<uint32_t>(start), &pairs);
      for (uint64_t pair : pairs) {
        uint32_t& j = active_index[g + (pair >> 32)];
        uint64_t handle = 0;
        if (j == kDoneQuery || !resolve(static_cast<uint32_t>(pair), &handle)) continue;
        if (!sink.Hit(j, handle)) {
          j = kDoneQuery;
          any_done = true;
        }
      }
    }
    if (!any_done) continue;
    size_t kept = 0;
    for (size_t a = 0; a < active_codes.size(); ++a) {
      if (active_index[a] == kDoneQuery) continue;
      active_codes[kept] = active_codes[a];
      active_index[kept] = active_index[a];
      ++kept;
    }
    active_codes.resize(kept);
    active_index.resize(kept);
  }
}

// Collects every hit, for the vector-returning searches.
class CollectingSink final : public HitSink {
 public:
  explicit CollectingSink(size_t queries) : results_(queries) {}
  bool Wants(size_t) const override { return true; }
  bool Hit(size_t q, uint64_t handle) override {
    results_[q].push_back(handle);
    return true;
  }
  // Each handle once per query.
  std::vector<std::vector<uint64_t>> Take() {
    for (auto& r : results_) {
      std::sort(r.begin(), r.end());
      r.erase(std::unique(r.begin(), r.end()), r.end());
    }
    return std::move(results_);
  }

 private:
  std::vector<std::vector<uint64_t>> results_;
};

bool TestBit(const std::vector<uint64_t>& bits, uint32_t i) {
  return (bits[i >> 6] >> (i & 63)) & 1;
}

}  // namespace

struct HammingIndex::Rep {
  explicit Rep(const Options& o)
      : options(o),
        kernels(internal::KernelsFor(o.isa)),
        cost(internal::CostModelFor(kernels.isa)) {}

  bool UseMih(const MihSegment& seg, int radius, size_t queries) const;
  void Rebuild() ABSL_LOCKS_EXCLUDED(mu, rebuild_mu);
  void ScheduleRebuild() ABSL_LOCKS_EXCLUDED(mu);
  bool NeedsRebuild() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return !rebuild_pending &&
           delta_handles.size() + dead_count >= std::max<size_t>(options.max_delta, 1);
  }
  void RecordRemoval(uint64_t handle, bool in_snapshot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (tracking && in_snapshot) removed_since_snapshot.push_back(handle);
  }

  const Options options;
  const ScanKernels& kernels;
  const CostModel& cost;

  // Serializes whole rebuilds (Build, Compact, background) so that at most
  // one snapshot is being folded at a time. Taken before mu.
  absl::Mutex rebuild_mu ABSL_ACQUIRED_BEFORE(mu);

  // mu protects everything a search reads: the multi-indexed base segment,
  // its tombstones and the buffer of recent adds, plus the bookkeeping a
  // rebuild needs to replay removals that race with it.
  mutable absl::Mutex mu;
  std::shared_ptr<const MihSegment> base ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> dead ABSL_GUARDED_BY(mu);  // bit per base position
  size_t dead_count ABSL_GUARDED_BY(mu) = 0;
  CodeBlocks delta_codes ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> delta_handles ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> delta_seq ABSL_GUARDED_BY(mu);  // add order
  uint64_t next_seq ABSL_GUARDED_BY(mu) = 0;
  bool rebuild_pending ABSL_GUARDED_BY(mu) = false;
  // While a rebuild works from its snapshot (entries with seq < snapshot_seq
  // plus the live base), removals of snapshot entries are logged here and
  // applied to the new segment at the swap.
  bool tracking ABSL_GUARDED_BY(mu) = false;
  uint64_t snapshot_seq ABSL_GUARDED_BY(mu) = 0;
  std::vector<uint64_t> removed_since_snapshot ABSL_GUARDED_BY(mu);

  // Protects the background rebuild thread object (not its work).
  absl::Mutex thread_mu ABSL_ACQUIRED_AFTER(mu);
  std::thread rebuilder ABSL_GUARDED_BY(thread_mu);
};

bool HammingIndex::Rep::UseMih(const MihSegment& seg, int radius,
                               size_t queries) const {
  switch (options.strategy) {
    case Strategy::kMultiIndex:
      return true;
    case Strategy::kScan:
      return false;
    case Strategy::kAuto:
      break;
  }
  if (radius > options.max_radius) return false;
  const double n = static_cast<double>(seg.size());
  const double mih = queries * seg.EstimateMihNanos(radius, cost);
  const double scan = queries == 1 ? n * cost.scan_code_ns
                                   : n * cost.scan_code_ns +
                                         queries * n * cost.batch_code_ns;
  return mih < scan;
}

void HammingIndex::Rep::Rebuild() {
  absl::MutexLock rebuild_lock(&rebuild_mu);
  std::shared_ptr<const MihSegment> old;
  std::vector<uint64_t> old_dead;
  std::vector<std::pair<uint64_t, Code256>> entries;
  {
    absl::WriterMutexLock lock(&mu);
    old = base;
    old_dead = dead;
    entries.reserve((old ? old->size() : 0) + delta_handles.size());
    for (size_t i = 0; i < delta_handles.size(); ++i) {
      entries.emplace_back(delta_handles[i], delta_codes.Get(i));
    }
    tracking = true;
    snapshot_seq = next_seq;
    removed_since_snapshot.clear();
  }
  // The old segment is immutable, so the heavy part runs without the lock.
  if (old != nullptr) {
    for (uint32_t pos = 0; pos < old->size(); ++pos) {
      if (!TestBit(old_dead, pos)) {
        entries.emplace_back(old->handle(pos), old->codes().Get(pos));
      }
    }
  }
  std::shared_ptr<const MihSegment> fresh = MihSegment::Build(std::move(entries));
  std::vector<uint64_t> fresh_dead((fresh->size() + 63) / 64, 0);

  absl::WriterMutexLock lock(&mu);
  size_t fresh_dead_count = 0;
  if (!removed_since_snapshot.empty()) {
    absl::flat_hash_set<uint64_t> removed(removed_since_snapshot.begin(),
                                          removed_since_snapshot.end());
    for (uint32_t pos = 0; pos < fresh->size(); ++pos) {
      if (removed.contains(fresh->handle(pos))) {
        fresh_dead[pos >> 6] |= uint64_t{1} << (pos & 63);
        ++fresh_dead_count;
      }
    }
  }
  base = std::move(fresh);
  dead = std::move(fresh_dead);
  dead_count = fresh_dead_count;
  // Keep only the adds that arrived after the snapshot.
  size_t kept = 0;
  for (size_t i = 0; i < delta_handles.size(); ++i) {
    if (delta_seq[i] < snapshot_seq) continue;
    delta_codes.Set(kept, delta_codes.Get(i));
    delta_handles[kept] = delta_handles[i];
    delta_seq[kept] = delta_seq[i];
    ++kept;
  }
  delta_codes.Resize(kept);
  delta_handles.resize(kept);
  delta_seq.resize(kept);
  tracking = false;
  removed_since_snapshot.clear();
}

void HammingIndex::Rep::ScheduleRebuild() {
  auto run = [this] {
    Rebuild();
    absl::WriterMutexLock lock(&mu);
    rebuild_pending = false;
  };
  if (!options.background_rebuild) {
    run();
    return;
  }
  absl::MutexLock lock(&thread_mu);
  // The previous thread cleared rebuild_pending as its last act, so this
  // join returns at once.
  if (rebuilder.joinable()) rebuilder.join();
  rebuilder = std::thread(run);
}

HammingIndex::HammingIndex() : HammingIndex(Options()) {}

HammingIndex::HammingIndex(Options options)
    : rep_(std::make_unique<Rep>(options)) {}

HammingIndex::~HammingIndex() {
  absl::MutexLock lock(&rep_->thread_mu);
  if (rep_->rebuilder.joinable()) rep_->rebuilder.join();
}

void HammingIndex::Build(std::vector<std::pair<uint64_t, Code256>> entries) {
  absl::MutexLock rebuild_lock(&rep_->rebuild_mu);
  std::shared_ptr<const MihSegment> fresh = MihSegment::Build(std::move(entries));
  std::vector<uint64_t> fresh_dead((fresh->size() + 63) / 64, 0);
  absl::WriterMutexLock lock(&rep_->mu);
  rep_->base = std::move(fresh);
  rep_->dead = std::move(fresh_dead);
  rep_->dead_count = 0;
  rep_->delta_codes.Clear();
  rep_->delta_handles.clear();
  rep_->delta_seq.clear();
}

void HammingIndex::Add(uint64_t handle, const Code256& code) {
  bool schedule = false;
  {
    absl::WriterMutexLock lock(&rep_->mu);
    rep_->delta_codes.Append(code);
    rep_->delta_handles.push_back(handle);
    rep_->delta_seq.push_back(rep_->next_seq++);
    if (rep_->NeedsRebuild()) schedule = rep_->rebuild_pending = true;
  }
  if (schedule) rep_->ScheduleRebuild();
}

bool HammingIndex::Remove(uint64_t handle) {
  return RemoveFound(handle, [handle](const MihSegment& base, uint32_t* pos) {
    return base.Find(handle, pos);
  });
}

bool HammingIndex::Remove(uint64_t handle, const Code256& code) {
  return RemoveFound(handle, [handle, &code](const MihSegment& base, uint32_t* pos) {
    return base.FindEntry(handle, code, pos);
  });
}

bool HammingIndex::RemoveFound(
    uint64_t handle, absl::FunctionRef<bool(const MihSegment&, uint32_t*)> find_in_base) {
  Rep& rep = *rep_;
  for (;;) {
    std::shared_ptr<const MihSegment> seen;
    bool in_delta = false;
    {
      absl::ReaderMutexLock lock(&rep.mu);
      in_delta = std::find(rep.delta_handles.begin(), rep.delta_handles.end(),
                           handle) != rep.delta_handles.end();
      seen = rep.base;
    }
    // The search of a large base runs without blocking anyone.
    uint32_t pos = 0;
    const bool in_base = !in_delta && seen != nullptr && find_in_base(*seen, &pos);

    bool schedule = false;
    {
      absl::WriterMutexLock lock(&rep.mu);
      auto it = std::find(rep.delta_handles.begin(), rep.delta_handles.end(), handle);
      if (it != rep.delta_handles.end()) {
        const size_t i = it - rep.delta_handles.begin();
        rep.RecordRemoval(handle, rep.delta_seq[i] < rep.snapshot_seq);
        rep.delta_codes.SwapRemove(i);
        rep.delta_handles[i] = rep.delta_handles.back();
        rep.delta_handles.pop_back();
        rep.delta_seq[i] = rep.delta_seq.back();
        rep.delta_seq.pop_back();
        return true;
      }
      if (rep.base != seen) continue;  // a rebuild swapped segments; retry
      if (!in_base || TestBit(rep.dead, pos)) return false;
      rep.dead[pos >> 6] |= uint64_t{1} << (pos & 63);
      ++rep.dead_count;
      rep.RecordRemoval(handle, true);
      if (rep.NeedsRebuild()) schedule = rep.rebuild_pending = true;
    }
    if (schedule) rep.ScheduleRebuild();
    return true;
  }
}

std::vector<uint64_t> HammingIndex::Search(const Code256& query,
                                           int radius) const {
  std::vector<uint64_t> result;
  if (radius < 0) return result;
  thread_local internal::MihScratch scratch;
  thread_local std::vector<uint32_t> positions;
  positions.clear();
  const Rep& rep = *rep_;
  absl::ReaderMutexLock lock(&rep.mu);
  if (rep.base != nullptr) {
    const MihSegment& seg = *rep.base;
    if (rep.UseMih(seg, radius, 1)) {
      seg.SearchMih(query, radius, rep.kernels, &scratch,
                    [&](absl::Span<const uint32_t> found) {
                      positions.insert(positions.end(), found.begin(), found.end());
                      return true;
                    });
    } else {
      rep.kernels.scan(seg.codes().words(), seg.size(), query, radius, 0,
                       &positions);
    }
    for (uint32_t pos : positions) {
      if (!TestBit(rep.dead, pos)) result.push_back(seg.handle(pos));
    }
    // Chunks of a crowded multi-index search may repeat a position.
    std::sort(result.begin(), result.end());
    result.erase(std::unique(result.begin(), result.end()), result.end());
  }
  positions.clear();
  rep.kernels.scan(rep.delta_codes.words(), rep.delta_codes.size(), query,
                   radius, 0, &positions);
  for (uint32_t i : positions) result.push_back(rep.delta_handles[i]);
  return result;
}

std::vector<std::vector<uint64_t>> HammingIndex::SearchBatch(
    absl::Span<const Code256> queries, int radius) const {
  CollectingSink sink(queries.size());
  SearchBatch(queries, radius, sink);
  return sink.Take();
}

void HammingIndex::SearchBatch(absl::Span<const Code256> queries, int radius,
                               HitSink& sink) const {
  if (radius < 0 || queries.empty()) return;
  thread_local BatchScratch scratch;
  const Rep& rep = *rep_;
  absl::ReaderMutexLock lock(&rep.mu);
  if (rep.base != nullptr) {
    const MihSegment& seg = *rep.base;
    auto live_handle = [&](uint32_t pos, uint64_t* handle) {
      if (TestBit(rep.dead, pos)) return false;
      *handle = seg.handle(pos);
      return true;
    };
    if (rep.UseMih(seg, radius, queries.size())) {
      for (size_t j = 0; j < queries.size(); ++j) {
        if (!sink.Wants(j)) continue;
        seg.SearchMih(queries[j], radius, rep.kernels, &scratch.mih,
                      [&](absl::Span<const uint32_t> found) {
                        for (uint32_t pos : found) {
                          uint64_t handle = 0;
                          if (live_handle(pos, &handle) && !sink.Hit(j, handle)) {
                            return false;
                          }
                        }
                        return true;
                      });
      }
    } else {
      BlockedScan(seg.codes(), queries, radius, rep.kernels, sink, live_handle,
                  &scratch);
    }
  }
  BlockedScan(rep.delta_codes, queries, radius, rep.kernels, sink,
              [&](uint32_t i, uint64_t* handle) {
                *handle = rep.delta_handles[i];
                return true;
              },
              &scratch);
}

void HammingIndex::Compact() { rep_->Rebuild(); }

size_t HammingIndex::size() const {
  absl::ReaderMutexLock lock(&rep_->mu);
  const size_t base = rep_->base != nullptr ? rep_->base->size() : 0;
  return base - rep_->dead_count + rep_->delta_handles.size();
}

size_t HammingIndex::MemoryBytes() const {
  absl::ReaderMutexLock lock(&rep_->mu);
  size_t bytes = sizeof(Rep) + rep_->dead.capacity() * sizeof(uint64_t) +
                 rep_->delta_codes.MemoryBytes() +
                 (rep_->delta_handles.capacity() + rep_->delta_seq.capacity()) *
                     sizeof(uint64_t);
  if (rep_->base != nullptr) bytes += rep_->base->MemoryBytes();
  return bytes;
}

const char* HammingIndex::isa_name() const {
  return ScanIsaName(rep_->kernels.isa);
}

}  // namespace optout::storage
