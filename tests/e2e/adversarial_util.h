// File: tests/e2e/adversarial_util.h
//
// Shared pieces of the adversarial e2e tests (tests/e2e/adversarial_*):
// what a server process costs (CPU, resident memory, descriptors), timed
// Health and GetInfo calls, and requests that cost the server real work.
#ifndef OPTOUT_TESTS_E2E_ADVERSARIAL_UTIL_H_
#define OPTOUT_TESTS_E2E_ADVERSARIAL_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "optout/v1/optout.pb.h"

namespace optout::testing {

// User plus system CPU time the process has used so far.
absl::Duration ProcessCpuTime(pid_t pid);
// Resident set size of the process, in bytes.
int64_t ProcessRssBytes(pid_t pid);

// Round trip of one call on `channel`; an error status fails the call with
// InfiniteDuration. Both use a 5 s deadline.
absl::Duration TimedGetInfo(const std::shared_ptr<grpc::Channel>& channel);
absl::Duration TimedHealthCheck(const std::shared_ptr<grpc::Channel>& channel);

// 32 random bytes: a plausible PDQ hash (popcount near 128).
std::string RandomPdq(std::mt19937_64& rng);
// A registration of `count` random PDQ hashes of quality 100.
v1::RegisterRequest RandomPdqRegistration(std::mt19937_64& rng, int count);
// Registers 5 opt-outs of 4,000 random PDQ hashes each (seeded: the same
// hashes every time) through `channel`: enough that a dihedral PDQ check
// costs the server real work per item.
absl::Status StoreManyPdqHashes(const std::shared_ptr<grpc::Channel>& channel);
// A check of `items` random PDQ hashes with their 8 dihedral variants, packed:
// against many stored hashes the server scans for every variant.
v1::CheckRequest HeavyPdqCheck(std::mt19937_64& rng, int items);

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_ADVERSARIAL_UTIL_H_
