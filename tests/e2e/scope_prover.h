// File: tests/e2e/scope_prover.h
//
// ScopeProver proves scope registrations for e2e tests whose subject is
// what a proven scope matches, not the proof: it runs a DNS responder on
// 127.0.0.1 (optoutd reaches it through ServerFlags()), publishes the
// challenge token of each registered scope as a TXT record, and asks the
// server to verify, as a site owner would. tests/e2e/scopes_e2e_test.cc
// covers the proof itself.
#ifndef OPTOUT_TESTS_E2E_SCOPE_PROVER_H_
#define OPTOUT_TESTS_E2E_SCOPE_PROVER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"
#include "service/verify/testing/txt_responder.h"

namespace optout::testing {

class ScopeProver {
 public:
  // --testing and --verify_dns pointing at this prover's responder, then
  // `more`.
  std::vector<std::string> ServerFlags(std::vector<std::string> more = {}) const;
  // Publishes and verifies every scope of `registered` through `client`;
  // Internal error unless all end VERIFIED.
  absl::Status Prove(client::RegistryClient& client, const v1::RegisterResponse& registered);
  // The same for an `optout register --json` answer, through
  // `optout [cli_flags] verify --id --token`.
  absl::Status ProveWithCli(const std::vector<std::string>& cli_flags,
                            const nlohmann::json& registered);

 private:
  verify::testing::TxtResponder dns_;
};

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_SCOPE_PROVER_H_
