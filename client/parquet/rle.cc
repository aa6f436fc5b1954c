#include "client/parquet/rle.h"

#include <algorithm>

namespace optout::parquet {
namespace {

bool ReadVarint(absl::string_view in, size_t* pos, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= in.size()) return false;
    const uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Shared by the 32-bit and 8-bit decoders.
template <typename T>
absl::Status Hybrid(absl::string_view in, int bit_width, size_t count, std::vector<T>* out) {
  if (bit_width < 0 || bit_width > 32) return absl::DataLossError("bad bit width");
  const size_t target = out->size() + count;
  if (bit_width == 0) {
    // Every value is 0 and takes no bits (a one-entry dictionary).
    out->resize(target, 0);
    return absl::OkStatus();
  }
  const size_t value_bytes = (bit_width + 7) / 8;
  const uint64_t mask = bit_width == 32 ? 0xffffffffull : (1ull << bit_width) - 1;
  size_t pos = 0;
  while (out->size() < target) {
    uint64_t header;
    if (!ReadVarint(in, &pos, &header)) return absl::DataLossError("levels or indices cut short");
    const size_t want = target - out->size();
    if (header & 1) {
      const uint64_t groups = header >> 1;
      if (groups == 0 || groups > (in.size() - pos) / static_cast<uint64_t>(bit_width)) {
        return absl::DataLossError("bit-packed run longer than its page");
      }
      const size_t values = static_cast<size_t>(std::min<uint64_t>(groups * 8, want));
      const unsigned char* p = reinterpret_cast<const unsigned char*>(in.data()) + pos;
      uint64_t bit = 0;
      for (size_t i = 0; i < values; ++i, bit += bit_width) {
        // Values are packed from the least significant bit up; read the
        // (at most five) bytes one value spans.
        const size_t byte = bit >> 3;
        uint64_t word = 0;
        const size_t span = ((bit & 7) + bit_width + 7) / 8;
        for (size_t k = 0; k < span; ++k) word |= static_cast<uint64_t>(p[byte + k]) << (8 * k);
        out->push_back(static_cast<T>((word >> (bit & 7)) & mask));
      }
      pos += groups * bit_width;
    } else {
      const uint64_t run = header >> 1;
      if (value_bytes > in.size() - pos) return absl::DataLossError("RLE run cut short");
      uint64_t value = 0;
      for (size_t k = 0; k < value_bytes; ++k) {
        value |= static_cast<uint64_t>(static_cast<uint8_t>(in[pos + k])) << (8 * k);
      }
      pos += value_bytes;
      if (run == 0) continue;
      if (value > mask) return absl::DataLossError("RLE value wider than its bit width");
      out->resize(out->size() + static_cast<size_t>(std::min<uint64_t>(run, want)),
                  static_cast<T>(value));
    }
  }
  return absl::OkStatus();
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

template <typename T>
void Encode(const T* values, size_t count, int bit_width, std::string* out) {
  const size_t value_bytes = (bit_width + 7) / 8;
  auto run_at = [&](size_t i) {
    size_t j = i + 1;
    while (j < count && values[j] == values[i]) ++j;
    return j - i;
  };
  // Runs of 8 or more repeat; anything else is bit-packed in groups of 8
  // (only the last group of the data may be padded, since a reader takes
  // every value of a group).
  constexpr size_t kMaxGroups = 63;
  size_t i = 0;
  while (i < count) {
    const size_t run = run_at(i);
    if (run >= 8) {
      PutVarint(static_cast<uint64_t>(run) << 1, out);
      for (size_t k = 0; k < value_bytes; ++k) {
        out->push_back(static_cast<char>((static_cast<uint64_t>(values[i]) >> (8 * k)) & 0xff));
      }
      i += run;
      continue;
    }
    const size_t start = i;
    size_t groups = 0;
    do {
      i = std::min(count, i + 8);
      ++groups;
    } while (i < count && groups < kMaxGroups && run_at(i) < 8);
    PutVarint((groups << 1) | 1, out);
    const size_t base = out->size();
    out->resize(base + groups * bit_width, 0);
    unsigned char* p = reinterpret_cast<unsigned char*>(out->data()) + base;
    uint64_t bit = 0;
    for (size_t k = start; k < i; ++k, bit += bit_width) {
      const uint64_t v = static_cast<uint64_t>(values[k]) << (bit & 7);
      for (size_t b = 0; b * 8 < (bit & 7) + bit_width; ++b) p[(bit >> 3) + b] |= (v >> (8 * b)) & 0xff;
    }
  }
}

}  // namespace

int BitWidth(uint64_t max_value) {
  int bits = 0;
  while (max_value != 0) {
    ++bits;
    max_value >>= 1;
  }
  return bits;
}

absl::Status DecodeHybrid(absl::string_view in, int bit_width, size_t count,
                          std::vector<uint32_t>* out) {
  return Hybrid(in, bit_width, count, out);
}

absl::Status DecodeLevels(absl::string_view in, int bit_width, size_t count,
                          std::vector<uint8_t>* out) {
  if (bit_width > 8) return absl::DataLossError("level bit width above 8");
  return Hybrid(in, bit_width, count, out);
}

absl::Status DecodeBitPackedLevels(absl::string_view in, int bit_width, size_t count,
                                   std::vector<uint8_t>* out) {
  if (bit_width < 0 || bit_width > 8) return absl::DataLossError("level bit width above 8");
  if ((static_cast<uint64_t>(count) * bit_width + 7) / 8 > in.size()) {
    return absl::DataLossError("bit-packed levels cut short");
  }
  uint64_t bit = 0;
  for (size_t i = 0; i < count; ++i) {
    uint32_t v = 0;
    for (int b = 0; b < bit_width; ++b, ++bit) {
      const uint8_t byte = static_cast<uint8_t>(in[bit >> 3]);
      v = (v << 1) | ((byte >> (7 - (bit & 7))) & 1);
    }
    out->push_back(static_cast<uint8_t>(v));
  }
  return absl::OkStatus();
}

void EncodeHybrid(const uint32_t* values, size_t count, int bit_width, std::string* out) {
  Encode(values, count, bit_width, out);
}

void EncodeLevels(const uint8_t* values, size_t count, int bit_width, std::string* out) {
  Encode(values, count, bit_width, out);
}

}  // namespace optout::parquet
