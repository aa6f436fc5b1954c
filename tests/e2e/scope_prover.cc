#include "tests/e2e/scope_prover.h"

#include "absl/strings/str_cat.h"
#include "tests/e2e/optoutd_process.h"

namespace optout::testing {

std::vector<std::string> ScopeProver::ServerFlags(std::vector<std::string> more) const {
  more.insert(more.begin(), {"--testing", "--verify_dns=" + dns_.address()});
  return more;
}

absl::Status ScopeProver::Prove(client::RegistryClient& client,
                                const v1::RegisterResponse& registered) {
  for (const v1::ScopeStatus& scope : registered.scopes()) {
    dns_.Set(scope.dns_name(), {registered.challenge_token()});
  }
  absl::StatusOr<v1::VerifyResponse> verified =
      client.Verify(registered.opt_out_id(), registered.manage_token());
  if (!verified.ok()) return verified.status();
  for (const v1::ScopeStatus& scope : verified->scopes()) {
    if (scope.state() != v1::SCOPE_STATE_VERIFIED) {
      return absl::InternalError(absl::StrCat("scope ", scope.index(), " not verified: ",
                                              scope.reason()));
    }
  }
  return absl::OkStatus();
}

absl::Status ScopeProver::ProveWithCli(const std::vector<std::string>& cli_flags,
                                       const nlohmann::json& registered) {
  if (!registered.contains("challenge")) return absl::OkStatus();
  const std::string token = registered["challenge"]["token"];
  for (const auto& scope : registered["challenge"]["scopes"]) {
    dns_.Set(scope["dns_name"], {token});
  }
  std::vector<std::string> args = {OptoutCliBinary()};
  args.insert(args.end(), cli_flags.begin(), cli_flags.end());
  args.insert(args.end(), {"verify", "--id", registered["id"], "--token", registered["token"]});
  CommandResult verified = RunCommand(args);
  if (verified.exit_code != 0) {
    return absl::InternalError(absl::StrCat("optout verify: ", verified.out, verified.err));
  }
  return absl::OkStatus();
}

}  // namespace optout::testing
