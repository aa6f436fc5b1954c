// File: client/parquet/parquet_test_util.h
//
// Small files for the parquet tests: a flat table of every physical type
// with nulls, and a list column, written with this library.
#ifndef OPTOUT_CLIENT_PARQUET_PARQUET_TEST_UTIL_H_
#define OPTOUT_CLIENT_PARQUET_PARQUET_TEST_UTIL_H_

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/parquet/parquet_writer.h"

namespace optout::parquet::testing {

// Column i of row r: deterministic values, every 7th optional value null.
inline std::vector<NewColumn> SampleColumns() {
  return {{"url", PhysicalType::kByteArray, true, true},
          {"id", PhysicalType::kInt64, false},
          {"score", PhysicalType::kDouble, true},
          {"ok", PhysicalType::kBoolean, true},
          {"md5", PhysicalType::kFixedLenByteArray, true, false, 16},
          {"width", PhysicalType::kInt32, true}};
}

inline bool IsNull(int column, int64_t row) { return column != 1 && (row + column) % 7 == 0; }

inline std::string SampleValue(int column, int64_t row) {
  auto fixed = [](auto v) { return std::string(reinterpret_cast<const char*>(&v), sizeof(v)); };
  switch (column) {
    case 0: return absl::StrCat("https://example.org/img/", row % 50, "/", row, ".jpg");
    case 1: return fixed(static_cast<int64_t>(row * 3));
    case 2: return fixed(row * 0.5);
    case 3: return std::string(1, static_cast<char>(row % 3 == 0));
    case 4: return std::string(16, static_cast<char>('a' + row % 26));
    default: return fixed(static_cast<int32_t>(row % 1000));
  }
}

inline std::vector<ColumnData> SampleRows(const FileMetadata& schema, int64_t first, int64_t rows) {
  std::vector<ColumnData> columns;
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    const ColumnDescriptor& d = schema.columns[c];
    ColumnData data;
    data.type = d.type;
    data.width = ValueWidth(d.type, d.type_length);
    for (int64_t r = first; r < first + rows; ++r) {
      const bool null = IsNull(static_cast<int>(c), r);
      if (d.max_def > 0) data.def.push_back(null ? 0 : 1);
      ++data.num_levels;
      if (!null) data.AppendValue(SampleValue(static_cast<int>(c), r));
    }
    columns.push_back(std::move(data));
  }
  return columns;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace optout::parquet::testing

#endif  // OPTOUT_CLIENT_PARQUET_PARQUET_TEST_UTIL_H_
