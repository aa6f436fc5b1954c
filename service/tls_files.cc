#include "service/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"

namespace optout::service {
namespace {

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

absl::StatusOr<TlsPem> ReadTlsFiles(const TlsServerOptions& options) {
  TlsPem pem;
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

}  // namespace optout::service
