// File: tests/e2e/test_files.h
//
// Whole-file reads and writes for end-to-end tests (outputs, logs, data-folder scans).
#ifndef OPTOUT_TESTS_E2E_TEST_FILES_H_
#define OPTOUT_TESTS_E2E_TEST_FILES_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace optout::testing {

// The file's bytes; empty when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Writes `bytes` to `path` (replacing it).
inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// tests/interop (the npm Parquet reader and writer): beside OPTOUT_TESTDATA
// (ctest sets it), so a test binary run from the build folder finds it too;
// without it, relative to the working directory (the repository's root).
inline std::string InteropDir() {
  const char* testdata = std::getenv("OPTOUT_TESTDATA");
  return testdata != nullptr && *testdata != '\0' ? std::string(testdata) + "/../interop"
                                                   : "tests/interop";
}

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_TEST_FILES_H_
