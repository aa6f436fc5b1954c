#include "service/metrics/metric_registry.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricRegistryTest, RendersCounterFamilyWithHelpTypeAndLabels) {
  MetricRegistry registry;
  auto& family = registry.AddCounterFamily({"requests_total", "Requests.", {"method", "code"}});
  family.Get({"Check", "OK"}).Increment(3);
  family.Get({"Check", "OK"}).Increment();
  family.Get({"Get", "NOT_FOUND"});
  EXPECT_EQ(registry.Render(),
            "# HELP requests_total Requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total{method=\"Check\",code=\"OK\"} 4\n"
            "requests_total{method=\"Get\",code=\"NOT_FOUND\"} 0\n");
}

TEST(MetricRegistryTest, HideZeroLeavesOutChildrenNeverUpdated) {
  MetricRegistry registry;
  auto& family = registry.AddCounterFamily({"x_total", "X.", {"code"}, /*hide_zero=*/true});
  family.Get({"OK"}).Increment();
  family.Get({"INTERNAL"});
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("x_total{code=\"OK\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("INTERNAL")));
}

TEST(MetricRegistryTest, HistogramBucketsAreCumulativeWithScaledBoundsAndSum) {
  MetricRegistry registry;
  auto& family = registry.AddHistogramFamily({"latency_seconds", "Latency.", {"method"}},
                                             {100, 1000}, 1e6);
  Histogram& h = family.Get({"Check"});
  h.Observe(50);    // <= 100 us
  h.Observe(100);   // bounds are inclusive
  h.Observe(500);   // <= 1 ms
  h.Observe(5000);  // +Inf
  EXPECT_EQ(registry.Render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{method=\"Check\",le=\"0.0001\"} 2\n"
            "latency_seconds_bucket{method=\"Check\",le=\"0.001\"} 3\n"
            "latency_seconds_bucket{method=\"Check\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{method=\"Check\"} 0.00565\n"
            "latency_seconds_count{method=\"Check\"} 4\n");
}

TEST(MetricRegistryTest, CallbackFamiliesAreReadAtEveryRender) {
  MetricRegistry registry;
  double value = 1;
  registry.AddCallbackFamily({"queue_depth", "Queue.", {}}, MetricType::kGauge,
                             [&value](std::vector<Sample>* out) { out->push_back({{}, value}); });
  EXPECT_THAT(registry.Render(), HasSubstr("# TYPE queue_depth gauge\nqueue_depth 1\n"));
  value = 2.5;
  EXPECT_THAT(registry.Render(), HasSubstr("queue_depth 2.5\n"));
}

TEST(MetricRegistryTest, LabelValuesAndHelpAreEscaped) {
  MetricRegistry registry;
  registry.AddCounterFamily({"odd_total", "Line one\nback\\slash", {"v"}})
      .Get({"a\"b\\c\nd"})
      .Increment();
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP odd_total Line one\\nback\\\\slash\n"));
  EXPECT_THAT(text, HasSubstr("odd_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricRegistryTest, ConcurrentIncrementsAreAllCounted) {
  MetricRegistry registry;
  Counter& counter = registry.AddCounterFamily({"n_total", "N.", {}}).Get({});
  Histogram& histogram =
      registry.AddHistogramFamily({"h_seconds", "H.", {}}, {10}, 1).Get({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        counter.Increment();
        histogram.Observe(i % 20);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 400000u);
  EXPECT_EQ(histogram.Read().count(), 400000u);
}

TEST(MetricRegistryDeathTest, InvalidNamesAreRefusedAtSetup) {
  MetricRegistry registry;
  EXPECT_DEATH(registry.AddCounterFamily({"bad-name", "x", {}}), "invalid metric name");
  EXPECT_DEATH(registry.AddCounterFamily({"ok_total", "x", {"le"}}), "invalid label name");
}

}  // namespace
}  // namespace optout::metrics
