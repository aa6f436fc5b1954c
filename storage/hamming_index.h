// File: storage/hamming_index.h
//
// HammingIndex: an in-memory set of (handle, 256-bit code) entries that
// returns every handle whose code lies within a Hamming radius of a query.
// It is exact: no false negatives and no false positives, for any radius.
//
// Single queries use multi-index hashing over 11 substrings of the code
// (storage/internal/mih_layout.h); batches, large radii and small sets use a
// cache-blocked SIMD scan (AVX-512 VPOPCNTDQ, AVX2 or portable, picked at run
// time). A cost estimate chooses per call. Adds go to a small buffer that
// every query scans and removals mark tombstones; both are folded into the
// multi-index by a rebuild once Options::max_delta of them accumulate. A
// rebuild copies the live entries, so memory peaks at about twice the index.
//
// Thread-safety: every method may be called concurrently. Searches share a
// reader lock for their whole run; Add/Remove hold the writer lock briefly;
// a rebuild builds off-lock and swaps under the writer lock.
#ifndef OPTOUT_STORAGE_HAMMING_INDEX_H_
#define OPTOUT_STORAGE_HAMMING_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "storage/code256.h"
#include "storage/scan_isa.h"

namespace optout::storage {
namespace internal {
class MihSegment;
}  // namespace internal

// Receives the hits of HammingIndex::SearchBatch as they are found, so that
// no list of (query, hit) pairs is ever built and a caller that has enough
// hits for a query stops the work on it.
class HitSink {
 public:
  virtual ~HitSink() = default;
  // False once query `q` needs no more hits; checked before a query starts
  // and between chunks of its work.
  virtual bool Wants(size_t q) const = 0;
  // A handle within the radius of query `q`; the same handle may come more
  // than once. Returns Wants(q) as it stands after taking the hit.
  virtual bool Hit(size_t q, uint64_t handle) = 0;
};

class HammingIndex final {
 public:
  enum class Strategy {
    kAuto,        // cheaper of the two below, by estimate
    kMultiIndex,  // multi-index hashing for every query
    kScan,        // SIMD scan of every code for every query (blocked in batches)
  };

  struct Options {
    // Largest radius the multi-index serves under Strategy::kAuto; larger
    // radii are still answered exactly, by scanning. Default: 63.
    int max_radius = 63;
    // Entries added or removed since the last rebuild that trigger the next
    // one. The buffer of recent adds is scanned by every query, so this
    // bounds that cost (65536 codes: ~2 MB, tens of microseconds).
    // Default: 65536.
    size_t max_delta = 65536;
    // Rebuild on a background thread (true) or inside the Add/Remove call
    // that reaches max_delta (false). Default: true.
    bool background_rebuild = true;
    // Default: kAuto.
    Strategy strategy = Strategy::kAuto;
    // Popcount kernels; a level this CPU cannot run falls back to the best
    // one it can. Default: kAuto.
    ScanIsa isa = ScanIsa::kAuto;
  };

  HammingIndex();  // default Options
  explicit HammingIndex(Options options);
  ~HammingIndex();
  HammingIndex(const HammingIndex&) = delete;
  HammingIndex& operator=(const HammingIndex&) = delete;

  // Replaces the whole contents with `entries` (handles must be unique).
  // Much faster than repeated Add: about 0.4 s of one core per million
  // entries. Searches keep running on the old contents until the final
  // swap. Memory: ~92 bytes per entry once built (plus 2.9 MB); while
  // building, the input and the old contents are held too. Adds and removes
  // that race with Build may be lost: call it before serving writes.
  void Build(std::vector<std::pair<uint64_t, Code256>> entries);

  // Adds one entry. `handle` must not already be present.
  void Add(uint64_t handle, const Code256& code);

  // Removes the entry with `handle`; false if there is none. Costs a linear
  // pass over the handles (~8 ms per 10 million entries) outside the lock.
  bool Remove(uint64_t handle);
  // The same for an entry whose code the caller knows: looks only among the
  // entries sharing the code's 16-bit prefix, so its cost does not grow
  // with the index (an opt-out with 64 window hashes in an index of 400M).
  bool Remove(uint64_t handle, const Code256& code);

  // Every handle whose code is within `radius` of `query`, each once, in no
  // particular order. radius < 0 gives nothing; radius >= 256 gives all.
  std::vector<uint64_t> Search(const Code256& query, int radius) const;

  // result[i] lists the handles within `radius` of queries[i], as Search
  // would; picks multi-index probes or one blocked scan for the batch.
  std::vector<std::vector<uint64_t>> SearchBatch(
      absl::Span<const Code256> queries, int radius) const;

  // The same search, streamed: every handle within `radius` of queries[i]
  // goes to sink.Hit(i, handle) until the sink no longer wants query i.
  // Working memory stays bounded (a few MiB) whatever the number of hits,
  // and the work on a query stops soon after its sink is satisfied. The
  // sink runs under the index's reader lock and must not call back into it.
  void SearchBatch(absl::Span<const Code256> queries, int radius,
                   HitSink& sink) const;

  // Folds all buffered adds and removals into the multi-index now; returns
  // once done. Optional: rebuilds also happen on their own.
  void Compact();

  size_t size() const;
  // Heap bytes held by the index (codes, handles, hash tables, buffers).
  size_t MemoryBytes() const;
  // The kernel level in use ("avx512", "avx2" or "portable").
  const char* isa_name() const;

 private:
  struct Rep;
  // Remove's work once `find_in_base` has told where in the base segment
  // the entry is.
  bool RemoveFound(uint64_t handle,
                   absl::FunctionRef<bool(const internal::MihSegment&, uint32_t*)> find_in_base);

  std::unique_ptr<Rep> rep_;
};

}  // namespace optout::storage

#endif  // OPTOUT_STORAGE_HAMMING_INDEX_H_
