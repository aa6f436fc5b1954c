// File: tests/load/latency_stats.h
//
// LatencyRecorder collects one duration per call (exact, not bucketed: a
// run records at most a few million calls) and summarizes percentiles.
// Not thread-safe: give each thread its own and Merge() them afterwards.
#ifndef OPTOUT_TESTS_LOAD_LATENCY_STATS_H_
#define OPTOUT_TESTS_LOAD_LATENCY_STATS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace optout::load {

struct LatencySummary {
  uint64_t count = 0;
  double mean_us = 0, p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

class LatencyRecorder final {
 public:
  void Record(int64_t nanos) { nanos_.push_back(nanos); }
  void Merge(const LatencyRecorder& other) {
    nanos_.insert(nanos_.end(), other.nanos_.begin(), other.nanos_.end());
  }
  size_t count() const { return nanos_.size(); }
  // Sorts the samples; percentiles by the nearest-rank method.
  LatencySummary Summarize();

 private:
  std::vector<int64_t> nanos_;
};

}  // namespace optout::load

#endif  // OPTOUT_TESTS_LOAD_LATENCY_STATS_H_
