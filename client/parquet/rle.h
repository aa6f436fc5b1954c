// File: client/parquet/rle.h
//
// Parquet's RLE / bit-packing hybrid (definition and repetition levels,
// dictionary indices, RLE booleans) and the deprecated BIT_PACKED level
// encoding. Decoding never reads past `in` and never writes more than it is
// asked for; a run that claims more values than the input holds is DataLoss.
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_PARQUET_RLE_H_
#define OPTOUT_CLIENT_PARQUET_RLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace optout::parquet {

// Bits needed for values 0..max_value (0 for 0).
int BitWidth(uint64_t max_value);

// Decodes exactly `count` values of `bit_width` (0..32) bits from the
// hybrid encoding in `in` (no length prefix) and appends them to *out.
absl::Status DecodeHybrid(absl::string_view in, int bit_width, size_t count,
                          std::vector<uint32_t>* out);
// The same into 8-bit levels (bit_width <= 8).
absl::Status DecodeLevels(absl::string_view in, int bit_width, size_t count,
                          std::vector<uint8_t>* out);
// BIT_PACKED (deprecated, most significant bit first) levels.
absl::Status DecodeBitPackedLevels(absl::string_view in, int bit_width, size_t count,
                                   std::vector<uint8_t>* out);

// Appends the hybrid encoding of `values` (no length prefix) to *out.
void EncodeHybrid(const uint32_t* values, size_t count, int bit_width, std::string* out);
void EncodeLevels(const uint8_t* values, size_t count, int bit_width, std::string* out);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_RLE_H_
