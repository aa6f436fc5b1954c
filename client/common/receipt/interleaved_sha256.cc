#include "client/common/receipt/interleaved_sha256.h"

#include <algorithm>
#include <cstring>

#include "client/common/digest/digest.h"

namespace optout::receipt {
namespace {

void StoreBigEndian64(uint64_t v, uint8_t* out) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<uint8_t>(v);
}

// SHA-256 of a lane whose first `absorbed` bytes (whole blocks) are in
// `state`, with `tail` (under two blocks' worth) still to come.
std::array<uint8_t, 32> FinishLane(digest::Sha256State state, uint64_t absorbed,
                                   const uint8_t* tail, size_t tail_size) {
  uint8_t last[2 * InterleavedSha256::kBlock] = {};
  std::memcpy(last, tail, tail_size);
  last[tail_size] = 0x80;
  const size_t blocks = tail_size + 1 + 8 <= InterleavedSha256::kBlock ? 1 : 2;
  StoreBigEndian64((absorbed + tail_size) * 8, last + blocks * InterleavedSha256::kBlock - 8);
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* block = last + b * InterleavedSha256::kBlock;
    digest::Sha256CompressMany(&state, &block, 1);
  }
  std::array<uint8_t, 32> out;
  for (size_t i = 0; i < 8; ++i) {
    for (size_t k = 0; k < 4; ++k) out[4 * i + k] = static_cast<uint8_t>(state[i] >> (24 - 8 * k));
  }
  return out;
}

}  // namespace

InterleavedSha256::InterleavedSha256() {
  for (digest::Sha256State& lane : lanes_) lane = digest::Sha256InitialState();
}

void InterleavedSha256::Absorb(const uint8_t* four_blocks) {
  const uint8_t* blocks[kLanes];
  for (size_t k = 0; k < kLanes; ++k) blocks[k] = four_blocks + k * kBlock;
  digest::Sha256CompressMany(lanes_, blocks, kLanes);
}

void InterleavedSha256::Update(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  length_ += n;
  constexpr size_t kRound = kLanes * kBlock;
  if (pending_size_ > 0) {
    const size_t take = std::min(n, kRound - pending_size_);
    std::memcpy(pending_ + pending_size_, p, take);
    pending_size_ += take;
    p += take;
    n -= take;
    if (pending_size_ < kRound) return;
    Absorb(pending_);
    pending_size_ = 0;
  }
  for (; n >= kRound; p += kRound, n -= kRound) Absorb(p);
  std::memcpy(pending_, p, n);
  pending_size_ = n;
}

std::array<uint8_t, 32> InterleavedSha256::Finish() const {
  // Every lane has absorbed the same number of whole blocks; the pending
  // bytes continue at lane 0.
  const uint64_t absorbed = (length_ - pending_size_) / kLanes;
  uint8_t outer[8 + kLanes * 32];
  uint64_t length = length_;
  for (int i = 0; i < 8; ++i, length >>= 8) outer[i] = static_cast<uint8_t>(length);
  for (size_t k = 0; k < kLanes; ++k) {
    const size_t begin = std::min(pending_size_, k * kBlock);
    const size_t end = std::min(pending_size_, (k + 1) * kBlock);
    const std::array<uint8_t, 32> lane = FinishLane(lanes_[k], absorbed, pending_ + begin, end - begin);
    std::memcpy(outer + 8 + 32 * k, lane.data(), 32);
  }
  const digest::Sha256Digest d =
      digest::Sha256(absl::string_view(reinterpret_cast<const char*>(outer), sizeof(outer)));
  std::array<uint8_t, 32> out;
  std::memcpy(out.data(), d.data(), 32);
  return out;
}

void InterleavedSha256::Save(std::string* out) const {
  const size_t start = out->size();
  const size_t size = length_ == 0 ? 8 : 8 + kLanes * 32 + pending_size_;
  out->resize(start + size);
  char* at = out->data() + start;
  std::memcpy(at, &length_, 8);
  if (length_ == 0) return;
  at += 8;
  for (const digest::Sha256State& lane : lanes_) {
    std::memcpy(at, lane.data(), 32);
    at += 32;
  }
  std::memcpy(at, pending_, pending_size_);
}

size_t InterleavedSha256::Restore(const char* state, size_t size) {
  uint64_t length = 0;
  if (size < 8) return 0;
  std::memcpy(&length, state, 8);
  if (length == 0) {
    *this = InterleavedSha256();
    return 8;
  }
  // The pending round is what the length leaves after whole rounds.
  const size_t pending = static_cast<size_t>(length % sizeof(pending_));
  const size_t taken = 8 + kLanes * 32 + pending;
  if (size < taken) return 0;
  state += 8;
  for (digest::Sha256State& lane : lanes_) {
    std::memcpy(lane.data(), state, 32);
    state += 32;
  }
  std::memcpy(pending_, state, pending);
  pending_size_ = pending;
  length_ = length;
  return taken;
}

bool InterleavedSha256::RestoreLegacy(const char* state) {
  uint64_t pending = 0, length = 0;
  std::memcpy(&pending, state + kLanes * 32, 8);
  std::memcpy(&length, state + kLanes * 32 + 8, 8);
  if (pending >= sizeof(pending_) || pending != length % sizeof(pending_)) return false;
  for (digest::Sha256State& lane : lanes_) {
    std::memcpy(lane.data(), state, 32);
    state += 32;
  }
  pending_size_ = pending;
  length_ = length;
  std::memcpy(pending_, state + 16, sizeof(pending_));
  return true;
}

}  // namespace optout::receipt
