#include "client/channel.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace optout::client {
namespace {

absl::StatusOr<std::string> ReadPem(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": cannot read the file"));
  }
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": not a PEM file"));
  }
  return text.str();
}

}  // namespace

absl::StatusOr<TlsOptions> LoadTlsOptions(const TlsFiles& files) {
  if (files.cert_file.empty() != files.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  TlsOptions tls;
  tls.enabled = files.tls || !files.ca_file.empty() || !files.cert_file.empty();
  if (!files.ca_file.empty()) {
    auto roots = ReadPem("--tls-ca", files.ca_file);
    if (!roots.ok()) return roots.status();
    tls.root_certs_pem = *std::move(roots);
  }
  if (!files.cert_file.empty()) {
    auto chain = ReadPem("--tls-cert", files.cert_file);
    if (!chain.ok()) return chain.status();
    auto key = ReadPem("--tls-key", files.key_file);
    if (!key.ok()) return key.status();
    tls.cert_chain_pem = *std::move(chain);
    tls.private_key_pem = *std::move(key);
  }
  return tls;
}

std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target, const TlsOptions& tls,
                                             int max_message_bytes, grpc::ChannelArguments args) {
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  // gRPC's own reconnect backoff grows to 2 minutes, during which every new
  // call fails at once; a client that resumes after a server restart
  // (BulkChecker) should find the server within a second or two instead.
  // (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC also uses it as the connect
  // timeout, and a short one fails connections to a busy server.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls.enabled) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls.root_certs_pem;  // empty: gRPC loads the system's roots
    ssl.pem_cert_chain = tls.cert_chain_pem;
    ssl.pem_private_key = tls.private_key_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(target, credentials, args);
}

absl::Status ExplainTransportError(const absl::Status& status, const TlsOptions& tls) {
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  const absl::string_view message = status.message();
  // gRPC reports a connection the server closed during or right after the
  // TLS handshake as "Socket closed" (TLS 1.3 tells a client without the
  // certificate only then), and OpenSSL's reasons otherwise.
  const bool closed =
      absl::StrContains(message, "Socket closed") || absl::StrContains(message, "reset by peer");
  const char* hint = nullptr;
  if (!tls.enabled) {
    if (closed) hint = "the server may require TLS: use --tls, or --tls-ca FILE for a private CA";
  } else if (absl::StrContains(message, "wrong version number")) {
    hint = "the server does not speak TLS on this port";
  } else if (absl::StrContains(message, "certificate verify failed")) {
    hint = "the server's certificate is not signed by a CA this client trusts (--tls-ca FILE)";
  } else if (absl::StrContains(message, "Peer name")) {
    hint = "the server's certificate does not name the host given in --server";
  } else if (closed || absl::StrContains(message, "alert")) {
    hint = tls.cert_chain_pem.empty()
               ? "the server may require a client certificate: use --tls-cert FILE --tls-key FILE"
               : "the server may not accept this client certificate (--tls-cert)";
  }
  if (hint == nullptr) return status;
  return absl::UnavailableError(absl::StrCat(message, "; ", hint));
}

}  // namespace optout::client
