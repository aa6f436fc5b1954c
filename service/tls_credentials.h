// File: service/tls_credentials.h
//
// ReloadableTlsCredentials: optoutd's side of TLS. It reads the PEM
// certificate chain and private key (and, for mutual TLS, the client CA
// bundle) named in TlsServerOptions, checks that they parse and that the key
// belongs to the certificate, and hands out gRPC server credentials that take
// up a later successful Reload() at the next TLS handshake. Established
// connections keep the certificates they began with, so reloading (SIGHUP)
// drops nothing; a failed reload changes nothing.
//
// Why not grpc::experimental::TlsServerCredentials: in gRPC 1.51 its
// certificate providers either hold fixed data or poll files on a timer, and
// neither can be told "reload now". The SSL credentials' certificate-config
// fetcher (a public C API made for reloading) is asked at every handshake.
//
// Thread-safety: Reload() may run on any thread while gRPC handshakes.
#ifndef OPTOUT_SERVICE_TLS_CREDENTIALS_H_
#define OPTOUT_SERVICE_TLS_CREDENTIALS_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpc/grpc_security.h"
#include "grpcpp/security/server_credentials.h"
#include "service/tls_files.h"
#include "service/tls_options.h"

namespace optout::service {

// Plaintext is for loopback only: InvalidArgument when `listen` is reachable
// from the network and `tls` neither enables TLS nor allows plaintext, or
// when the TLS file flags are incomplete (cert without key, client CA
// without cert). Messages name the flags; `flag` is the one that gave `listen`.
absl::Status CheckTransportSecurity(const std::string& listen, const TlsServerOptions& tls,
                                    absl::string_view flag = "--listen");

class ReloadableTlsCredentials final {
 public:
  // Reads and checks the files: InvalidArgument naming the flag and file for
  // a missing, unreadable or malformed file or a key that does not match
  // the certificate.
  static absl::StatusOr<std::unique_ptr<ReloadableTlsCredentials>> Create(
      const TlsServerOptions& options);
  ReloadableTlsCredentials(const ReloadableTlsCredentials&) = delete;
  ReloadableTlsCredentials& operator=(const ReloadableTlsCredentials&) = delete;
  ~ReloadableTlsCredentials();

  // For ServerBuilder::AddListeningPort, once. They call back into this
  // object, which must outlive the grpc::Server they are added to.
  std::shared_ptr<grpc::ServerCredentials> server_credentials() const { return credentials_; }

  // Reads the same files again; on success the next handshake uses them.
  // Errors as Create(); the certificates in use stay as they were.
  absl::Status Reload();

  bool requires_client_certificate() const { return !options_.client_ca_file.empty(); }

 private:
  explicit ReloadableTlsCredentials(const TlsServerOptions& options) : options_(options) {}
  static grpc_ssl_certificate_config_reload_status Fetch(
      void* self, grpc_ssl_server_certificate_config** config);

  const TlsServerOptions options_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  absl::Mutex mu_;
  TlsPem pem_ ABSL_GUARDED_BY(mu_);
  // Set by Reload, cleared by the handshake that takes the new files up;
  // lets every other handshake skip the lock.
  std::atomic<bool> changed_{true};
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_TLS_CREDENTIALS_H_
