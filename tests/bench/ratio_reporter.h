// File: tests/bench/ratio_reporter.h
//
// RatioReporter: Google Benchmark's console output, followed by a table of
// each benchmark's items/s relative to a baseline benchmark of the same
// group. A benchmark named "<a>/<b>/<rest>" belongs to group "<a>/<b>/", and
// the baseline of a group is its benchmark whose name contains
// `baseline_suffix` (e.g. "uniform/1M/single/plain_scan"). Under
// --benchmark_repetitions the table compares the medians: the other
// aggregates (stddev, cv) are not rates, and single repetitions are noise.
//
// Thread-safety: used by the benchmark runner's thread only.
#ifndef OPTOUT_TESTS_BENCH_RATIO_REPORTER_H_
#define OPTOUT_TESTS_BENCH_RATIO_REPORTER_H_

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"

namespace optout::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  explicit RatioReporter(std::string baseline_suffix)
      : baseline_suffix_(std::move(baseline_suffix)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") {
          median_rates_.emplace_back(run.benchmark_name(), it->second.value);
        }
      } else {
        rates_.emplace_back(run.benchmark_name(), it->second.value);
      }
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    const std::vector<std::pair<std::string, double>>& rates =
        median_rates_.empty() ? rates_ : median_rates_;
    std::map<std::string, double> baseline;  // group -> items/s
    for (const auto& [name, rate] : rates) {
      const size_t pos = name.find(baseline_suffix_);
      if (pos != std::string::npos) baseline[name.substr(0, pos)] = rate;
    }
    std::printf("\n%-44s %14s %12s\n", "benchmark", "items/s",
                ("x " + baseline_suffix_).c_str());
    for (const auto& [name, rate] : rates) {
      const size_t slash = name.find('/', name.find('/') + 1);
      auto base = baseline.find(name.substr(0, slash + 1));
      const std::string ratio =
          base == baseline.end() ? "-" : absl::StrFormat("%.1f", rate / base->second);
      std::printf("%-44s %14.0f %12s\n", name.c_str(), rate, ratio.c_str());
    }
  }

 private:
  const std::string baseline_suffix_;
  std::vector<std::pair<std::string, double>> rates_;         // single runs
  std::vector<std::pair<std::string, double>> median_rates_;  // under repetitions
};

}  // namespace optout::bench

#endif  // OPTOUT_TESTS_BENCH_RATIO_REPORTER_H_
