#include "tests/load/latency_stats.h"

#include <algorithm>
#include <cmath>

namespace optout::load {

LatencySummary LatencyRecorder::Summarize() {
  LatencySummary s;
  s.count = nanos_.size();
  if (nanos_.empty()) return s;
  std::sort(nanos_.begin(), nanos_.end());
  const auto at = [&](double q) {
    const size_t rank = static_cast<size_t>(std::ceil(q * nanos_.size()));
    return nanos_[std::min(nanos_.size() - 1, rank == 0 ? 0 : rank - 1)] / 1000.0;
  };
  double sum = 0;
  for (int64_t n : nanos_) sum += n;
  s.mean_us = sum / nanos_.size() / 1000.0;
  s.p50_us = at(0.50);
  s.p90_us = at(0.90);
  s.p99_us = at(0.99);
  s.p999_us = at(0.999);
  s.max_us = nanos_.back() / 1000.0;
  return s;
}

}  // namespace optout::load
