// File: service/distinct_digests.h
//
// The distinct values among a packed group's fixed-size digests, so that
// the check path keys (HMACs) each distinct URL expression digest of a
// request once. A dataset's rows share their host and path-prefix
// expressions (every URL of a host looks up `host/` and its registrable
// domain's `domain/`), so a batch of 10,000 rows repeats many of its
// ~80,000 digests; the HMAC of each (two SHA-256 compressions) is the
// largest part of optoutd's CPU per row.
//
// The table's hash mixes all bytes with a per-process random seed, and
// probes are bounded: a digest that finds no free or equal slot soon is
// simply kept as distinct (keyed again), so crafted digests can make the
// work no worse than without this. When the first values show few
// repeats, the rest are not looked up at all (the same fall-back), so a
// request without repeats pays little more than the copy.
//
// Thread-compatible: one object per thread, reused across requests.
#ifndef OPTOUT_SERVICE_DISTINCT_DIGESTS_H_
#define OPTOUT_SERVICE_DISTINCT_DIGESTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace optout::service {

class DistinctDigests final {
 public:
  // Looks at `count` values of `length` bytes (length 16 or more), back to
  // back at `data`. Afterwards data() holds size() values (at most count),
  // each input value equal to exactly one of them at index slot(i); equal
  // input values usually share one (not guaranteed: see above).
  void Find(const char* data, size_t length, size_t count);

  size_t size() const { return size_; }
  const char* data() const { return distinct_.data(); }
  const uint32_t* slots() const { return slots_.data(); }

 private:
  template <size_t kLength>  // 0: any length
  void FindAs(const char* data, size_t length, size_t count);

  std::vector<uint32_t> table_;  // index + 1 into the distinct values; 0 = empty
  std::vector<uint32_t> slots_;
  std::string distinct_;
  size_t size_ = 0;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_DISTINCT_DIGESTS_H_
