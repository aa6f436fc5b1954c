#include "service/tls_credentials.h"

#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "grpc/grpc.h"
#include "service/listen_address.h"
#include "service/tls_files.h"

namespace optout::service {
namespace {

// grpc::ServerCredentials over C-core credentials. gRPC 1.51 has no public
// C++ wrapper for SSL credentials with a config fetcher; AddPortToServer is
// the one hook grpc::Server calls to bind a port with credentials.
class CoreServerCredentials final : public grpc::ServerCredentials {
 public:
  explicit CoreServerCredentials(grpc_server_credentials* core) : core_(core) {}
  ~CoreServerCredentials() override { grpc_server_credentials_release(core_); }

  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {
    // optoutd installs none; accepting one silently would skip its checks.
    ABSL_RAW_LOG(FATAL, "CoreServerCredentials: auth metadata processors are not supported");
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), core_);
  }

  grpc_server_credentials* const core_;
};

}  // namespace

absl::Status CheckTransportSecurity(const std::string& listen, const TlsServerOptions& tls,
                                    absl::string_view flag) {
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  if (!tls.client_ca_file.empty() && !tls.enabled()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
  }
  if (!tls.enabled() && !tls.allow_insecure && !IsLoopbackListenAddress(listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " ", listen, " is reachable from the network: give --tls_cert_file and "
        "--tls_key_file, or --allow_insecure to serve plaintext anyway"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ReloadableTlsCredentials>> ReloadableTlsCredentials::Create(
    const TlsServerOptions& options) {
  OPTOUT_ASSIGN_OR_RETURN(TlsPem pem, ReadTlsFiles(options));
  std::unique_ptr<ReloadableTlsCredentials> self(new ReloadableTlsCredentials(options));
  {
    absl::MutexLock lock(&self->mu_);
    self->pem_ = std::move(pem);
  }
  // gRPC fetches the first configuration when the port is added; changed_
  // starts true so that fetch gets it.
  grpc_ssl_server_credentials_options* core_options =
      grpc_ssl_server_credentials_create_options_using_config_fetcher(
          options.client_ca_file.empty()
              ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
              : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
          &ReloadableTlsCredentials::Fetch, self.get());
  self->credentials_ = std::make_shared<CoreServerCredentials>(
      grpc_ssl_server_credentials_create_with_options(core_options));
  return self;
}

ReloadableTlsCredentials::~ReloadableTlsCredentials() = default;

absl::Status ReloadableTlsCredentials::Reload() {
  OPTOUT_ASSIGN_OR_RETURN(TlsPem pem, ReadTlsFiles(options_));
  absl::MutexLock lock(&mu_);
  pem_ = std::move(pem);
  changed_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

grpc_ssl_certificate_config_reload_status ReloadableTlsCredentials::Fetch(
    void* arg, grpc_ssl_server_certificate_config** config) {
  auto* self = static_cast<ReloadableTlsCredentials*>(arg);
  if (!self->changed_.load(std::memory_order_acquire)) {
    return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
  }
  absl::MutexLock lock(&self->mu_);
  if (!self->changed_.exchange(false, std::memory_order_acq_rel)) {
    return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
  }
  // gRPC copies the strings and owns (then destroys) the config. Its
  // reload path asserts that a root bundle is present even when no client
  // certificate is asked for; the server's own chain stands in then, and is
  // never used, since clients are then not asked for certificates at all.
  const TlsPem& pem = self->pem_;
  grpc_ssl_pem_key_cert_pair pair = {pem.private_key.c_str(), pem.cert_chain.c_str()};
  *config = grpc_ssl_server_certificate_config_create(
      pem.client_ca.empty() ? pem.cert_chain.c_str() : pem.client_ca.c_str(), &pair, 1);
  return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

}  // namespace optout::service
