// File: service/verify/scope_verifier.h
//
// ScopeVerifier decides whether the owner of a host has published a scope's
// challenge token, by HTTPS file or by DNS TXT record. The registry core
// holds it through this interface so that its tests can pass a fake.
//
// Thread-safety: Verify may be called concurrently.
#ifndef OPTOUT_SERVICE_VERIFY_SCOPE_VERIFIER_H_
#define OPTOUT_SERVICE_VERIFY_SCOPE_VERIFIER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/verify/verify_options.h"

namespace optout::verify {

class ScopeVerifier {
 public:
  virtual ~ScopeVerifier() = default;
  // The method that proved it ("https" or "dns"). FailedPrecondition with
  // every method's reason ("HTTPS: answered 404; DNS: no TXT record") when
  // none did; the reason never names the host or the token.
  virtual absl::StatusOr<std::string> Verify(absl::string_view host,
                                             absl::string_view token) const = 0;
};

// Tries HTTPS first, then DNS (skipped for IP-literal hosts). Each method
// is bounded by options.timeout.
std::unique_ptr<ScopeVerifier> NewNetworkScopeVerifier(VerifyOptions options);

}  // namespace optout::verify

#endif  // OPTOUT_SERVICE_VERIFY_SCOPE_VERIFIER_H_
