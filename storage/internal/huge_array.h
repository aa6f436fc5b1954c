// File: storage/internal/huge_array.h
//
// HugeArray<T>: a fixed-size, uninitialized array for the index's large
// arrays. Buffers of 2 MiB or more are 2 MiB-aligned and advised for
// transparent huge pages (Linux, THP "madvise" mode is common): filling 1 GB
// then takes ~500 page faults instead of ~250,000, and random reads during
// searches miss the TLB far less often.
//
// Thread-safety: none; the owner synchronizes. T must be trivially copyable.
#ifndef OPTOUT_STORAGE_INTERNAL_HUGE_ARRAY_H_
#define OPTOUT_STORAGE_INTERNAL_HUGE_ARRAY_H_

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <type_traits>

namespace optout::storage::internal {

// Returns a buffer of at least `bytes` (aborts when out of memory), released
// with std::free. Contents are unspecified.
void* AllocateLarge(size_t bytes);

template <typename T>
class HugeArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  HugeArray() = default;
  explicit HugeArray(size_t n)
      : data_(static_cast<T*>(n == 0 ? nullptr : AllocateLarge(n * sizeof(T)))),
        size_(n) {}

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }
  size_t MemoryBytes() const { return size_ * sizeof(T); }

 private:
  struct FreeDeleter {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T[], FreeDeleter> data_;
  size_t size_ = 0;
};

}  // namespace optout::storage::internal

#endif  // OPTOUT_STORAGE_INTERNAL_HUGE_ARRAY_H_
