// File: tests/e2e/test_certificates.h
//
// Throwaway TLS material for tests, made at test time with the openssl
// command (no key is ever checked in): a CA, a server certificate for
// localhost / 127.0.0.1 / ::1 and a client certificate, all signed by that
// CA, with P-256 keys, valid for two days.
#ifndef OPTOUT_TESTS_E2E_TEST_CERTIFICATES_H_
#define OPTOUT_TESTS_E2E_TEST_CERTIFICATES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace optout::testing {

// Paths of PEM files.
struct TestCertificates {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string ca_key;  // for MakeClientCertificate
};

// A client certificate and its key.
struct ClientCertificate {
  std::string cert;
  std::string key;
};

// Writes the files into `dir` (which must exist), names starting with
// `prefix`, e.g. "<dir>/<prefix>server.crt". The server certificate also
// names `extra_server_names` (DNS names). Internal error with openssl's
// output when a command fails.
absl::StatusOr<TestCertificates> MakeTestCertificates(
    const std::string& dir, const std::string& prefix = "",
    const std::vector<std::string>& extra_server_names = {});

// One more client certificate signed by `ca`'s CA, files
// "<dir>/<name>.crt" and ".key", whose subject has the given attributes in
// order, e.g. {"O = Acme", "CN = crawler"} (RFC 2253 prints it reversed:
// "CN=crawler,O=Acme").
absl::StatusOr<ClientCertificate> MakeClientCertificate(const TestCertificates& ca,
                                                        const std::string& dir,
                                                        const std::string& name,
                                                        const std::vector<std::string>& subject);

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_TEST_CERTIFICATES_H_
