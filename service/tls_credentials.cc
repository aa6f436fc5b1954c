#include "service/tls_credentials.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "grpc/grpc.h"
#include "service/listen_address.h"

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

absl::StatusOr<std::string> ReadFile(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": cannot read the file"));
  }
  return text.str();
}

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using UniqueX509 = std::unique_ptr<X509, X509Deleter>;

std::unique_ptr<BIO, BioDeleter> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of a PEM bundle, after checking that the bundle
// holds at least one and nothing unparsable among them.
absl::StatusOr<UniqueX509> FirstCertificate(absl::string_view flag, const std::string& path,
                                            const std::string& pem) {
  auto bio = MemoryBio(pem);
  UniqueX509 first;
  while (UniqueX509 cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (first == nullptr) first = std::move(cert);
  }
  // Reading stops with "no start line" at the end of the bundle; anything
  // else is a damaged certificate.
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (first == nullptr || (error != 0 && ERR_GET_REASON(error) != PEM_R_NO_START_LINE)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": not a PEM certificate (BEGIN CERTIFICATE) bundle"));
  }
  return first;
}

// A passphrase callback that refuses: with the default one OpenSSL would
// prompt on the terminal for an encrypted key.
int NoPassphrase(char*, int, int, void*) { return 0; }

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

absl::StatusOr<ReloadableTlsCredentials::Pem> ReloadableTlsCredentials::ReadAndCheck(
    const TlsServerOptions& options) {
  Pem pem;
  OPTOUT_ASSIGN_OR_RETURN(pem.cert_chain, ReadFile("--tls_cert_file", options.cert_file));
  OPTOUT_ASSIGN_OR_RETURN(pem.private_key, ReadFile("--tls_key_file", options.key_file));
  OPTOUT_ASSIGN_OR_RETURN(UniqueX509 leaf,
                          FirstCertificate("--tls_cert_file", options.cert_file, pem.cert_chain));
  auto key_bio = MemoryBio(pem.private_key);
  std::unique_ptr<EVP_PKEY, KeyDeleter> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, &NoPassphrase, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file ", options.key_file, ": not an unencrypted PEM private key"));
  }
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key_file ", options.key_file,
                     " is not the key of the first certificate in --tls_cert_file ",
                     options.cert_file));
  }
  if (!options.client_ca_file.empty()) {
    OPTOUT_ASSIGN_OR_RETURN(pem.client_ca,
                            ReadFile("--tls_client_ca_file", options.client_ca_file));
    OPTOUT_RETURN_IF_ERROR(
        FirstCertificate("--tls_client_ca_file", options.client_ca_file, pem.client_ca).status());
  }
  return pem;
}

absl::StatusOr<std::unique_ptr<ReloadableTlsCredentials>> ReloadableTlsCredentials::Create(
    const TlsServerOptions& options) {
  OPTOUT_ASSIGN_OR_RETURN(Pem pem, ReadAndCheck(options));
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
  OPTOUT_ASSIGN_OR_RETURN(Pem pem, ReadAndCheck(options_));
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
  const Pem& pem = self->pem_;
  grpc_ssl_pem_key_cert_pair pair = {pem.private_key.c_str(), pem.cert_chain.c_str()};
  *config = grpc_ssl_server_certificate_config_create(
      pem.client_ca.empty() ? pem.cert_chain.c_str() : pem.client_ca.c_str(), &pair, 1);
  return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

}  // namespace optout::service
