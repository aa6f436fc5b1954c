#include "tests/e2e/test_certificates.h"

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/common/base/status_macros.h"
#include "tests/e2e/optoutd_process.h"

namespace optout::testing {
namespace {

// A configuration of our own, so the system's openssl.cnf defaults (which
// vary) add nothing.
constexpr char kCaConfig[] = R"([req]
distinguished_name = dn
x509_extensions = ca
prompt = no
[dn]
CN = optout test CA
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
)";

constexpr char kLeafConfig[] = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = optout test
)";

constexpr char kServerExtensions[] = R"(basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1)";

constexpr char kClientExtensions[] = R"(basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
)";

absl::Status Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  CommandResult result = RunCommand(args);
  if (result.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(absl::StrJoin(args, " "), " failed: ", result.out, result.err));
  }
  return absl::OkStatus();
}

// A P-256 key and a certificate for it signed by the CA.
absl::Status MakeLeaf(const std::string& base, const std::string& leaf_config,
                      const std::string& extensions, const std::string& serial,
                      const TestCertificates& ca, const std::string& ca_key,
                      const std::string& cert, const std::string& key) {
  const std::string csr = base + ".csr";
  OPTOUT_RETURN_IF_ERROR(Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-nodes", "-config", leaf_config,
                                  "-keyout", key, "-out", csr}));
  return Openssl({"x509", "-req", "-in", csr, "-CA", ca.ca_cert, "-CAkey", ca_key, "-set_serial",
                  serial, "-days", "2", "-extfile", extensions, "-out", cert});
}

}  // namespace

absl::StatusOr<TestCertificates> MakeTestCertificates(
    const std::string& dir, const std::string& prefix,
    const std::vector<std::string>& extra_server_names) {
  const std::string base = dir + "/" + prefix;
  std::ofstream(base + "ca.cnf") << kCaConfig;
  std::ofstream(base + "leaf.cnf") << kLeafConfig;
  {
    std::ofstream extensions(base + "server.ext");
    extensions << kServerExtensions;
    for (const std::string& name : extra_server_names) extensions << ",DNS:" << name;
    extensions << "\n";
  }
  std::ofstream(base + "client.ext") << kClientExtensions;
  TestCertificates certs;
  certs.ca_cert = base + "ca.crt";
  certs.server_cert = base + "server.crt";
  certs.server_key = base + "server.key";
  certs.client_cert = base + "client.crt";
  certs.client_key = base + "client.key";
  const std::string ca_key = base + "ca.key";
  certs.ca_key = ca_key;
  OPTOUT_RETURN_IF_ERROR(Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-config",
                                  base + "ca.cnf", "-keyout", ca_key, "-out", certs.ca_cert}));
  OPTOUT_RETURN_IF_ERROR(MakeLeaf(base + "server", base + "leaf.cnf", base + "server.ext", "2",
                                  certs, ca_key, certs.server_cert, certs.server_key));
  OPTOUT_RETURN_IF_ERROR(MakeLeaf(base + "client", base + "leaf.cnf", base + "client.ext", "3",
                                  certs, ca_key, certs.client_cert, certs.client_key));
  return certs;
}

absl::StatusOr<ClientCertificate> MakeClientCertificate(const TestCertificates& ca,
                                                        const std::string& dir,
                                                        const std::string& name,
                                                        const std::vector<std::string>& subject) {
  const std::string base = dir + "/" + name;
  {
    std::ofstream config(base + ".cnf");
    config << "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n";
    for (const std::string& attribute : subject) config << attribute << "\n";
  }
  std::ofstream(base + ".ext") << kClientExtensions;
  ClientCertificate out{base + ".crt", base + ".key"};
  OPTOUT_RETURN_IF_ERROR(MakeLeaf(base, base + ".cnf", base + ".ext", "4", ca, ca.ca_key,
                                  out.cert, out.key));
  return out;
}

}  // namespace optout::testing
