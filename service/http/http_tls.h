// File: service/http/http_tls.h
//
// HttpTls: TLS for the HTTP listener from the same files as gRPC's
// (--tls_cert_file, --tls_key_file, --tls_client_ca_file), with the same
// reload rule: Reload() re-reads them and the next handshake uses them,
// established connections keep theirs, a failed reload changes nothing.
// It installs an OpenSSL certificate callback on the listener's SSL_CTX that
// hands each new connection the current certificate, key and client CAs.
//
// Thread-safety: Reload() may run on any thread while connections handshake.
#ifndef OPTOUT_SERVICE_HTTP_HTTP_TLS_H_
#define OPTOUT_SERVICE_HTTP_HTTP_TLS_H_

#include <openssl/ssl.h>

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/tls_options.h"

namespace optout::service::http {

class HttpTls final {
 public:
  // InvalidArgument naming the flag for a missing, unreadable or malformed
  // file, or a key that does not belong to the certificate.
  static absl::StatusOr<std::unique_ptr<HttpTls>> Create(const TlsServerOptions& options);
  HttpTls(const HttpTls&) = delete;
  HttpTls& operator=(const HttpTls&) = delete;

  absl::Status Reload();

  // Sets up `ctx` (TLS 1.2+, client certificates when a client CA is set,
  // the per-handshake callback). `this` must outlive every connection.
  bool Configure(SSL_CTX* ctx);

  struct Loaded;  // the parsed files (http_tls.cc)

 private:
  explicit HttpTls(const TlsServerOptions& options) : options_(options) {}
  static int OnCertificate(SSL* ssl, void* self);

  const TlsServerOptions options_;
  absl::Mutex mu_;
  std::shared_ptr<const Loaded> loaded_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_HTTP_TLS_H_
