#include "client/parquet/column_data.h"

#include <algorithm>

namespace optout::parquet {

int ValueWidth(PhysicalType type, int type_length) {
  switch (type) {
    case PhysicalType::kBoolean: return 1;
    case PhysicalType::kInt32:
    case PhysicalType::kFloat: return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble: return 8;
    case PhysicalType::kInt96: return 12;
    case PhysicalType::kFixedLenByteArray: return type_length;
    case PhysicalType::kByteArray: return 0;
  }
  return 0;
}

namespace {

// FilterRows for a column without repetition (a level slot per row): runs
// of kept rows are copied whole, so a row group that loses a few rows of
// 100,000 costs a few memcpy calls per column rather than a push per value.
ColumnData FilterFlatRows(const ColumnData& in, int max_def, const std::vector<bool>& keep) {
  ColumnData out;
  out.type = in.type;
  out.width = in.width;
  const size_t rows = std::min(in.num_levels, keep.size());
  size_t kept_rows = 0;
  for (size_t r = 0; r < rows; ++r) kept_rows += keep[r];
  if (max_def > 0) out.def.reserve(kept_rows);
  if (in.width > 0) {
    out.fixed.reserve(kept_rows * in.width);
  } else {
    out.offsets.reserve(kept_rows + 1);
    out.bytes.reserve(in.bytes.size());
  }
  size_t value = 0;  // index of the first value at or after row r
  for (size_t r = 0; r < rows;) {
    size_t end = r;
    const bool kept = keep[r];
    while (end < rows && keep[end] == kept) ++end;
    size_t values = end - r;
    if (max_def > 0) {
      values = 0;
      for (size_t i = r; i < end; ++i) values += in.def[i] == max_def;
    }
    if (kept) {
      if (max_def > 0) out.def.insert(out.def.end(), in.def.begin() + r, in.def.begin() + end);
      out.num_levels += end - r;
      if (in.width > 0) {
        out.fixed.append(in.fixed, value * in.width, values * in.width);
      } else if (values > 0) {
        const uint64_t from = in.offsets[value], to = in.offsets[value + values];
        const uint64_t shift = out.bytes.size() - from;
        out.bytes.append(in.bytes, from, to - from);
        for (size_t v = value + 1; v <= value + values; ++v) out.offsets.push_back(in.offsets[v] + shift);
      }
      out.num_values += values;
    }
    value += values;
    r = end;
  }
  return out;
}

}  // namespace

ColumnData FilterRows(const ColumnData& in, int max_def, int max_rep,
                      const std::vector<bool>& keep) {
  if (max_rep == 0) return FilterFlatRows(in, max_def, keep);
  ColumnData out;
  out.type = in.type;
  out.width = in.width;
  size_t value = 0;
  int64_t row = -1;
  bool kept = false;
  for (size_t i = 0; i < in.num_levels; ++i) {
    if (max_rep == 0 || in.rep[i] == 0) {
      ++row;
      kept = static_cast<size_t>(row) < keep.size() && keep[row];
    }
    const bool has_value = max_def == 0 || in.def[i] == max_def;
    if (kept) {
      if (max_def > 0) out.def.push_back(in.def[i]);
      if (max_rep > 0) out.rep.push_back(in.rep[i]);
      ++out.num_levels;
      if (has_value) out.AppendValue(in.Value(value));
    }
    if (has_value) ++value;
  }
  return out;
}

}  // namespace optout::parquet
