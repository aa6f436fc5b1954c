// File: tests/e2e/test_inputs.h
//
// Inputs that pass the registry's request rules, for tests that build
// requests by hand: request ids with 128 bits that look random, and random
// PDQ hashes with exactly half their bits set, as real ones have (a random
// 32-byte string strays outside the accepted popcount about once in 15,000).
#ifndef OPTOUT_TESTS_E2E_TEST_INPUTS_H_
#define OPTOUT_TESTS_E2E_TEST_INPUTS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "client/common/digest/digest.h"

namespace optout::testing {

// 32 hex digits derived from `name`: distinct names give distinct ids, and
// the same name the same id (for retries).
inline std::string RequestIdFor(absl::string_view name) {
  return digest::ToHex(digest::AsStringView(digest::Sha256(name)).substr(0, 16));
}

// 16 random bytes, each followed by its complement: 128 of 256 bits set.
template <typename Rng>
std::string BalancedRandomPdq(Rng& rng) {
  std::string hash(32, '\0');
  for (size_t i = 0; i < hash.size(); i += 2) {
    const auto byte = static_cast<uint8_t>(rng());
    hash[i] = static_cast<char>(byte);
    hash[i + 1] = static_cast<char>(~byte);
  }
  return hash;
}

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_TEST_INPUTS_H_
