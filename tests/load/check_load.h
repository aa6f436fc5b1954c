// File: tests/load/check_load.h
//
// Drives Check calls against a running optoutd and measures them. Batches
// are sent from a prepared pool (cycled when the run is longer than the
// pool), either on CheckStream with up to `inflight` batches outstanding per
// stream, or as unary Check calls from `inflight` threads per channel.
// Latency is per batch: from handing it to gRPC until its answer is read.
//
// Thread-safety: RunCheckLoad is reentrant; it starts and joins its threads.
#ifndef OPTOUT_TESTS_LOAD_CHECK_LOAD_H_
#define OPTOUT_TESTS_LOAD_CHECK_LOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/channel.h"
#include "grpcpp/channel.h"
#include "tests/load/batch_builder.h"
#include "tests/load/latency_stats.h"

namespace optout::load {

// A channel of its own (own TCP connection) to `target`, built like every
// client's (client::CreateChannel); `index` keeps channels from sharing one
// subchannel.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const client::TlsOptions& tls, int index);

struct CheckLoadOptions {
  // Batches outstanding per stream (stream) or threads per channel (unary).
  // Default: 4.
  int inflight = 4;
  // Use unary Check instead of CheckStream. Default: false.
  bool unary = false;
  // Sent as `authorization: Bearer KEY` on every call; empty: anonymous.
  std::string api_key;
};

struct LoadTotals {
  uint64_t calls = 0;
  uint64_t items = 0;
  uint64_t units = 0;
  uint64_t matched = 0;
  uint64_t expected_matches = 0;
  double seconds = 0;
  LatencyRecorder latency;
  absl::Status status;  // first failure, if any
};

// Sends `total_batches` batches (batch b is pool[b % pool.size()]) spread
// over `channels` (one stream or thread group each) and waits for all
// answers.
LoadTotals RunCheckLoad(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                        const std::vector<Batch>& pool, uint64_t total_batches,
                        const CheckLoadOptions& options);

}  // namespace optout::load

#endif  // OPTOUT_TESTS_LOAD_CHECK_LOAD_H_
