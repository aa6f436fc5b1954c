#include "service/verify/scope_verifier.h"

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/verify/challenge.h"
#include "service/verify/dns_txt.h"
#include "service/verify/https_challenge.h"

namespace optout::verify {
namespace {

class NetworkScopeVerifier final : public ScopeVerifier {
 public:
  explicit NetworkScopeVerifier(VerifyOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::string> Verify(absl::string_view host,
                                     absl::string_view token) const override {
    const absl::Status https = CheckHttpsChallenge(host, token, options_);
    if (https.ok()) return std::string("https");
    if (IsIpLiteral(host)) {
      return absl::FailedPreconditionError(
          absl::StrCat(https.message(), "; DNS: not available for an IP address"));
    }
    const absl::Status dns = CheckDns(host, token);
    if (dns.ok()) return std::string("dns");
    return absl::FailedPreconditionError(absl::StrCat(https.message(), "; ", dns.message()));
  }

 private:
  absl::Status CheckDns(absl::string_view host, absl::string_view token) const {
    std::string server = options_.dns_server;
    if (server.empty()) {
      std::ifstream file("/etc/resolv.conf");
      std::stringstream text;
      text << file.rdbuf();
      absl::StatusOr<std::string> found = NameserverFromResolvConf(text.str());
      if (!found.ok()) return found.status();
      server = *found;
    }
    absl::StatusOr<std::vector<std::string>> values =
        QueryTxt(ChallengeDnsName(host), server, options_.timeout);
    if (!values.ok()) {
      return absl::FailedPreconditionError(values.status().message());
    }
    for (const std::string& value : *values) {
      if (MatchesToken(value, token)) return absl::OkStatus();
    }
    return absl::FailedPreconditionError("DNS: wrong token content");
  }

  const VerifyOptions options_;
};

}  // namespace

std::unique_ptr<ScopeVerifier> NewNetworkScopeVerifier(VerifyOptions options) {
  return std::make_unique<NetworkScopeVerifier>(std::move(options));
}

}  // namespace optout::verify
