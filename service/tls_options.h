// File: service/tls_options.h
//
// Transport security settings of optoutd (no gRPC types, so server_options.h
// stays light). service/tls_credentials.h turns them into credentials.
#ifndef OPTOUT_SERVICE_TLS_OPTIONS_H_
#define OPTOUT_SERVICE_TLS_OPTIONS_H_

#include <string>

namespace optout::service {

struct TlsServerOptions {
  // PEM certificate chain (leaf first) and its PEM private key. Both set:
  // every connection is TLS; both empty: plaintext. Re-read on SIGHUP.
  // Default: empty.
  std::string cert_file;
  std::string key_file;
  // PEM bundle of the CAs that sign client certificates. Set: clients must
  // present a certificate one of them signed (mutual TLS); needs the two
  // above. Re-read on SIGHUP. Default: empty (no client certificate asked).
  std::string client_ca_file;
  // Plaintext is refused on any listen address but loopback unless this is
  // set (e.g. behind a TLS-terminating proxy on a private network).
  // Default: false.
  bool allow_insecure = false;

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_TLS_OPTIONS_H_
