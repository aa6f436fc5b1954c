// File: storage/key_index.h
//
// KeyIndex: in-memory map from 32-byte keys (keyed digests, already uniformly
// distributed) to the set of 64-bit values registered under each key.
// It serves exact-match checks; the durable copy of every key lives in the
// records of OptOutStore and the index is rebuilt from them at start.
//
// Any number of values may share one key (anyone may register a popular URL),
// so the values of a key are kept sorted ascending: a caller can then look at
// only the few it needs (a range, its first entries) at a cost bounded
// whatever N shares the key, and Add and Remove cost a binary search plus
// one memmove.
//
// Thread-safety: all methods may be called concurrently; lookups share a
// reader lock, Add/Remove take it exclusively.
#ifndef OPTOUT_STORAGE_KEY_INDEX_H_
#define OPTOUT_STORAGE_KEY_INDEX_H_

#include <array>
#include <cstdint>
#include <cstring>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace optout::storage {

using Key32 = std::array<uint8_t, 32>;

class KeyIndex final {
 public:
  KeyIndex() = default;
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  void Add(const Key32& key, uint64_t value);
  // Removes one (key, value) pair; false when it was not present.
  bool Remove(const Key32& key, uint64_t value);

  // Start-up bulk load: appends without keeping order or removing
  // duplicates, so a hot key costs O(1) per value instead of a memmove.
  // FinishAppends() must run before the index serves lookups.
  void AppendUnordered(const Key32& key, uint64_t value);
  // Makes room for `keys` distinct keys, so a bulk load does not rehash.
  void Reserve(size_t keys);
  // Sorts and dedupes every value list touched by AppendUnordered.
  void FinishAppends();

  // Calls visit(i, values) with the values stored under keys[i] (sorted
  // ascending, no duplicates; valid only during the call) for every key
  // present, in order of i, under one reader lock for the whole batch.
  // `visit` must not call back into the index. Lookups of a batch are
  // software-pipelined (the table slots of later keys are prefetched), so
  // large batches cost little more than one cache miss per key.
  void LookupMany(absl::Span<const Key32> keys,
                  absl::FunctionRef<void(size_t, absl::Span<const uint64_t>)> visit) const;

  size_t size() const;  // number of (key, value) pairs
  // Approximate heap bytes: the table's slots and control bytes (keys with
  // more than one value add their outlined values).
  size_t MemoryBytes() const;

 private:
  // Keys are HMAC outputs, so their first 8 bytes are already a good hash.
  struct PrefixHash {
    size_t operator()(const Key32& k) const {
      uint64_t h;
      std::memcpy(&h, k.data(), sizeof(h));
      return static_cast<size_t>(h);
    }
  };
  // Four word compares, inlined (std::array's == calls memcmp).
  struct KeyEq {
    bool operator()(const Key32& a, const Key32& b) const {
      uint64_t x[4], y[4];
      std::memcpy(x, a.data(), sizeof(x));
      std::memcpy(y, b.data(), sizeof(y));
      return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
    }
  };
  // Sorted ascending, no duplicates (except between AppendUnordered and
  // FinishAppends). Most keys hold one value, which stays inline.
  using Values = absl::InlinedVector<uint64_t, 1>;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key32, Values, PrefixHash, KeyEq> map_ ABSL_GUARDED_BY(mu_);
  size_t pairs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace optout::storage

#endif  // OPTOUT_STORAGE_KEY_INDEX_H_
