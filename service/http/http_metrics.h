// File: service/http/http_metrics.h
//
// HttpMetrics counts the HTTP calls optoutd answers (--http_listen), by
// route and status code, and observes their handling time, beside gRPC's
// grpc_server_handled_total / grpc_server_handling_seconds:
//   http_server_requests_total{route,code}
//   http_server_request_duration_seconds{route,code}
// `route` is one of a fixed set of names (the API's method and path
// pattern, "static" for the page's files, "other"), `code` one of a fixed
// set of HTTP status codes or "other": no label value comes from a request.
// Every child is made up front, so a call costs two relaxed atomic adds.
//
// Thread-safety: Record may be called concurrently.
#ifndef OPTOUT_SERVICE_HTTP_HTTP_METRICS_H_
#define OPTOUT_SERVICE_HTTP_HTTP_METRICS_H_

#include <array>
#include <chrono>

#include "absl/strings/string_view.h"
#include "service/metrics/metric_registry.h"

namespace optout::service::http {

class HttpMetrics final {
 public:
  // Adds the two families to `registry`, which must outlive this.
  explicit HttpMetrics(metrics::MetricRegistry* registry);

  // Route index of a request (method "GET", path without query).
  static int RouteOf(absl::string_view method, absl::string_view path);
  void Record(int route, int status, std::chrono::steady_clock::duration elapsed) const;

  static constexpr int kRoutes = 10;
  static constexpr int kCodes = 21;  // kCodeNames, the last one "other"

 private:
  std::array<std::array<metrics::Counter*, kCodes>, kRoutes> requests_{};
  std::array<std::array<metrics::Histogram*, kCodes>, kRoutes> seconds_{};
};

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_HTTP_METRICS_H_
