// File: storage/testing/code_generators.h
//
// Deterministic code sets for HammingIndex tests and benchmarks: uniform
// random codes, clustered codes (many near-duplicates around random centres,
// with a few large clusters, as real PDQ collections have), exact bit flips,
// and the shared PDQ corpus hashes.
//
// Thread-safety: CodeRng is not thread-safe; the free functions are.
#ifndef OPTOUT_STORAGE_TESTING_CODE_GENERATORS_H_
#define OPTOUT_STORAGE_TESTING_CODE_GENERATORS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/code256.h"

namespace optout::storage::testing {

// splitmix64: fast, seedable, good enough for test data.
class CodeRng {
 public:
  explicit CodeRng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, n), n > 0.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((Next() >> 32) * n >> 32); }
  Code256 Code() { return {Next(), Next(), Next(), Next()}; }

 private:
  uint64_t state_;
};

// `code` with exactly k distinct bits flipped (0 <= k <= 256).
Code256 FlipBits(const Code256& code, int k, CodeRng& rng);

std::vector<Code256> UniformCodes(size_t n, uint64_t seed);

struct ClusterOptions {
  // Mean members per ordinary cluster; 1 in 10 clusters is 10x larger.
  size_t mean_cluster_size = 16;
  // Members differ from their centre by 0..max_flips bits (uniform).
  int max_flips = 24;
};
std::vector<Code256> ClusteredCodes(size_t n, uint64_t seed,
                                    ClusterOptions options = {});

// `count` queries against `stored`: half are stored codes with 0..20 bits
// flipped (near-duplicate checks), half fresh random codes.
std::vector<Code256> MixedQueries(const std::vector<Code256>& stored,
                                  size_t count, uint64_t seed);

// The pdq_hex column of tests/testdata/pdq/expected.tsv, found through
// $OPTOUT_TESTDATA (else ./tests/testdata). NotFound when missing.
absl::StatusOr<std::vector<Code256>> LoadPdqCorpus();

// Reference answer: indices i with HammingDistance(codes[i], query) <= r.
std::vector<uint64_t> PlainScan(const std::vector<Code256>& codes,
                                const Code256& query, int radius);

}  // namespace optout::storage::testing

#endif  // OPTOUT_STORAGE_TESTING_CODE_GENERATORS_H_
