#include "client/parquet/column_data.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace optout::parquet {
namespace {

// The rows of a flat column, one at a time: what FilterRows must equal.
ColumnData KeepRowByRow(const ColumnData& in, int max_def, const std::vector<bool>& keep) {
  ColumnData out;
  out.type = in.type;
  out.width = in.width;
  size_t value = 0;
  for (size_t row = 0; row < in.num_levels; ++row) {
    const bool has_value = max_def == 0 || in.def[row] == max_def;
    if (row < keep.size() && keep[row]) {
      if (max_def > 0) out.def.push_back(in.def[row]);
      ++out.num_levels;
      if (has_value) out.AppendValue(in.Value(value));
    }
    if (has_value) ++value;
  }
  return out;
}

ColumnData RandomColumn(std::mt19937& rng, PhysicalType type, int width, bool optional,
                        size_t rows) {
  ColumnData c;
  c.type = type;
  c.width = width;
  for (size_t r = 0; r < rows; ++r) {
    if (optional) {
      c.def.push_back(rng() % 4 == 0 ? 0 : 1);
      if (c.def.back() == 0) {
        ++c.num_levels;
        continue;
      }
    }
    ++c.num_levels;
    std::string v(width > 0 ? width : rng() % 40, '\0');
    for (char& ch : v) ch = static_cast<char>(rng());
    c.AppendValue(v);
  }
  return c;
}

void ExpectEqual(const ColumnData& a, const ColumnData& b, const std::string& what) {
  EXPECT_EQ(a.num_levels, b.num_levels) << what;
  EXPECT_EQ(a.num_values, b.num_values) << what;
  EXPECT_EQ(a.def, b.def) << what;
  EXPECT_EQ(a.rep, b.rep) << what;
  EXPECT_EQ(a.fixed, b.fixed) << what;
  EXPECT_EQ(a.offsets, b.offsets) << what;
  EXPECT_EQ(a.bytes, b.bytes) << what;
}

// Flat columns are filtered run by run; every layout and keep pattern
// (none, all, alternating, sparse losses, a keep list shorter than the
// column) must give what keeping row by row gives.
TEST(FilterRowsTest, FlatColumnsEqualRowByRowFiltering) {
  std::mt19937 rng(3);
  const size_t rows = 300;
  std::vector<std::vector<bool>> patterns = {std::vector<bool>(rows, false),
                                             std::vector<bool>(rows, true),
                                             std::vector<bool>(rows / 2, true)};
  std::vector<bool> alternate(rows), sparse(rows, true), random(rows);
  for (size_t r = 0; r < rows; ++r) {
    alternate[r] = r % 2 == 0;
    random[r] = rng() % 3 != 0;
  }
  sparse[0] = sparse[17] = sparse[18] = sparse[rows - 1] = false;
  patterns.push_back(alternate);
  patterns.push_back(sparse);
  patterns.push_back(random);
  struct Layout {
    PhysicalType type;
    int width;
  };
  for (const Layout& layout : {Layout{PhysicalType::kByteArray, 0}, Layout{PhysicalType::kInt64, 8},
                               Layout{PhysicalType::kBoolean, 1},
                               Layout{PhysicalType::kFixedLenByteArray, 16}}) {
    for (bool optional : {false, true}) {
      const ColumnData in = RandomColumn(rng, layout.type, layout.width, optional, rows);
      for (size_t p = 0; p < patterns.size(); ++p) {
        ExpectEqual(FilterRows(in, optional ? 1 : 0, 0, patterns[p]),
                    KeepRowByRow(in, optional ? 1 : 0, patterns[p]),
                    "width " + std::to_string(layout.width) + (optional ? " optional" : " required") +
                        " pattern " + std::to_string(p));
        // The same with the runs a row group's columns share.
        const RowRuns runs = KeptRuns(patterns[p]);
        ExpectEqual(FilterRows(in, optional ? 1 : 0, 0, patterns[p], &runs),
                    KeepRowByRow(in, optional ? 1 : 0, patterns[p]),
                    "with runs, pattern " + std::to_string(p));
      }
    }
  }
}

}  // namespace
}  // namespace optout::parquet
