// File: service/metrics/metric_registry.h
//
// MetricRegistry holds optoutd's metric families and renders them in the
// Prometheus text exposition format 0.0.4. A family has a name, help text,
// a type and fixed label names; its children (one per combination of label
// values) are either owned here (Counter, Histogram: updated by the code
// that counts) or read from elsewhere at each scrape through a callback
// (sizes, queue depths, counters kept by core objects).
//
// Label values come from fixed sets in our own code (method names, status
// code names, match kinds), never from a request: that would let a client
// grow the registry without bound, and request data does not belong in
// metrics.
//
// Setup (adding families and children) happens before serving; children are
// never removed, so references to them stay valid as long as the registry.
// Thread-safety: all methods may be called concurrently.
#ifndef OPTOUT_SERVICE_METRICS_METRIC_REGISTRY_H_
#define OPTOUT_SERVICE_METRICS_METRIC_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "service/metrics/counter.h"

namespace optout::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

using LabelValues = std::vector<std::string>;

// One value of a callback family.
struct Sample {
  LabelValues label_values;
  double value = 0;
};

struct FamilyInfo {
  // [a-zA-Z_:][a-zA-Z0-9_:]*, with the unit as suffix (_seconds, _bytes,
  // _total for counters).
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  // Children that were never updated are left out of the exposition (for
  // labels such as status codes, where most combinations never occur).
  bool hide_zero = false;
};

class MetricRegistry final {
 public:
  MetricRegistry();
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;
  ~MetricRegistry();

  class CounterFamily;
  class HistogramFamily;

  CounterFamily& AddCounterFamily(FamilyInfo info);
  // `bounds` in the observations' base unit, exposed divided by `divisor`
  // (1e6 for microseconds shown as seconds: dividing keeps 100 us exactly
  // 0.0001, which multiplying by 1e-6 would not).
  HistogramFamily& AddHistogramFamily(FamilyInfo info, std::vector<int64_t> bounds, double divisor);
  // `collect` appends the family's current samples; it runs at every scrape,
  // on the scraping thread, and must be cheap and thread-safe.
  void AddCallbackFamily(FamilyInfo info, MetricType type,
                         std::function<void(std::vector<Sample>*)> collect);

  // The whole exposition, families in the order they were added.
  std::string Render() const;

 private:
  struct Family;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
};

class MetricRegistry::CounterFamily final {
 public:
  // The child with these label values (one per label name), created on
  // first use. The reference stays valid for the registry's lifetime.
  Counter& Get(const LabelValues& values);

 private:
  friend class MetricRegistry;
  explicit CounterFamily(size_t labels) : labels_(labels) {}
  const size_t labels_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, std::unique_ptr<Counter>> children_ ABSL_GUARDED_BY(mu_);
};

class MetricRegistry::HistogramFamily final {
 public:
  Histogram& Get(const LabelValues& values);

 private:
  friend class MetricRegistry;
  HistogramFamily(size_t labels, std::vector<int64_t> bounds, double divisor)
      : labels_(labels), bounds_(std::move(bounds)), divisor_(divisor) {}
  const size_t labels_;
  const std::vector<int64_t> bounds_;
  const double divisor_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, std::unique_ptr<Histogram>> children_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::metrics

#endif  // OPTOUT_SERVICE_METRICS_METRIC_REGISTRY_H_
