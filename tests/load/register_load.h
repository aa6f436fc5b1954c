// File: tests/load/register_load.h
//
// Drives durable Register calls: `concurrency` threads, each with one call
// outstanding at a time, register opt-outs first..first+count-1 of the
// workload. Used both for the register mode (a fresh `run`, so every call
// creates a new opt-out) and for --populate (empty `run`: re-running it is
// an idempotent retry that creates nothing twice).
//
// Thread-safety: RunRegisterLoad is reentrant; it starts and joins threads.
#ifndef OPTOUT_TESTS_LOAD_REGISTER_LOAD_H_
#define OPTOUT_TESTS_LOAD_REGISTER_LOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "tests/load/check_load.h"
#include "tests/load/workload.h"

namespace optout::load {

struct RegisterLoadOptions {
  uint64_t first = 0;
  uint64_t count = 0;
  // Distinguishes runs (see above). Default: empty (populate).
  std::string run;
  // Register PDQ hashes as well as URLs. Default: true.
  bool with_pdq = true;
  // Concurrent calls in all. Default: 64.
  int concurrency = 64;
  // Print "label: done/total (rate/s)" to stderr every ~2 s. Default: empty
  // (silent).
  std::string progress_label;
};

// Stops at the first failed call (its status is in the result). units and
// matched stay 0.
LoadTotals RunRegisterLoad(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                           const Workload& workload, const RegisterLoadOptions& options);

}  // namespace optout::load

#endif  // OPTOUT_TESTS_LOAD_REGISTER_LOAD_H_
