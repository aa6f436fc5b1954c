// File: service/verify/testing/fake_scope_verifier.h
//
// A ScopeVerifier for core tests: proves every host except those refused,
// as if their owners had published the token; counts what it was asked.
#ifndef OPTOUT_SERVICE_VERIFY_TESTING_FAKE_SCOPE_VERIFIER_H_
#define OPTOUT_SERVICE_VERIFY_TESTING_FAKE_SCOPE_VERIFIER_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "service/verify/scope_verifier.h"

namespace optout::verify::testing {

class FakeScopeVerifier final : public ScopeVerifier {
 public:
  absl::StatusOr<std::string> Verify(absl::string_view host,
                                     absl::string_view token) const override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    last_token_ = std::string(token);
    if (refused_.count(std::string(host)) > 0) {
      return absl::FailedPreconditionError("HTTPS: answered 404; DNS: no TXT record");
    }
    return std::string("dns");
  }
  void Refuse(const std::string& host) {
    absl::MutexLock lock(&mu_);
    refused_.insert(host);
  }
  void Accept(const std::string& host) {
    absl::MutexLock lock(&mu_);
    refused_.erase(host);
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::string last_token() const {
    absl::MutexLock lock(&mu_);
    return last_token_;
  }

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> refused_ ABSL_GUARDED_BY(mu_);
  mutable int calls_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::string last_token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::verify::testing

#endif  // OPTOUT_SERVICE_VERIFY_TESTING_FAKE_SCOPE_VERIFIER_H_
