#include "tests/e2e/metrics_scrape.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "httplib.h"

namespace optout::testing {

int PortFromLog(const std::string& log, const std::string& marker) {
  const size_t at = log.find(marker);
  if (at == std::string::npos) return 0;
  const size_t start = at + marker.size();
  int port = 0;
  return absl::SimpleAtoi(log.substr(start, log.find_first_not_of("0123456789", start) - start),
                          &port)
             ? port
             : 0;
}

absl::StatusOr<std::map<std::string, double>> ScrapeMetrics(int port) {
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(5, 0);
  auto response = http.Get("/metrics");
  if (!response || response->status != 200) {
    return absl::UnavailableError(absl::StrCat(
        "scrape of port ", port, " failed: ",
        response ? absl::StrCat("HTTP ", response->status) : httplib::to_string(response.error())));
  }
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(response->body, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtod(line.substr(space + 1), &value)) {
      return absl::InvalidArgumentError(absl::StrCat("not a sample line: ", line));
    }
    samples[std::string(line.substr(0, space))] = value;
  }
  return samples;
}

}  // namespace optout::testing
