// File: client/common/url/test_vectors.h
//
// Test helper: reads the TSV vector files (URL_RULES.md#test-vectors).
#ifndef OPTOUT_CLIENT_COMMON_URL_TEST_VECTORS_H_
#define OPTOUT_CLIENT_COMMON_URL_TEST_VECTORS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::url::testing {

struct VectorRow {
  int line = 0;
  std::string input;
  std::string expected;
};

// Undoes the field escaping of URL_RULES.md#test-vectors (\t \n \r \\ \xHH).
absl::StatusOr<std::string> UnescapeField(absl::string_view field);

// Reads $OPTOUT_TESTDATA/url/<name> (or tests/testdata/url/<name>): comment
// and blank lines skipped, both columns unescaped.
absl::StatusOr<std::vector<VectorRow>> ReadVectors(const std::string& name);

}  // namespace optout::url::testing

#endif  // OPTOUT_CLIENT_COMMON_URL_TEST_VECTORS_H_
