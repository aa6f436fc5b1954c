// File: storage/internal/code_blocks.h
//
// CodeBlocks: a growable array of Code256 stored in blocks of 8 codes
// ("array of structures of arrays"): word k of code 8b+i lives at
// words()[32b + 8k + i]. One vector load then reads the same word of 8 codes,
// which is what the scan kernels want, and the first two words of a code (the
// ones the kernels test first) share one 128-byte pair of cache lines.
// Blocks are 64-byte aligned (large arrays on huge pages, see
// huge_array.h); slots past size() in the last block are zero.
//
// Thread-safety: none; the owner synchronizes. Const methods may run
// concurrently with each other.
#ifndef OPTOUT_STORAGE_INTERNAL_CODE_BLOCKS_H_
#define OPTOUT_STORAGE_INTERNAL_CODE_BLOCKS_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "storage/code256.h"

namespace optout::storage::internal {

inline constexpr size_t kBlockCodes = 8;
inline constexpr size_t kBlockWords = 4 * kBlockCodes;

class CodeBlocks {
 public:
  CodeBlocks() = default;
  CodeBlocks(const CodeBlocks& other);
  CodeBlocks& operator=(const CodeBlocks& other);
  CodeBlocks(CodeBlocks&&) noexcept = default;
  CodeBlocks& operator=(CodeBlocks&&) noexcept = default;

  size_t size() const { return size_; }
  size_t num_blocks() const { return (size_ + kBlockCodes - 1) / kBlockCodes; }
  const uint64_t* words() const { return words_.get(); }

  // Grows capacity to at least n codes; never shrinks.
  void Reserve(size_t n);
  // Sets size to n; new codes are zero.
  void Resize(size_t n);
  void Append(const Code256& code);
  void Set(size_t i, const Code256& code);
  Code256 Get(size_t i) const;
  // Moves the last code into slot i and drops the last slot.
  void SwapRemove(size_t i);
  void Clear() { Resize(0); }

  size_t MemoryBytes() const { return capacity_blocks_ * kBlockWords * 8; }

 private:
  struct FreeDeleter {
    void operator()(uint64_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint64_t[], FreeDeleter> words_;
  size_t size_ = 0;
  size_t capacity_blocks_ = 0;
};

// Word k of code i in a block array.
inline uint64_t BlockWord(const uint64_t* words, size_t i, int k) {
  return words[(i / kBlockCodes) * kBlockWords + k * kBlockCodes +
               (i % kBlockCodes)];
}

}  // namespace optout::storage::internal

#endif  // OPTOUT_STORAGE_INTERNAL_CODE_BLOCKS_H_
