#include "client/common/url/test_vectors.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/common/base/testing/testdata_path.h"

namespace optout::url::testing {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> UnescapeField(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out.push_back(field[i]);
      continue;
    }
    if (i + 1 >= field.size()) return absl::InvalidArgumentError("trailing backslash");
    const char e = field[++i];
    switch (e) {
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case '\\': out.push_back('\\'); break;
      case 'x': {
        if (i + 2 >= field.size()) {
          return absl::InvalidArgumentError("short \\x escape");
        }
        const int hi = Hex(field[i + 1]), lo = Hex(field[i + 2]);
        if (hi < 0 || lo < 0) return absl::InvalidArgumentError("bad \\x escape");
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      default:
        return absl::InvalidArgumentError(absl::StrCat("unknown escape \\", std::string(1, e)));
    }
  }
  return out;
}

absl::StatusOr<std::vector<VectorRow>> ReadVectors(const std::string& name) {
  const std::string path = optout::testing::TestDataPath("url/" + name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::vector<VectorRow> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": no TAB"));
    }
    VectorRow row;
    row.line = number;
    absl::StatusOr<std::string> input = UnescapeField(absl::string_view(line).substr(0, tab));
    absl::StatusOr<std::string> expected = UnescapeField(absl::string_view(line).substr(tab + 1));
    if (!input.ok()) return input.status();
    if (!expected.ok()) return expected.status();
    row.input = *std::move(input);
    row.expected = *std::move(expected);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace optout::url::testing
