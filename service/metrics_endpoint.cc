#include "service/metrics_endpoint.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/common/base/status_macros.h"
#include "httplib.h"
#include "service/metrics/text_format.h"
#include "service/tls_credentials.h"
#include "service/tls_files.h"

namespace optout::service {
namespace {

// OpenSSL objects of one certificate, key and client CA set, parsed once
// and shared by the handshakes that start while it is current.
struct SslMaterial {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;  // certificates after the leaf
  EVP_PKEY* key = nullptr;
  X509_STORE* client_store = nullptr;  // null: no client certificate asked

  SslMaterial() = default;
  SslMaterial(const SslMaterial&) = delete;
  SslMaterial& operator=(const SslMaterial&) = delete;
  ~SslMaterial() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_store);
  }
};

// ReadTlsFiles has checked the files already; a failure here means they
// changed between the two reads.
absl::StatusOr<std::shared_ptr<const SslMaterial>> ParseMaterial(const TlsPem& pem) {
  auto material = std::make_shared<SslMaterial>();
  material->chain = sk_X509_new_null();
  {
    BIO* bio = BIO_new_mem_buf(pem.cert_chain.data(), static_cast<int>(pem.cert_chain.size()));
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      if (material->leaf == nullptr) {
        material->leaf = cert;
      } else {
        sk_X509_push(material->chain, cert);
      }
    }
    BIO_free(bio);
  }
  {
    BIO* bio = BIO_new_mem_buf(pem.private_key.data(), static_cast<int>(pem.private_key.size()));
    material->key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  }
  if (!pem.client_ca.empty()) {
    material->client_store = X509_STORE_new();
    BIO* bio = BIO_new_mem_buf(pem.client_ca.data(), static_cast<int>(pem.client_ca.size()));
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(material->client_store, cert);
      X509_free(cert);
    }
    BIO_free(bio);
  }
  ERR_clear_error();
  if (material->leaf == nullptr || material->key == nullptr) {
    return absl::InvalidArgumentError("TLS files changed while being read; try again");
  }
  return std::shared_ptr<const SslMaterial>(std::move(material));
}

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
  TlsServerOptions tls;
  absl::Mutex mu;
  std::shared_ptr<const SslMaterial> material ABSL_GUARDED_BY(mu);  // null: plaintext
  std::unique_ptr<httplib::Server> http;
  std::thread listener;
  int port = 0;
  bool stopped = false;

  // Called by OpenSSL in every handshake, before the server's certificate
  // is chosen: hands the connection the material current at that moment,
  // so a reload takes effect at the next handshake without touching the
  // SSL_CTX that httplib shares between its threads.
  static int UseCurrentCertificate(SSL* ssl, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    std::shared_ptr<const SslMaterial> material;
    {
      absl::MutexLock lock(&self->mu);
      material = self->material;
    }
    if (material == nullptr) return 0;
    if (SSL_use_cert_and_key(ssl, material->leaf, material->key, material->chain, 1) != 1) {
      return 0;
    }
    if (material->client_store != nullptr &&
        SSL_set1_verify_cert_store(ssl, material->client_store) != 1) {
      return 0;
    }
    return 1;
  }
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
  impl->tls = tls;
  if (tls.enabled()) {
    OPTOUT_ASSIGN_OR_RETURN(TlsPem pem, ReadTlsFiles(tls));
    OPTOUT_ASSIGN_OR_RETURN(auto material, ParseMaterial(pem));
    {
      absl::MutexLock lock(&impl->mu);
      impl->material = std::move(material);
    }
    Impl* raw = impl.get();
    const bool client_certificates = !tls.client_ca_file.empty();
    impl->http = std::make_unique<httplib::SSLServer>([raw, client_certificates](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_cert_cb(&ctx, &Impl::UseCurrentCertificate, raw);
      if (client_certificates) {
        SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      }
      return true;
    });
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
  if (!impl_->tls.enabled()) return absl::FailedPreconditionError("TLS is off: nothing to reload");
  OPTOUT_ASSIGN_OR_RETURN(TlsPem pem, ReadTlsFiles(impl_->tls));
  OPTOUT_ASSIGN_OR_RETURN(auto material, ParseMaterial(pem));
  absl::MutexLock lock(&impl_->mu);
  impl_->material = std::move(material);
  return absl::OkStatus();
}

void MetricsEndpoint::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->http->stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

}  // namespace optout::service
