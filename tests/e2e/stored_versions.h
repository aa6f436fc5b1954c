// File: tests/e2e/stored_versions.h
//
// What a stopped optoutd's data folder holds, for the key rotation tests
// (single node and cluster): how many stored records are of each key
// version.
#ifndef OPTOUT_TESTS_E2E_STORED_VERSIONS_H_
#define OPTOUT_TESTS_E2E_STORED_VERSIONS_H_

#include <cstdint>
#include <map>
#include <string>

namespace optout::testing {

// Key version -> records of it in the RocksDB at `data_dir` (its optoutd
// stopped). A folder that cannot be opened or read fails the test (and
// gives what was read).
std::map<uint32_t, int> StoredVersions(const std::string& data_dir);

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_STORED_VERSIONS_H_
