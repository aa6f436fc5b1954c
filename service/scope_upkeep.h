// File: service/scope_upkeep.h
//
// ScopeUpkeep runs Registry::MaintainScopes on a thread of its own: pending
// scopes expire and proven ones are re-checked without any call asking.
// Re-checks make outbound requests (each bounded by the verifier's
// timeout), so they never run on a request thread.
//
// Thread-safety: construct and destroy from one thread; the registry must
// outlive it.
#ifndef OPTOUT_SERVICE_SCOPE_UPKEEP_H_
#define OPTOUT_SERVICE_SCOPE_UPKEEP_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/registry.h"

namespace optout::service {

class ScopeUpkeep final {
 public:
  // Runs maintenance every `interval`, the first time right away.
  ScopeUpkeep(Registry* registry, absl::Duration interval);
  // Waits for a run in progress (bounded by the verifier's timeouts).
  ~ScopeUpkeep();
  ScopeUpkeep(const ScopeUpkeep&) = delete;
  ScopeUpkeep& operator=(const ScopeUpkeep&) = delete;

  // How often maintenance runs for the registry's periods: a tenth of the
  // shorter one, so that a scope expires or lapses at most ~10 % late,
  // between 200 ms and 1 h.
  static absl::Duration IntervalFor(const RegistryOptions& options);

 private:
  void Run();
  Registry* const registry_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SCOPE_UPKEEP_H_
