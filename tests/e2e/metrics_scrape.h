// File: tests/e2e/metrics_scrape.h
//
// Reading a running optoutd's Prometheus metrics (--metrics_listen) in
// end-to-end tests: the port it logged, and one scrape as series -> value.
#ifndef OPTOUT_TESTS_E2E_METRICS_SCRAPE_H_
#define OPTOUT_TESTS_E2E_METRICS_SCRAPE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace optout::testing {

// The port after `marker` in `log` (e.g. "serving metrics on port "); 0
// when absent.
int PortFromLog(const std::string& log, const std::string& marker);

// Series (name plus labels, as printed) -> value, from one GET /metrics on
// 127.0.0.1:`port`. Unavailable when the scrape fails; InvalidArgument
// naming a line that is not a sample.
absl::StatusOr<std::map<std::string, double>> ScrapeMetrics(int port);

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_METRICS_SCRAPE_H_
