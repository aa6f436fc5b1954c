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

// Non-null values among levels [begin, end) of `def`.
size_t ValuesIn(const std::vector<uint8_t>& def, int max_def, size_t begin, size_t end) {
  size_t n = 0;
  for (size_t i = begin; i < end; ++i) n += def[i] == max_def;
  return n;
}

// FilterRows for a column without repetition (a level slot per row): runs
// of kept rows are copied whole, so a row group that loses a few rows of
// 100,000 costs a few memcpy calls per column rather than a push per value.
ColumnData FilterFlatRows(const ColumnData& in, int max_def, const RowRuns& runs) {
  ColumnData out;
  out.type = in.type;
  out.width = in.width;
  const size_t rows = in.num_levels;
  size_t kept_rows = 0;
  for (const auto& [begin, end] : runs) {
    if (begin < rows) kept_rows += std::min(end, rows) - begin;
  }
  if (max_def > 0) out.def.reserve(kept_rows);
  if (in.width > 0) {
    out.fixed.reserve(kept_rows * in.width);
  } else {
    out.offsets.reserve(kept_rows + 1);
    out.bytes.reserve(in.bytes.size());
  }
  size_t value = 0;    // index of the first value at or after level `counted`
  size_t counted = 0;  // levels whose values are counted in `value`
  for (const auto& [begin, run_end] : runs) {
    if (begin >= rows) break;
    const size_t end = std::min(run_end, rows);
    size_t values = end - begin;
    if (max_def > 0) {
      value += ValuesIn(in.def, max_def, counted, begin);
      values = ValuesIn(in.def, max_def, begin, end);
      out.def.insert(out.def.end(), in.def.begin() + begin, in.def.begin() + end);
    } else {
      value = begin;
    }
    out.num_levels += end - begin;
    if (in.width > 0) {
      out.fixed.append(in.fixed, value * in.width, values * in.width);
    } else if (values > 0) {
      const uint64_t from = in.offsets[value], to = in.offsets[value + values];
      const uint64_t shift = out.bytes.size() - from;
      out.bytes.append(in.bytes, from, to - from);
      for (size_t v = value + 1; v <= value + values; ++v) out.offsets.push_back(in.offsets[v] + shift);
    }
    out.num_values += values;
    value += values;
    counted = end;
  }
  return out;
}

}  // namespace

RowRuns KeptRuns(const std::vector<bool>& keep) {
  RowRuns runs;
  for (size_t r = 0; r < keep.size();) {
    if (!keep[r]) {
      ++r;
      continue;
    }
    size_t end = r + 1;
    while (end < keep.size() && keep[end]) ++end;
    runs.emplace_back(r, end);
    r = end;
  }
  return runs;
}

ColumnData FilterRows(const ColumnData& in, int max_def, int max_rep,
                      const std::vector<bool>& keep, const RowRuns* runs) {
  if (max_rep == 0) return FilterFlatRows(in, max_def, runs != nullptr ? *runs : KeptRuns(keep));
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
