// File: client/channel.h
//
// The one way optout clients open a gRPC channel to optoutd: RegistryClient
// (so the optout CLI and check-dataset) and optout-bench all call
// CreateChannel, so transport security and message limits are set in one
// place.
//
// Plaintext unless TLS is asked for. With TLS the server certificate is
// checked against the system's roots or a given CA bundle, and the name in
// the target (HOST of HOST:PORT) must be in the certificate. A client
// certificate and key make it mutual TLS.
#ifndef OPTOUT_CLIENT_CHANNEL_H_
#define OPTOUT_CLIENT_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/channel_arguments.h"

namespace optout::client {

// Files named on a command line (`--tls`, `--tls-ca FILE` or $OPTOUT_TLS_CA,
// `--tls-cert FILE --tls-key FILE`). Any file implies TLS.
struct TlsFiles {
  bool tls = false;       // TLS with the system's roots
  std::string ca_file;    // PEM roots to trust instead of the system's
  std::string cert_file;  // PEM client certificate chain, with key_file
  std::string key_file;   // PEM private key of cert_file
};

// What CreateChannel needs: PEM text, read once.
struct TlsOptions {
  bool enabled = false;
  std::string root_certs_pem;   // empty: the system's roots
  std::string cert_chain_pem;   // with private_key_pem: mutual TLS
  std::string private_key_pem;
};

// Reads the files. InvalidArgument naming the flag (--tls-ca, --tls-cert,
// --tls-key) for an unreadable file, a file with no PEM block, or a client
// certificate without its key (or the reverse).
absl::StatusOr<TlsOptions> LoadTlsOptions(const TlsFiles& files);

// A channel to `target` (HOST:PORT) that connects lazily. Sends and receives
// messages up to `max_message_bytes`; `args` may carry further settings.
std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target, const TlsOptions& tls,
                                             int max_message_bytes,
                                             grpc::ChannelArguments args = {});

// A failed call's status with a hint when it is the usual transport mistake:
// UNAVAILABLE from a plaintext channel (the server may want TLS) or from a
// TLS channel (certificate not trusted, name mismatch, or the server wants a
// client certificate). Other statuses are returned unchanged.
absl::Status ExplainTransportError(const absl::Status& status, const TlsOptions& tls);

}  // namespace optout::client

#endif  // OPTOUT_CLIENT_CHANNEL_H_
