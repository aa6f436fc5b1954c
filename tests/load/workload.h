// File: tests/load/workload.h
//
// Workload: the deterministic opt-outs and check items of optout-bench. Every
// value is a pure function of (seed, index), so a registry populated once can
// be checked later by another run with the same seed, and each run knows in
// advance which of its check items must match.
//
//   opt-out i:     URL https://img<i%5>.site<i%100000>.com/u/<i%1000>/p-<hex>.jpg?s=<i%4>
//                  and a PDQ hash (uniform random 256 bits);
//   check item j:  a hit (with probability match_fraction) repeats the URL of
//                  a stored opt-out, or its PDQ hash with a few bits flipped;
//                  a miss is a URL of the same shape (same expressions count)
//                  that no opt-out holds, or a fresh random PDQ hash.
//
// Immutable after construction; thread-safe.
#ifndef OPTOUT_TESTS_LOAD_WORKLOAD_H_
#define OPTOUT_TESTS_LOAD_WORKLOAD_H_

#include <array>
#include <cstdint>
#include <string>

#include "optout/v1/optout.pb.h"

namespace optout::load {

using Code = std::array<uint8_t, 32>;

struct WorkloadOptions {
  // Seed of every generated value. Default: 1.
  uint64_t seed = 1;
  // Opt-outs 0..stored-1 of this seed are in the registry; hits pick among
  // them. 0 means none are known, so every check item is a miss. Default: 0.
  uint64_t stored = 0;
  // Share of check items that repeat a stored opt-out, 0..1. Default: 0.1.
  double match_fraction = 0.1;
  // Bits flipped in a hit's PDQ hash (must stay within the server's
  // pdq_threshold to match). Default: 8.
  int pdq_flip_bits = 8;
};

class Workload final {
 public:
  explicit Workload(const WorkloadOptions& options) : options_(options) {}

  // Registration of opt-out `i`. `run` distinguishes runs that must create
  // new opt-outs (register mode) from populate, whose empty `run` makes a
  // repeated populate an idempotent retry of the same requests.
  v1::RegisterRequest Registration(uint64_t i, const std::string& run, bool with_pdq) const;
  std::string RegisteredUrl(uint64_t i, const std::string& run = "") const;
  Code RegisteredPdq(uint64_t i, const std::string& run = "") const;

  // Whether check item `j` is meant to match, and the URL / PDQ hash it sends.
  bool IsHit(uint64_t j) const;
  std::string CheckUrl(uint64_t j) const;
  Code CheckPdq(uint64_t j) const;
  // A random code for the dihedral slot `k` (0..7) of check item `j`.
  Code DihedralFiller(uint64_t j, int k) const;

  const WorkloadOptions& options() const { return options_; }

 private:
  uint64_t Mix(uint64_t stream, uint64_t i) const;
  Code RandomCode(uint64_t stream, uint64_t i) const;
  uint64_t HitTarget(uint64_t j) const;

  WorkloadOptions options_;
};

}  // namespace optout::load

#endif  // OPTOUT_TESTS_LOAD_WORKLOAD_H_
