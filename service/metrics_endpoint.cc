#include "service/metrics_endpoint.h"

#include <utility>

#include "client/common/base/status_macros.h"
#include "httplib.h"
#include "service/http/bounded_http_server.h"
#include "service/http/http_tls.h"
#include "service/metrics/text_format.h"
#include "service/tls_credentials.h"

namespace optout::service {

struct MetricsEndpoint::Impl {
  // The same TLS files, reload rule and handshake callback as the HTTP
  // listener; null: plaintext.
  std::unique_ptr<http::HttpTls> tls;
  std::unique_ptr<http::BoundedHttpServer> http;
};

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

int MetricsEndpoint::port() const { return impl_->http->port(); }

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, const TlsServerOptions& tls,
    const metrics::MetricRegistry* registry) {
  OPTOUT_RETURN_IF_ERROR(CheckTransportSecurity(listen, tls, "--metrics_listen"));
  auto impl = std::make_unique<Impl>();
  if (tls.enabled()) {
    OPTOUT_ASSIGN_OR_RETURN(impl->tls, http::HttpTls::Create(tls));
  }
  auto routes = std::make_unique<http::HttpRoutes>();
  routes->Get("/metrics", [registry](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry->Render(), metrics::kTextFormatContentType);
  });
  http::BoundedHttpOptions options;
  options.listen = listen;
  options.flag = "--metrics_listen";
  // Two threads are plenty for a scraper or two; a scrape has no body.
  options.threads = 2;
  options.max_waiting_connections = 16;
  options.idle_timeout = absl::Seconds(30);
  options.limits.max_head_bytes = 16 << 10;
  options.limits.max_body_bytes = 64 << 10;
  OPTOUT_ASSIGN_OR_RETURN(impl->http,
                          http::BoundedHttpServer::Start(options, std::move(routes), impl->tls.get()));
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(impl)));
}

absl::Status MetricsEndpoint::ReloadTlsCertificates() {
  if (impl_->tls == nullptr) return absl::FailedPreconditionError("TLS is off: nothing to reload");
  return impl_->tls->Reload();
}

void MetricsEndpoint::Stop() {
  if (impl_ != nullptr && impl_->http != nullptr) impl_->http->Stop();
}

}  // namespace optout::service
