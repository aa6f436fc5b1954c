// File: service/metrics/counter.h
//
// Counter and Histogram: the two metric kinds optoutd updates on its request
// paths. Each update is one or two relaxed atomic additions, no lock, so a
// handler can count on the hot path; a scrape reads them without stopping
// writers (a scrape may see a histogram's buckets a few observations apart,
// which Prometheus tolerates).
//
// Thread-safety: every method may be called concurrently.
#ifndef OPTOUT_SERVICE_METRICS_COUNTER_H_
#define OPTOUT_SERVICE_METRICS_COUNTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace optout::metrics {

class Counter final {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Observations are integers in a base unit (e.g. microseconds); the
// exposition divides bounds and sum by the family's divisor (e.g. 1e6 for
// seconds), so no floating-point atomics are needed.
class Histogram final {
 public:
  // `bounds`: ascending upper bounds (inclusive, as Prometheus' "le"); an
  // implicit +Inf bucket follows. Shared by all histograms of a family and
  // must outlive them.
  explicit Histogram(const std::vector<int64_t>* bounds)
      : bounds_(*bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
    for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
  }
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(int64_t value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (= count)
    int64_t sum = 0;
    uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  Snapshot Read() const;
  const std::vector<int64_t>& bounds() const { return bounds_; }

 private:
  const std::vector<int64_t>& bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<int64_t> sum_{0};
};

}  // namespace optout::metrics

#endif  // OPTOUT_SERVICE_METRICS_COUNTER_H_
