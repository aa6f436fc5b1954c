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
};

// Writes the files into `dir` (which must exist), names starting with
// `prefix`, e.g. "<dir>/<prefix>server.crt". The server certificate also
// names `extra_server_names` (DNS names). Internal error with openssl's
// output when a command fails.
absl::StatusOr<TestCertificates> MakeTestCertificates(
    const std::string& dir, const std::string& prefix = "",
    const std::vector<std::string>& extra_server_names = {});

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_TEST_CERTIFICATES_H_
