// File: service/tls_files.h
//
// Reading optoutd's TLS files (TlsServerOptions) once for every listener:
// the gRPC credentials and the metrics endpoint take the same certificate,
// key and client CA, checked the same way.
#ifndef OPTOUT_SERVICE_TLS_FILES_H_
#define OPTOUT_SERVICE_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "service/tls_options.h"

namespace optout::service {

struct TlsPem {
  std::string cert_chain;   // PEM, leaf first
  std::string private_key;  // PEM, unencrypted
  std::string client_ca;    // PEM bundle; empty: no client certificate asked
};

// Reads the files and checks that they parse and that the key belongs to
// the first certificate: InvalidArgument naming the flag and file otherwise.
absl::StatusOr<TlsPem> ReadTlsFiles(const TlsServerOptions& options);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_TLS_FILES_H_
