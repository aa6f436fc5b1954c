#include "client/pdq/testing/reference_tables.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "client/common/base/testing/testdata_path.h"

namespace optout::pdq::testing {

std::string PdqTestdataDir() { return optout::testing::TestDataPath("pdq"); }

std::vector<std::vector<std::string>> ReadTsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    rows.push_back(absl::StrSplit(line, '\t'));
  }
  return rows;
}

std::vector<ExpectedHash> ReadExpected() {
  std::vector<ExpectedHash> out;
  const auto rows = ReadTsv(PdqTestdataDir() + "/expected.tsv");
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() < 3) continue;
    ExpectedHash e;
    e.file = rows[i][0];
    e.pdq_hex = rows[i][1];
    if (!absl::SimpleAtoi(rows[i][2], &e.quality)) e.quality = -1;
    out.push_back(e);
  }
  return out;
}

std::map<std::string, std::string> ReadDecodeNotes() {
  std::map<std::string, std::string> out;
  const auto rows = ReadTsv(PdqTestdataDir() + "/decode-notes.tsv");
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() >= 2) out[rows[i][0]] = rows[i][1];
  }
  return out;
}

}  // namespace optout::pdq::testing
