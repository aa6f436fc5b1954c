#include "service/metrics/metric_registry.h"

#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "absl/strings/str_cat.h"
#include "service/metrics/text_format.h"

namespace optout::metrics {

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.cumulative.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative[i] = total;
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

struct MetricRegistry::Family {
  FamilyInfo info;
  MetricType type = MetricType::kCounter;
  std::unique_ptr<CounterFamily> counters;
  std::unique_ptr<HistogramFamily> histograms;
  std::function<void(std::vector<Sample>*)> collect;
};

namespace {

// Names and label names are constants of our code: a bad one is a bug, and
// failing at start-up shows it before any scrape does.
void CheckFamilyInfo(const FamilyInfo& info) {
  ABSL_RAW_CHECK(IsValidMetricName(info.name), "invalid metric name");
  for (const std::string& label : info.label_names) {
    ABSL_RAW_CHECK(IsValidLabelName(label) && label != "le", "invalid label name");
  }
}

void CheckLabelCount(const LabelValues& values, size_t labels) {
  ABSL_RAW_CHECK(values.size() == labels, "wrong number of label values");
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

MetricRegistry::MetricRegistry() = default;
MetricRegistry::~MetricRegistry() = default;

Counter& MetricRegistry::CounterFamily::Get(const LabelValues& values) {
  CheckLabelCount(values, labels_);
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Counter>& child = children_[values];
  if (child == nullptr) child = std::make_unique<Counter>();
  return *child;
}

Histogram& MetricRegistry::HistogramFamily::Get(const LabelValues& values) {
  CheckLabelCount(values, labels_);
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Histogram>& child = children_[values];
  if (child == nullptr) child = std::make_unique<Histogram>(&bounds_);
  return *child;
}

MetricRegistry::CounterFamily& MetricRegistry::AddCounterFamily(FamilyInfo info) {
  CheckFamilyInfo(info);
  auto family = std::make_unique<Family>();
  family->type = MetricType::kCounter;
  family->counters.reset(new CounterFamily(info.label_names.size()));
  family->info = std::move(info);
  CounterFamily& counters = *family->counters;
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
  return counters;
}

MetricRegistry::HistogramFamily& MetricRegistry::AddHistogramFamily(FamilyInfo info,
                                                                    std::vector<int64_t> bounds,
                                                                    double divisor) {
  CheckFamilyInfo(info);
  for (size_t i = 1; i < bounds.size(); ++i) {
    ABSL_RAW_CHECK(bounds[i - 1] < bounds[i], "histogram bounds must ascend");
  }
  auto family = std::make_unique<Family>();
  family->type = MetricType::kHistogram;
  family->histograms.reset(new HistogramFamily(info.label_names.size(), std::move(bounds), divisor));
  family->info = std::move(info);
  HistogramFamily& histograms = *family->histograms;
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
  return histograms;
}

void MetricRegistry::AddCallbackFamily(FamilyInfo info, MetricType type,
                                       std::function<void(std::vector<Sample>*)> collect) {
  CheckFamilyInfo(info);
  ABSL_RAW_CHECK(type != MetricType::kHistogram, "callback families are counters or gauges");
  auto family = std::make_unique<Family>();
  family->type = type;
  family->collect = std::move(collect);
  family->info = std::move(info);
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
}

std::string MetricRegistry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& family : families_) {
    const FamilyInfo& info = family->info;
    absl::StrAppend(&out, "# HELP ", info.name, " ", EscapeHelp(info.help), "\n# TYPE ",
                    info.name, " ", TypeName(family->type), "\n");
    if (family->counters != nullptr) {
      absl::MutexLock children_lock(&family->counters->mu_);
      for (const auto& [values, counter] : family->counters->children_) {
        const uint64_t value = counter->value();
        if (info.hide_zero && value == 0) continue;
        absl::StrAppend(&out, info.name, FormatLabels(info.label_names, values), " ", value, "\n");
      }
    } else if (family->histograms != nullptr) {
      const HistogramFamily& h = *family->histograms;
      absl::MutexLock children_lock(&h.mu_);
      for (const auto& [values, histogram] : h.children_) {
        const Histogram::Snapshot snapshot = histogram->Read();
        if (info.hide_zero && snapshot.count() == 0) continue;
        for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
          const std::string le = i < h.bounds_.size()
                                     ? FormatValue(static_cast<double>(h.bounds_[i]) / h.divisor_)
                                     : "+Inf";
          absl::StrAppend(&out, info.name, "_bucket",
                          FormatLabels(info.label_names, values, "le", le), " ",
                          snapshot.cumulative[i], "\n");
        }
        const std::string labels = FormatLabels(info.label_names, values);
        absl::StrAppend(&out, info.name, "_sum", labels, " ",
                        FormatValue(static_cast<double>(snapshot.sum) / h.divisor_), "\n",
                        info.name, "_count", labels, " ", snapshot.count(), "\n");
      }
    } else {
      std::vector<Sample> samples;
      family->collect(&samples);
      for (const Sample& sample : samples) {
        CheckLabelCount(sample.label_values, info.label_names.size());
        if (info.hide_zero && sample.value == 0) continue;
        absl::StrAppend(&out, info.name, FormatLabels(info.label_names, sample.label_values), " ",
                        FormatValue(sample.value), "\n");
      }
    }
  }
  return out;
}

}  // namespace optout::metrics
