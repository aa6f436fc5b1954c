#include "service/metrics_endpoint.h"

#include <sys/socket.h>

#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "httplib.h"
#include "service/http/http_tls.h"
#include "service/metrics/text_format.h"
#include "service/tls_credentials.h"

namespace optout::service {
namespace {

// HOST:PORT or [IPv6]:PORT.
absl::Status SplitListen(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen ", listen, ": expected HOST:PORT"));
  };
  if (colon == std::string::npos || colon == 0) return bad();
  *host = listen.substr(0, colon);
  if (host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  if (!absl::SimpleAtoi(listen.substr(colon + 1), port) || *port < 0 || *port > 65535) {
    return bad();
  }
  return absl::OkStatus();
}

}  // namespace

struct MetricsEndpoint::Impl {
  // The same TLS files, reload rule and handshake callback as the HTTP
  // listener; null: plaintext.
  std::unique_ptr<http::HttpTls> tls;
  std::unique_ptr<httplib::Server> http;
  std::thread listener;
  int port = 0;
  bool stopped = false;
};

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

int MetricsEndpoint::port() const { return impl_->port; }

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, const TlsServerOptions& tls,
    const metrics::MetricRegistry* registry) {
  OPTOUT_RETURN_IF_ERROR(CheckTransportSecurity(listen, tls, "--metrics_listen"));
  std::string host;
  int port = 0;
  OPTOUT_RETURN_IF_ERROR(SplitListen(listen, &host, &port));

  auto impl = std::make_unique<Impl>();
  if (tls.enabled()) {
    OPTOUT_ASSIGN_OR_RETURN(impl->tls, http::HttpTls::Create(tls));
    http::HttpTls* current = impl->tls.get();
    impl->http = std::make_unique<httplib::SSLServer>(
        [current](SSL_CTX& ctx) { return current->Configure(&ctx); });
  } else {
    impl->http = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *impl->http;
  if (!http.is_valid()) return absl::InternalError("metrics endpoint: TLS setup failed");
  // Two threads are plenty for a scraper or two; the default pool would
  // start one per core.
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // httplib's default sets SO_REUSEPORT, which would let a second optoutd
  // share the port; SO_REUSEADDR only lets a restart bind past TIME_WAIT.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http.set_read_timeout(10, 0);
  http.set_write_timeout(10, 0);
  http.set_keep_alive_timeout(30);
  http.set_payload_max_length(64 << 10);
  http.Get("/metrics", [registry](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry->Render(), metrics::kTextFormatContentType);
  });

  impl->port = port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (impl->port <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on --metrics_listen ", listen, ": the port is in use or the address is "
        "not local"));
  }
  impl->listener = std::thread([&http] { http.listen_after_bind(); });
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(impl)));
}

absl::Status MetricsEndpoint::ReloadTlsCertificates() {
  if (impl_->tls == nullptr) return absl::FailedPreconditionError("TLS is off: nothing to reload");
  return impl_->tls->Reload();
}

void MetricsEndpoint::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->http->stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

}  // namespace optout::service
