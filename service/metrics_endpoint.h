// File: service/metrics_endpoint.h
//
// MetricsEndpoint serves a MetricRegistry to Prometheus: GET /metrics over
// HTTP/1.1 (Debian's cpp-httplib) on its own address (--metrics_listen),
// answered in the text exposition format 0.0.4. It follows the rules of
// optoutd's other listeners: plaintext only on loopback unless
// --allow_insecure, otherwise TLS with the same --tls_* files (and client
// certificates under mutual TLS), re-read by ReloadTlsCertificates at the
// next handshake; a port in use is refused (no SO_REUSEPORT).
//
// Two threads answer scrapes; a scrape renders the registry (no request
// data, and nothing a request can grow). Other paths are 404.
//
// Thread-safety: ReloadTlsCertificates and Stop may be called from any
// thread; Stop (or the destructor) once.
#ifndef OPTOUT_SERVICE_METRICS_ENDPOINT_H_
#define OPTOUT_SERVICE_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/metrics/metric_registry.h"
#include "service/tls_options.h"

namespace optout::service {

class MetricsEndpoint final {
 public:
  // Listens on `listen` (HOST:PORT, [IPv6]:PORT; port 0: any free port) and
  // serves `registry`, which must outlive the endpoint. InvalidArgument for
  // a bad address or TLS files (naming the flag), Unavailable when the
  // address cannot be bound (port in use).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, const TlsServerOptions& tls,
      const metrics::MetricRegistry* registry);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const;
  // Re-reads the TLS files; new connections use them. FailedPrecondition
  // without TLS; InvalidArgument for a bad file (nothing changes then).
  absl::Status ReloadTlsCertificates();
  // Stops listening and waits for the answering threads.
  void Stop();

 private:
  struct Impl;
  explicit MetricsEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_METRICS_ENDPOINT_H_
