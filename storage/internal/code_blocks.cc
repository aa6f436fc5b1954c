// File: storage/internal/code_blocks.cc
#include "storage/internal/code_blocks.h"

#include <algorithm>
#include <cstring>

#include "storage/internal/huge_array.h"


namespace optout::storage::internal {

CodeBlocks::CodeBlocks(const CodeBlocks& other) { *this = other; }

CodeBlocks& CodeBlocks::operator=(const CodeBlocks& other) {
  if (this == &other) return *this;
  Resize(0);
  Reserve(other.size_);
  if (other.size_ > 0) {
    std::memcpy(words_.get(), other.words_.get(),
                other.num_blocks() * kBlockWords * 8);
  }
  size_ = other.size_;
  return *this;
}

void CodeBlocks::Reserve(size_t n) {
  const size_t blocks = (n + kBlockCodes - 1) / kBlockCodes;
  if (blocks <= capacity_blocks_) return;
  // Doubling keeps Append amortized O(1) for the delta buffer.
  const size_t new_blocks = std::max(blocks, 2 * capacity_blocks_);
  const size_t bytes = new_blocks * kBlockWords * 8;
  auto* fresh = static_cast<uint64_t*>(AllocateLarge(bytes));
  std::memset(fresh, 0, bytes);
  if (size_ > 0) {
    std::memcpy(fresh, words_.get(), num_blocks() * kBlockWords * 8);
  }
  words_.reset(fresh);
  capacity_blocks_ = new_blocks;
}

void CodeBlocks::Resize(size_t n) {
  Reserve(n);
  if (n < size_) {
    // Keep the invariant that unused slots of the last block are zero.
    for (size_t i = n; i < size_ && i < num_blocks() * kBlockCodes; ++i) {
      Set(i, Code256{});
    }
  }
  size_ = n;
}

void CodeBlocks::Append(const Code256& code) {
  Reserve(size_ + 1);
  ++size_;
  Set(size_ - 1, code);
}

void CodeBlocks::Set(size_t i, const Code256& code) {
  uint64_t* block = words_.get() + (i / kBlockCodes) * kBlockWords;
  for (int k = 0; k < 4; ++k) block[k * kBlockCodes + i % kBlockCodes] = code[k];
}

Code256 CodeBlocks::Get(size_t i) const {
  Code256 code;
  for (int k = 0; k < 4; ++k) code[k] = BlockWord(words_.get(), i, k);
  return code;
}

void CodeBlocks::SwapRemove(size_t i) {
  if (i + 1 != size_) Set(i, Get(size_ - 1));
  Set(size_ - 1, Code256{});
  --size_;
}

}  // namespace optout::storage::internal
