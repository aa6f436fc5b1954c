// File: tests/e2e/test_inputs.h
//
// Inputs that pass the registry's request rules, for tests that build
// requests by hand: request ids with 128 bits that look random, and random
// PDQ hashes with exactly half their bits set, as real ones have (a random
// 32-byte string strays outside the accepted popcount about once in 15,000),
// and packed MD5 batches of numbered rows for the check-session tests.
#ifndef OPTOUT_TESTS_E2E_TEST_INPUTS_H_
#define OPTOUT_TESTS_E2E_TEST_INPUTS_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/common/digest/digest.h"
#include "optout/v1/optout.pb.h"

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

// The MD5 (16 raw bytes) of row `row`'s made-up image bytes.
inline std::string Md5Of(uint64_t row) {
  const auto d = digest::Md5(absl::StrCat("image bytes of row ", row));
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// `n` MD5 items from row `first` on, packed.
inline v1::CheckRequest Md5Batch(uint64_t first, int n) {
  v1::CheckRequest r;
  v1::PackedItems* p = r.add_packed();
  p->set_kind(v1::PackedItems::KIND_MD5);
  for (int i = 0; i < n; ++i) p->mutable_data()->append(Md5Of(first + i));
  return r;
}

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_TEST_INPUTS_H_
