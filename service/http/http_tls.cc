#include "service/http/http_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace optout::service::http {

struct HttpTls::Loaded {
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;  // intermediates after the leaf
  EVP_PKEY* key = nullptr;
  X509_STORE* client_ca = nullptr;  // null: no client certificate asked
  STACK_OF(X509_NAME)* client_ca_names = nullptr;

  Loaded() = default;
  Loaded(const Loaded&) = delete;
  Loaded& operator=(const Loaded&) = delete;
  ~Loaded() {
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_ca);
    sk_X509_NAME_pop_free(client_ca_names, X509_NAME_free);
  }
};

namespace {

struct BioCloser {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioCloser>;

absl::Status BadFile(absl::string_view flag, const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", path, ": ", what));
}

absl::StatusOr<std::shared_ptr<const HttpTls::Loaded>> Load(const TlsServerOptions& options) {
  auto loaded = std::make_shared<HttpTls::Loaded>();
  BioPtr certs(BIO_new_file(options.cert_file.c_str(), "r"));
  if (certs == nullptr) return BadFile("tls_cert_file", options.cert_file, "cannot be read");
  loaded->cert = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
  if (loaded->cert == nullptr) {
    return BadFile("tls_cert_file", options.cert_file, "no PEM certificate");
  }
  loaded->chain = sk_X509_new_null();
  while (X509* next = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(loaded->chain, next);
  }
  BioPtr key(BIO_new_file(options.key_file.c_str(), "r"));
  if (key == nullptr) return BadFile("tls_key_file", options.key_file, "cannot be read");
  loaded->key = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
  if (loaded->key == nullptr) {
    return BadFile("tls_key_file", options.key_file, "no unencrypted PEM private key");
  }
  if (X509_check_private_key(loaded->cert, loaded->key) != 1) {
    return BadFile("tls_key_file", options.key_file,
                   "does not belong to the certificate of --tls_cert_file");
  }
  if (!options.client_ca_file.empty()) {
    loaded->client_ca = X509_STORE_new();
    if (X509_STORE_load_file(loaded->client_ca, options.client_ca_file.c_str()) != 1) {
      return BadFile("tls_client_ca_file", options.client_ca_file, "no PEM CA certificate");
    }
    loaded->client_ca_names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (loaded->client_ca_names == nullptr) {
      return BadFile("tls_client_ca_file", options.client_ca_file, "no PEM CA certificate");
    }
  }
  ERR_clear_error();
  return std::shared_ptr<const HttpTls::Loaded>(std::move(loaded));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpTls>> HttpTls::Create(const TlsServerOptions& options) {
  std::unique_ptr<HttpTls> tls(new HttpTls(options));
  absl::Status loaded = tls->Reload();
  if (!loaded.ok()) return loaded;
  return tls;
}

absl::Status HttpTls::Reload() {
  absl::StatusOr<std::shared_ptr<const Loaded>> loaded = Load(options_);
  if (!loaded.ok()) return loaded.status();
  absl::MutexLock lock(&mu_);
  loaded_ = std::move(*loaded);
  return absl::OkStatus();
}

bool HttpTls::Configure(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!options_.client_ca_file.empty()) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_CTX_set_cert_cb(ctx, &HttpTls::OnCertificate, this);
  return true;
}

int HttpTls::OnCertificate(SSL* ssl, void* self) {
  std::shared_ptr<const Loaded> loaded;
  {
    HttpTls* tls = static_cast<HttpTls*>(self);
    absl::MutexLock lock(&tls->mu_);
    loaded = tls->loaded_;
  }
  // Every call below takes its own reference, so `loaded` may be replaced
  // by a Reload while this connection lives.
  if (SSL_use_cert_and_key(ssl, loaded->cert, loaded->key, loaded->chain, 1) != 1) return 0;
  if (loaded->client_ca != nullptr) {
    if (SSL_set1_verify_cert_store(ssl, loaded->client_ca) != 1) return 0;
    STACK_OF(X509_NAME)* names = SSL_dup_CA_list(loaded->client_ca_names);
    if (names == nullptr) return 0;
    SSL_set_client_CA_list(ssl, names);
  }
  return 1;
}

}  // namespace optout::service::http
