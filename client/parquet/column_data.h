// File: client/parquet/column_data.h
//
// One column chunk decoded: its levels and its non-null values, in the
// layout every encoding is decoded into and encoded from. Fixed-width
// values are kept as their little-endian PLAIN bytes (booleans one byte
// each); byte arrays as one buffer with offsets. Value type.
#ifndef OPTOUT_CLIENT_PARQUET_COLUMN_DATA_H_
#define OPTOUT_CLIENT_PARQUET_COLUMN_DATA_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/parquet/format.h"

namespace optout::parquet {

// Bytes per value of a fixed-width type (BOOLEAN: 1 here); 0 for BYTE_ARRAY.
int ValueWidth(PhysicalType type, int type_length);

struct ColumnData {
  PhysicalType type = PhysicalType::kByteArray;
  int width = 0;  // ValueWidth()
  // One entry per level slot (a row, when the column is flat). Empty when
  // the column's max level is 0.
  std::vector<uint8_t> def, rep;
  size_t num_levels = 0;
  size_t num_values = 0;  // non-null values
  std::string fixed;                    // num_values * width bytes
  std::vector<uint64_t> offsets{0};     // BYTE_ARRAY: num_values + 1
  std::string bytes;                    // BYTE_ARRAY contents

  absl::string_view Value(size_t i) const {
    if (width > 0) return absl::string_view(fixed).substr(i * width, width);
    return absl::string_view(bytes).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  void AppendValue(absl::string_view v) {
    if (width > 0) {
      fixed.append(v.data(), v.size());
    } else {
      bytes.append(v.data(), v.size());
      offsets.push_back(bytes.size());
    }
    ++num_values;
  }
};

// A dictionary page exactly as a file stores it (header and compressed
// body), so that a rewritten chunk can keep it rather than build it again.
struct StoredDictionary {
  std::string page;
  int64_t uncompressed_bytes = 0;  // header + uncompressed body
  size_t values = 0;
  int encoding = 0;  // as its header says (PLAIN or PLAIN_DICTIONARY)
};

// The rows of `in` whose `keep[row]` is true (one flag per row of the row
// group), levels and values alike. Rows start where the repetition level is
// 0 (every level slot, for a column without repetition).
// `runs`, when given, must be KeptRuns(keep): a row group's columns share
// it, so the flags are scanned once rather than once per column.
using RowRuns = std::vector<std::pair<size_t, size_t>>;
ColumnData FilterRows(const ColumnData& in, int max_def, int max_rep,
                      const std::vector<bool>& keep, const RowRuns* runs = nullptr);

// The runs [begin, end) of rows whose `keep` flag is set, in order.
RowRuns KeptRuns(const std::vector<bool>& keep);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_COLUMN_DATA_H_
