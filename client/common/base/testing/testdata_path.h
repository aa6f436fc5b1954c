// File: client/common/base/testing/testdata_path.h
//
// Where tests and benchmarks find tests/testdata: $OPTOUT_TESTDATA (which
// optout_add_test sets, so a test runs from any folder), else the relative
// path, which works from the repository root. Header-only: libraries for
// tests in every folder use it without a link dependency.
#ifndef OPTOUT_CLIENT_COMMON_BASE_TESTING_TESTDATA_PATH_H_
#define OPTOUT_CLIENT_COMMON_BASE_TESTING_TESTDATA_PATH_H_

#include <cstdlib>
#include <string>

namespace optout::testing {

// Path of a file or folder under tests/testdata, e.g.
// TestDataPath("pdq/images/d01_plasma__orig.jpg").
inline std::string TestDataPath(const std::string& relative) {
  const char* root = std::getenv("OPTOUT_TESTDATA");
  return std::string(root != nullptr && *root != '\0' ? root : "tests/testdata") + "/" + relative;
}

}  // namespace optout::testing

#endif  // OPTOUT_CLIENT_COMMON_BASE_TESTING_TESTDATA_PATH_H_
