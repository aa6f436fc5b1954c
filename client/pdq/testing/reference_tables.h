// File: client/pdq/testing/reference_tables.h
//
// Readers for tests/testdata/pdq/*.tsv (reference PDQ values). For tests and
// benchmarks; the root comes from $OPTOUT_TESTDATA (set by optout_add_test).
#ifndef OPTOUT_CLIENT_PDQ_TESTING_REFERENCE_TABLES_H_
#define OPTOUT_CLIENT_PDQ_TESTING_REFERENCE_TABLES_H_

#include <map>
#include <string>
#include <vector>

namespace optout::pdq::testing {

// $OPTOUT_TESTDATA/pdq, or "tests/testdata/pdq" when unset.
std::string PdqTestdataDir();

// Rows of a tab-separated file, header row first; empty if unreadable.
std::vector<std::vector<std::string>> ReadTsv(const std::string& path);

// expected.tsv: file -> (pdq_hex, quality).
struct ExpectedHash {
  std::string file;  // relative to PdqTestdataDir()
  std::string pdq_hex;
  int quality = 0;
};
std::vector<ExpectedHash> ReadExpected();

// decode-notes.tsv: file -> category.
std::map<std::string, std::string> ReadDecodeNotes();

}  // namespace optout::pdq::testing

#endif  // OPTOUT_CLIENT_PDQ_TESTING_REFERENCE_TABLES_H_
