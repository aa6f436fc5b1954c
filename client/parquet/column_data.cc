#include "client/parquet/column_data.h"

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

ColumnData FilterRows(const ColumnData& in, int max_def, int max_rep,
                      const std::vector<bool>& keep) {
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
